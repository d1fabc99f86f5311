"""Search text for Chinese mixed with English: normalisation, segmentation, the indexed document,
the query language and highlighted snippets. Pure Python; the database side is in
kb/services/search_index.py (writes) and kb/selectors/search.py (reads). See docs/search.md.

Postgres cannot segment Chinese here (no zhparser, no pg_jieba), so Python does it with rjieba and a
user dictionary of ML terms, and hands Postgres ready-made lexemes: documents become tsvector
literals with positions and weights, queries become tsquery literals. Nothing goes through a text
search parser, so both sides always agree on what a lexeme is.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import opencc
import rjieba
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

DICTIONARY_PATH = Path(__file__).with_name("search_dictionary.txt")
STOPWORDS_PATH = Path(__file__).with_name("search_stopwords.txt")
# Bump when the segmentation code changes; the dictionary and stop list are hashed in as well.
SEGMENTER_VERSION = 2

INDEX_MAX_CHARS = 30_000  # tsvector positions stop at 16,383 and a tsvector must stay under 1 MB
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256  # Postgres keeps at most 256 positions of a lexeme
MAX_LEXEME_LENGTH = 64
MAX_PART_LENGTH = 6  # longest dictionary word looked for inside a Chinese compound
QUERY_MAX_LENGTH = 200
QUERY_MAX_GROUPS = 12
SECTION_GAP = 1  # positions left between fields, so a phrase never spans title and body

# Weights: A title, B tags, C question body (or the answer's own body), D answers.
TITLE, TAGS, BODY, ANSWERS = "A", "B", "C", "D"

_FOLDS = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u300c": '"',
        "\u300d": '"',
        "\u3010": "[",
        "\u3011": "]",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\u00ad": None,
    }
)
_WORD_CHAR = re.compile(r"\w")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_TOKEN = re.compile(r"[a-z0-9+#&._%\-]+")
_LATIN_SEPARATORS = re.compile(r"[-_.]+")
_LEXICON_WORD = re.compile(r"[a-z][a-z0-9]{2,39}")


# --- Resources: the segmenter, the converter, the stop list and the version they make ----------


def _lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _compute_version() -> int:
    checksum = zlib.crc32(f"segmenter {SEGMENTER_VERSION}\n".encode())
    for path in (DICTIONARY_PATH, STOPWORDS_PATH):
        checksum = zlib.crc32(path.read_bytes(), checksum)
    return checksum & 0x7FFFFFFF or 1  # positive, and never 0 (0 means "never indexed")


SEARCH_VERSION = _compute_version()
STOPWORDS = frozenset(_lines(STOPWORDS_PATH))


@functools.cache
def _segmenter() -> rjieba.Jieba:
    """Our own rjieba instance (kb.diff uses the shared default one), with the ML dictionary."""
    segmenter = rjieba.Jieba()
    for line in _lines(DICTIONARY_PATH):
        word, _, frequency = line.partition(" ")
        word = normalize(word)
        segmenter.add_word(word, int(frequency) if frequency.strip().isdigit() else None, None)
    return segmenter


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# --- Normalisation -----------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Full-width to half-width and other compatibility forms (NFKC), traditional to simplified
    Chinese, lower case. Applied to documents and queries alike."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLDS)
    return _converter().convert(text).lower()


@functools.lru_cache(maxsize=20_000)
def _normalize_char(char: str) -> str:
    return normalize(char)


def _normalized_with_offsets(raw: str) -> tuple[str, list[int]]:
    """normalize(raw), plus for each of its characters the index of the raw character it came
    from, so matches found in normalised text can be marked in the raw text."""
    fast = normalize(raw)
    if len(fast) == len(raw):
        return fast, list(range(len(raw)))
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(raw):
        for piece in _normalize_char(char):
            chars.append(piece)
            offsets.append(index)
    return "".join(chars), offsets


# --- Markdown to plain text ---------------------------------------------------------------------

_CODE = re.compile(
    r"^[ \t]*(?P<fence>```|~~~)[^\n]*\n(?P<block>.*?)(?:^[ \t]*(?P=fence)[^\n]*$|\Z)"
    r"|(?P<ticks>`+)(?P<inline>[^`\n]+?)(?P=ticks)",
    re.S | re.M,
)
_PROSE_RULES = [
    (re.compile(r"\$\$.*?\$\$", re.S), " "),  # display math: not words
    (re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>\n]{0,200})?/?>"), " "),  # inline HTML tags
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.M), " "),  # table rules
    (re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+]|\d{1,3}[.)])\s+", re.M), ""),  # headings, quotes, lists
    (re.compile(r"\\(?:[a-zA-Z]+|.)|[{}]"), " "),  # LaTeX commands and braces in inline math
    (re.compile(r"(\*\*|__|~~|\$|\|)"), " "),  # emphasis, math, table pipes
    (re.compile(r"(?<!\w)[*_]|[*_](?!\w)"), ""),  # single-star/underscore emphasis
]
_SPACES = re.compile(r"[ \t]+")
_LINES = re.compile(r"\s*\n\s*")


def _prose(markdown: str) -> str:
    for pattern, replacement in _PROSE_RULES:
        markdown = pattern.sub(replacement, markdown)
    return html.unescape(markdown)


def plain_text(markdown: str) -> str:
    """Readable text of a Markdown body: what is indexed and what snippets are cut from. Code
    (fenced or in backticks) is kept as written; elsewhere markup, HTML tags and display math go."""
    pieces = []
    position = 0
    for match in _CODE.finditer(markdown):
        pieces.append(_prose(markdown[position : match.start()]))
        code = match["block"] if match["fence"] else match["inline"]
        pieces.append(f" {code} ")
        position = match.end()
    pieces.append(_prose(markdown[position:]))
    return _LINES.sub("\n", _SPACES.sub(" ", "".join(pieces))).strip()


# --- Tokens and lexemes ---------------------------------------------------------------------------


def segment(normalized: str) -> list[str]:
    """rjieba's precise segmentation of normalised text (whitespace and punctuation included)."""
    return _segmenter().cut(normalized)


@functools.lru_cache(maxsize=200_000)
def token_lexemes(token: str) -> tuple[str, ...]:
    """The lexemes one precise token is indexed as: the token itself first, then its parts.

    A Chinese compound also yields the dictionary words inside it (like rjieba's `cut_for_search`,
    which stops at 3 characters; here up to MAX_PART_LENGTH), so 注意力机制 is found by 注意力 and
    by 机制, and 旋转位置编码 by 位置编码. An English term
    with separators also yields the joined form and the pieces (q-former: qformer, former), and a
    plural its singular. Whitespace and punctuation yield nothing."""
    token = token.strip().strip("._-")
    if not token or not _WORD_CHAR.search(token) or len(token) > MAX_LEXEME_LENGTH:
        return ()
    lexemes = [token]
    if _LATIN_TOKEN.fullmatch(token):
        parts = [part for part in _LATIN_SEPARATORS.split(token) if part]
        if len(parts) > 1 and not token.replace(".", "").isdigit():
            lexemes.append("".join(parts))
            lexemes.extend(part for part in parts if len(part) > 1)
        singular = _singular(token)
        if singular:
            lexemes.append(singular)
    elif len(token) > 2 and _CJK.search(token):
        segmenter = _segmenter()
        for size in range(2, min(len(token), MAX_PART_LENGTH + 1)):
            for start in range(len(token) - size + 1):
                part = token[start : start + size]
                if segmenter.has_word(part):
                    lexemes.append(part)
    return tuple(dict.fromkeys(lexemes))


def _singular(word: str) -> str:
    if (
        len(word) >= 4
        and word.endswith("s")
        and word[:-1].isalpha()
        and not word.endswith(("ss", "us", "is"))
    ):
        return word[:-1]
    return ""


def is_stopword(lexeme: str) -> bool:
    return lexeme in STOPWORDS


def is_latin(lexeme: str) -> bool:
    return bool(_LATIN_TOKEN.fullmatch(lexeme))


def edit_distance(first: str, second: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    neighbouring letters (layernrom -> layernorm is 1)."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def quote_lexeme(lexeme: str) -> str:
    """A lexeme as a tsvector/tsquery literal: quoted, quotes doubled, backslashes escaped."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


# --- Documents ---------------------------------------------------------------------------------


@dataclass
class Document:
    """A tsvector literal (positions and weights included) and the English words it holds."""

    vector: str
    latin_words: set[str]


def build_document(sections: Iterable[tuple[str, str]]) -> Document:
    """Segment (text, weight) sections into one weighted tsvector literal.

    Only the first INDEX_MAX_CHARS characters count. Stop words are left out but keep their
    position, so a phrase query can still ask for the words around them at the right distance."""
    positions: dict[str, list[str]] = {}
    position = 0
    budget = INDEX_MAX_CHARS
    for text, weight in sections:
        if budget <= 0:
            break
        if not text:
            continue
        text = normalize(text[:budget])
        budget -= len(text)
        position += SECTION_GAP
        for token in segment(text):
            lexemes = token_lexemes(token)
            if not lexemes:
                continue
            position += 1
            if lexemes[0] in STOPWORDS:
                continue
            entry = f"{min(position, MAX_POSITION)}{weight}"
            for lexeme in lexemes:
                entries = positions.setdefault(lexeme, [])
                if len(entries) < MAX_POSITIONS_PER_LEXEME:
                    entries.append(entry)
    vector = " ".join(
        f"{quote_lexeme(lexeme)}:{','.join(entries)}" for lexeme, entries in positions.items()
    )
    latin = {lexeme for lexeme in positions if _LEXICON_WORD.fullmatch(lexeme)}
    return Document(vector=vector, latin_words=latin)


def question_document(
    *, title: str, tags: Iterable[str], body: str, answers: Iterable[str]
) -> Document:
    """A question's document: title (A), tag names (B), its body (C), its live answers (D)."""
    sections = [(title, TITLE)]
    sections += [(tag, TAGS) for tag in tags]
    sections.append((plain_text(body), BODY))
    sections += [(plain_text(answer), ANSWERS) for answer in answers]
    return build_document(sections)


def answer_document(*, question_title: str, tags: Iterable[str], body: str) -> Document:
    """An answer's document: its question's title (A) and tags (B) for context, its body (C)."""
    sections = [(question_title, TITLE)]
    sections += [(tag, TAGS) for tag in tags]
    sections.append((plain_text(body), BODY))
    return build_document(sections)


# --- The query language ------------------------------------------------------------------------

_QUERY_TOKEN = re.compile(
    r'(?P<neg>-?)(?:"(?P<phrase>[^"]*)(?:"|$)|\[(?P<tag>[^\[\]]*)\]|(?P<word>[^\s"]+))'
)
_OPERATOR = re.compile(r"(?P<name>[a-z]+):(?P<value>.+)", re.I)
_INT = re.compile(r"-?\d{1,9}")
_DATE = re.compile(r"(?P<year>\d{4})(?:[-/](?P<month>\d{1,2})(?:[-/](?P<day>\d{1,2}))?)?")
_YES = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
_KINDS = {"question": "question", "questions": "question", "q": "question",
          "answer": "answer", "answers": "answer", "a": "answer"}  # fmt: skip
INT_LIMIT = 2**31 - 1


@dataclass
class ParsedQuery:
    """A search box's text, split into free words and operators (Stack Exchange syntax)."""

    text: str = ""
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded_words: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    excluded_tags: list[str] = field(default_factory=list)
    user: str | None = None
    score_min: int | None = None
    answers_min: int | None = None
    kind: str | None = None  # "question" or "answer"
    accepted: bool | None = None
    closed: bool | None = None
    created_from: date | None = None  # inclusive
    created_until: date | None = None  # exclusive

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases or self.excluded_words or self.excluded_phrases)

    @property
    def is_empty(self) -> bool:
        return self == ParsedQuery(text=self.text)


def _tag_name(text: str) -> str:
    return "-".join(normalize(text).split())[:40]


def _period(text: str, *, end: bool) -> date | None:
    match = _DATE.fullmatch(text)
    if not match:
        return None
    year = int(match["year"])
    month = int(match["month"]) if match["month"] else None
    day = int(match["day"]) if match["day"] else None
    try:
        if not 1900 <= year <= 2999:
            return None
        if day is not None:
            start = date(year, month, day)
            return start + timedelta(days=1) if end else start
        if month is not None:
            start = date(year, month, 1)
            if not end:
                return start
            return date(year + (month == 12), month % 12 + 1, 1)
        return date(year + 1, 1, 1) if end else date(year, 1, 1)
    except ValueError:
        return None


def _date_range(value: str) -> tuple[date | None, date | None] | None:
    """created:2025, created:2025-03, created:2025..2026, created:2025-01-15.., created:..2024"""
    if ".." in value:
        first, _, last = value.partition("..")
        if ".." in last or not (first or last):
            return None
        start = _period(first, end=False) if first else None
        until = _period(last, end=True) if last else None
        if (first and start is None) or (last and until is None):
            return None
        return start, until
    start, until = _period(value, end=False), _period(value, end=True)
    return (start, until) if start else None


def _apply_operator(parsed: ParsedQuery, name: str, value: str) -> bool:
    """Set a filter from name:value; False when the operator or its value is not understood."""
    name = name.lower()
    lowered = value.lower()
    if name == "user":
        parsed.user = value.lstrip("@")[:150] or None
        return parsed.user is not None
    if name in {"score", "answers"}:
        if not _INT.fullmatch(value):
            return False
        number = max(-INT_LIMIT, min(INT_LIMIT, int(value)))
        if name == "score":
            parsed.score_min = number
        else:
            parsed.answers_min = max(0, number)
        return True
    if name == "is" and lowered in _KINDS:
        parsed.kind = _KINDS[lowered]
        return True
    if name in {"accepted", "closed"} and lowered in _YES:
        setattr(parsed, name, _YES[lowered])
        return True
    if name == "created":
        period = _date_range(lowered)
        if period is None:
            return False
        parsed.created_from, parsed.created_until = period
        return True
    return False


def parse_query(text: str) -> ParsedQuery:
    """Split a query. Unknown operators and malformed values are searched as words; nothing here
    raises on any input."""
    text = unicodedata.normalize("NFKC", text or "").translate(_FOLDS)[:QUERY_MAX_LENGTH]
    parsed = ParsedQuery(text=text.strip())
    for match in _QUERY_TOKEN.finditer(text):
        negative = bool(match["neg"])
        if match["phrase"] is not None:
            phrase = " ".join(match["phrase"].split())
            if phrase:
                (parsed.excluded_phrases if negative else parsed.phrases).append(phrase)
        elif match["tag"] is not None:
            name = _tag_name(match["tag"])
            if name:
                (parsed.excluded_tags if negative else parsed.tags).append(name)
        else:
            word = match["word"]
            operator = _OPERATOR.fullmatch(word)
            if operator and not negative and _apply_operator(parsed, *operator.groups()):
                continue
            (parsed.excluded_words if negative else parsed.words).append(word)
    return parsed


# --- From words to a tsquery -------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    """Lexemes that must all be present (an AND), optionally only with given weights."""

    lexemes: tuple[str, ...]
    weights: str = ""

    def render(self, weights: str = "") -> str:
        restriction = self.weights or weights
        suffix = f":{restriction}" if restriction else ""
        parts = [f"{quote_lexeme(lexeme)}{suffix}" for lexeme in self.lexemes]
        return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


@dataclass
class TermGroup:
    """One thing the user asked for (a word of the query) and the ways a document may match it."""

    text: str
    alternatives: list[Alternative]
    latin: bool = False

    def render(self, weights: str = "") -> str:
        rendered = list(dict.fromkeys(alt.render(weights) for alt in self.alternatives))
        return rendered[0] if len(rendered) == 1 else "(" + " | ".join(rendered) + ")"


@dataclass
class Phrase:
    """Lexemes with the distance from the previous one ("a b" -> 'a' <1> 'b')."""

    steps: list[tuple[str, int]]

    def render(self, weights: str = "") -> str:
        suffix = f":{weights}" if weights else ""
        text = ""
        for lexeme, distance in self.steps:
            term = f"{quote_lexeme(lexeme)}{suffix}"
            text = term if not text else f"{text} <{distance}> {term}"
        return f"({text})" if len(self.steps) > 1 else text


@dataclass
class QueryPlan:
    """What to ask Postgres: required groups, phrases, exclusions; and what to highlight."""

    groups: list[TermGroup] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # rendered tsquery fragments
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def has_positive(self) -> bool:
        return bool(self.groups or self.phrases)

    def tsquery(self, *, relaxed: bool = False, weights: str = "") -> str:
        """Groups AND'd (OR'd when relaxed), phrases AND'd, then the exclusions (left out of the
        weight-restricted form, which only asks where the positive terms are). Empty when there
        is nothing positive to look for."""
        groups = [group.render(weights) for group in self.groups]
        if relaxed and len(groups) > 1:
            groups = ["(" + " | ".join(groups) + ")"]
        parts = groups + [phrase.render(weights) for phrase in self.phrases]
        if not parts:
            return ""
        if not weights:
            parts += [f"!{fragment}" for fragment in self.excluded]
        return " & ".join(parts)

    def excluded_tsquery(self) -> str:
        """Any excluded term, for queries that only exclude (NOT vector @@ this)."""
        return " | ".join(self.excluded)

    def highlight_terms(self) -> set[str]:
        terms: set[str] = set()
        for group in self.groups:
            for alternative in group.alternatives:
                if not alternative.weights:  # tag expansions match tags, not text
                    terms.update(alternative.lexemes)
        for phrase in self.phrases:
            terms.update(lexeme for lexeme, _distance in phrase.steps)
        return {term for term in terms if len(term) > 1 or _CJK.match(term)}


def _word_tokens(word: str) -> list[str]:
    """Non-empty cleaned precise tokens of one query word, stop words included."""
    tokens = []
    for token in segment(normalize(word)):
        lexemes = token_lexemes(token)
        if lexemes:
            tokens.append(lexemes[0])
    return tokens


def _token_group(token: str, *, corrections: dict[str, str]) -> TermGroup:
    """A token matches as itself; a compound also through all its parts ('注意事项' | ('注意' &
    '事项')); an English term also as its joined form (q-former: qformer), its singular and its
    typo correction."""
    alternatives = [Alternative((token,))]
    extras = token_lexemes(token)[1:]
    latin = is_latin(token)
    if latin:
        joined = "".join(part for part in _LATIN_SEPARATORS.split(token) if part)
        for extra in (joined, _singular(token), corrections.get(token, "")):
            if extra and extra != token:
                alternatives.append(Alternative((extra,)))
    elif extras:
        alternatives.append(Alternative(tuple(extras)))
    return TermGroup(text=token, alternatives=alternatives, latin=latin)


def alias_candidates(parsed: ParsedQuery) -> set[str]:
    """Strings of the query that might be tag names or aliases (to look up before planning)."""
    candidates = set()
    for word in parsed.words:
        whole = normalize(word).strip()
        if whole:
            candidates.add(whole)
        candidates.update(_word_tokens(word))
    return {c for c in candidates if len(c) <= 40}


def latin_words(parsed: ParsedQuery) -> set[str]:
    """English words of the free text that typo correction may look up."""
    words = set()
    for word in parsed.words:
        for token in _word_tokens(word):
            if _LEXICON_WORD.fullmatch(token) and len(token) >= 4 and token not in STOPWORDS:
                words.add(token)
    return words


def build_plan(
    parsed: ParsedQuery,
    *,
    tag_aliases: dict[str, str] | None = None,
    corrections: dict[str, str] | None = None,
) -> QueryPlan:
    """Turn the free text of a parsed query into term groups.

    Stop words are dropped; single characters are optional (dropped unless they are all the
    query has); a compound may match through its parts; a word that names a tag or one of its
    aliases also matches posts with that tag (tag_aliases maps lower-case names to tag names);
    corrections maps misspelt English words to indexed ones."""
    tag_aliases = tag_aliases or {}
    corrections = corrections or {}
    plan = QueryPlan(corrections=dict(corrections))
    singles: list[TermGroup] = []
    for word in parsed.words:
        tokens = _word_tokens(word)
        whole = normalize(word).strip()
        tag = tag_aliases.get(whole)
        if tag and len(tokens) > 1:
            # The whole word names a tag (大语言模型 for llm): it matches as all its tokens
            # together, or as the tag.
            content = tuple(t for t in tokens if t not in STOPWORDS) or tuple(tokens)
            group = TermGroup(text=whole, alternatives=[Alternative(content)])
            _add_tag(group, tag)
            plan.groups.append(group)
            continue
        for token in tokens:
            group = _token_group(token, corrections=corrections)
            if token in STOPWORDS:
                continue
            if len(token) == 1:
                singles.append(group)
            else:
                if token in tag_aliases:
                    _add_tag(group, tag_aliases[token])
                plan.groups.append(group)
    if not plan.groups and not parsed.phrases:
        plan.groups = singles  # a query of only 大 still searches (stop words are not indexed)
    plan.groups = _unique_groups(plan.groups)[:QUERY_MAX_GROUPS]
    for phrase_text in parsed.phrases:
        phrase = _phrase(phrase_text)
        if phrase:
            plan.phrases.append(phrase)
    for word in parsed.excluded_words:
        for token in _word_tokens(word):
            if token not in STOPWORDS:
                plan.excluded.append(quote_lexeme(token))
    for phrase_text in parsed.excluded_phrases:
        phrase = _phrase(phrase_text)
        if phrase:
            plan.excluded.append(phrase.render())
    return plan


def _add_tag(group: TermGroup, tag_name: str) -> None:
    """Let a group also match posts tagged `tag_name` (the tag's lexeme, weight B only)."""
    lexemes = token_lexemes(normalize(tag_name))[:1]
    if lexemes and lexemes[0] != group.text:
        group.alternatives.append(Alternative(lexemes, weights=TAGS))


def _unique_groups(groups: list[TermGroup]) -> list[TermGroup]:
    seen: set[str] = set()
    unique = []
    for group in groups:
        if group.text not in seen:
            seen.add(group.text)
            unique.append(group)
    return unique


def _phrase(text: str) -> Phrase | None:
    """Consecutive tokens at the distances the document positions will have."""
    steps: list[tuple[str, int]] = []
    distance = 0
    for token in segment(normalize(text)):
        lexemes = token_lexemes(token)
        if not lexemes:
            continue
        distance += 1
        if lexemes[0] in STOPWORDS:
            continue
        steps.append((lexemes[0], distance if steps else 0))
        distance = 0
    return Phrase(steps) if steps else None


# --- Highlighting and snippets -----------------------------------------------------------------

SNIPPET_LENGTH = 140
_SENTENCE_END = "。！？；!?;\n"
_SOFT_BREAK = "，、,:： "


def _term_pattern(terms: Iterable[str]) -> re.Pattern | None:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.escape(term)
        if is_latin(term):  # whole words only: rag must not light up inside "storage"
            escaped = rf"(?<![a-z0-9]){escaped}(?![a-z0-9])"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


def _matches(raw: str, terms: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, term) spans in the raw text, found in its normalised form."""
    pattern = _term_pattern(terms)
    if pattern is None or not raw:
        return []
    normalized, offsets = _normalized_with_offsets(raw)
    spans = []
    for match in pattern.finditer(normalized):
        start = offsets[match.start()]
        end = offsets[match.end() - 1] + 1
        spans.append((start, end, match.group()))
    return spans


def _render(raw: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    pieces = []
    position = start
    for span_start, span_end, _term in spans:
        if span_start < position or span_end > end:
            continue
        pieces.append(escape(raw[position:span_start]))
        pieces.append(f"<mark>{escape(raw[span_start:span_end])}</mark>")
        position = span_end
    pieces.append(escape(raw[position:end]))
    return " ".join("".join(pieces).split())


def highlight(raw: str, terms: Iterable[str]) -> SafeString:
    """The whole text, escaped, with the terms in <mark>."""
    return mark_safe(_render(raw, _matches(raw, terms), 0, len(raw)))  # noqa: S308 (escaped)


def snippet(raw: str, terms: Iterable[str], *, length: int = SNIPPET_LENGTH) -> SafeString:
    """About `length` characters around the densest cluster of terms, cut at the nearest sentence
    or clause boundary (Chinese or English punctuation), with the terms in <mark>."""
    spans = _matches(raw, terms)
    if spans:
        best_start, best_count = spans[0][0], 0
        for index, (span_start, _end, _term) in enumerate(spans):
            window = {term for s, _e, term in spans[index:] if s < span_start + length}
            if len(window) > best_count:
                best_start, best_count = span_start, len(window)
        start = _snap_start(raw, best_start, reach=length // 3)
    else:
        start = 0
    end = _snap_end(raw, start, length)
    text = _render(raw, spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(raw.rstrip()) else ""
    return mark_safe(f"{prefix}{text}{suffix}")  # noqa: S308 (escaped in _render)


def _snap_start(raw: str, match_start: int, *, reach: int) -> int:
    """Start at the sentence holding the match when it begins close enough before it; else a few
    characters before the match, never inside an English word."""
    floor = max(0, match_start - reach)
    for index in range(match_start - 1, floor - 1, -1):
        if raw[index] in _SENTENCE_END:
            return index + 1
    if floor == 0:
        return 0
    start = max(0, match_start - 12)
    for index in range(start, match_start):
        if raw[index] in _SOFT_BREAK:
            return index + 1
    while start > 0 and raw[start - 1].isascii() and raw[start - 1].isalnum():
        start -= 1
    return start


def _snap_end(raw: str, start: int, length: int) -> int:
    """End after a sentence or clause mark near `start + length`, or at a word boundary."""
    limit = start + length
    if limit >= len(raw):
        return len(raw)
    for marks in (_SENTENCE_END, _SOFT_BREAK):
        for index in range(limit, limit - length // 4, -1):
            if raw[index - 1] in marks:
                return index
    end = limit
    while end < len(raw) and raw[end - 1].isascii() and raw[end - 1].isalnum() and end < limit + 20:
        end += 1
    return end


def has_match(raw: str, terms: Iterable[str]) -> bool:
    return bool(_matches(raw, terms))
