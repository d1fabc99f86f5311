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
import tomllib
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import opencc
import rjieba
from django.utils.safestring import SafeString, mark_safe

DICTIONARY_PATH = Path(__file__).with_name("search_dictionary.txt")
STOPWORDS_PATH = Path(__file__).with_name("search_stopwords.txt")
CONCEPTS_PATH = Path(__file__).with_name("search_concepts.toml")
# Bump when the segmentation code changes; the dictionary and stop list are hashed in as well.
SEGMENTER_VERSION = 5

INDEX_MAX_CHARS = 30_000  # tsvector positions stop at 16,383 and a tsvector must stay under 1 MB
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256  # Postgres keeps at most 256 positions of a lexeme
MAX_LEXEME_LENGTH = 64
MAX_PART_LENGTH = 6  # longest dictionary word looked for inside a Chinese compound
QUERY_MAX_LENGTH = 200
QUERY_MAX_GROUPS = 12
MAX_ALTERNATIVES = 24  # ways one query word may match, its concept's names included
CONCEPT_MAX_WORDS = 6  # longest run of query words looked up as one concept name
SECTION_GAP = 1  # positions left between fields, so a phrase never spans title and body
# Title and tag lexemes are stored a second time with this mark and no positions: `'^ rmsnorm'`.
# A query for marked lexemes finds title and tag matches through the GIN index alone, where a
# weight-restricted query ('rmsnorm':AB) would make Postgres read every matching row's vector.
# Tokens never contain a space, so no text can produce a marked lexeme.
TITLE_MARK = "^ "

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
        if _CJK.search(word):  # English terms are whole tokens already; as dictionary words
            # they would split longer English words (orm inside normalization)
            segmenter.add_word(word, int(frequency) if frequency.strip().isdigit() else None, None)
    return segmenter


@functools.cache
def dictionary_latin_words() -> frozenset[str]:
    """The dictionary's English terms: always in the typo-correction lexicon (kb_searchword)."""
    words = set()
    for line in _lines(DICTIONARY_PATH):
        word = normalize(line.partition(" ")[0])
        if not _CJK.search(word):
            lexemes = token_lexemes(word)
            words.update(lexeme for lexeme in lexemes if _LEXICON_WORD.fullmatch(lexeme))
    return frozenset(words)


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# --- Normalisation -----------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Full-width to half-width and other compatibility forms (NFKC), traditional to simplified
    Chinese, lower case. Applied to documents and queries alike."""
    if len(text) <= _NORMALIZED_WORD_LENGTH:
        return _normalize_word(text)
    return _normalize(text)


_NORMALIZED_WORD_LENGTH = 64  # query words, runs of them, tag and concept names: remembered


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_FOLDS)
    return _converter().convert(text).lower()


# A query's words are normalised several times over (concept runs, tokens, tag names).
_normalize_word = functools.lru_cache(maxsize=50_000)(_normalize)


@functools.cache
def _fold_table() -> tuple[dict[str, str], re.Pattern]:
    """Characters that normalize() maps to another single character besides lower-casing them
    (traditional Chinese, full-width forms...), and a pattern that finds them. Built once from
    the whole Basic Multilingual Plane (about 50 ms)."""
    chars = [chr(code) for code in range(0x80, 0x10000) if not 0xD800 <= code < 0xE000]
    nfkc = [unicodedata.normalize("NFKC", char).translate(_FOLDS) for char in chars]
    simplified = _converter().convert("\n".join(nfkc)).split("\n")
    table = {}
    for char, folded in zip(chars, simplified, strict=True):
        folded = folded.lower()
        if len(folded) != 1:  # … or ㎏: no single character; keep the character itself
            folded = char.lower()[0]
        if (folded != char.lower() or len(char.lower()) != 1) and (
            folded.isalnum() or folded in "+#&._%-"
        ):  # punctuation never is in a search term: leave it, fewer replacements
            table[char] = folded
    return table, re.compile("[" + re.escape("".join(table)) + "]")


def fold(raw: str) -> str:
    """normalize() one character at a time, keeping the length, so that matches found in the
    result are at the same offsets in `raw`. A character whose normal form is longer (…, ㎏)
    stays as it is. Fast: most text needs only lower()."""
    table, special = _fold_table()
    if special.search(raw):
        raw = special.sub(lambda match: table[match.group()], raw)
    return raw.lower()


# --- Markdown to plain text ---------------------------------------------------------------------

_FENCED = re.compile(  # on "\n" + text: fences open at the start of a line
    r"\n[ \t]*(?P<fence>```|~~~)[^\n]*\n(?P<code>.*?)(?:\n[ \t]*(?P=fence)[^\n]*|\Z)", re.S
)
_INLINE_CODE = re.compile(r"(?P<ticks>`+)(?P<code>[^`\n]+?)(?P=ticks)")
# (a string that must be in the text for the rule to do anything, pattern, replacement). Every
# pattern starts with a literal or a character class, which Python's re scans for quickly; the
# rules run on every indexed post and on every result's snippet window.
_PROSE_RULES = [
    ("$$", re.compile(r"\$\$.*?\$\$", re.S), " "),  # display math: not words
    ("<", re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>\n]{0,200})?/?>"), " "),  # HTML tags
    ("](", re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # links and images: their text
    ("---", re.compile(r"\n[ \t]*\|?[ \t]*:?-{3,}[-:| \t]*(?=\n)"), "\n"),  # table rules
    (
        "\n",
        re.compile(r"\n[ \t]{0,3}(?:#{1,6}|>+|[-*+]|\d{1,3}[.)])[ \t]+"),
        "\n",
    ),  # headings, lists
    ("\\", re.compile(r"\\(?:[a-zA-Z]+|.)"), " "),  # LaTeX commands in inline math
    ("__", re.compile(r"__+"), ""),  # emphasis (single underscores stay: snake_case)
]
# Single characters of markup, replaced with str.replace (faster than any pattern).
_MARKUP_CHARS = [("*", ""), ("![", "["), ("{", " "), ("}", " "), ("|", " "), ("$", " "), ("~", " ")]


def _prose(markdown: str) -> str:
    for char, replacement in _MARKUP_CHARS:
        if char in markdown:
            markdown = markdown.replace(char, replacement)
    markdown = "\n" + markdown  # so that line rules see the first line
    for trigger, pattern, replacement in _PROSE_RULES:
        if trigger in markdown:
            markdown = pattern.sub(replacement, markdown)
    return html.unescape(markdown[1:]) if "&" in markdown else markdown[1:]


def _with_code(markdown: str, pattern: re.Pattern, prose, around: str = " ") -> str:
    """prose() applied outside the code `pattern` finds; the code itself kept as written."""
    pieces = []
    position = 0
    for match in pattern.finditer(markdown):
        pieces.append(prose(markdown[position : match.start()]))
        pieces.append(f"{around}{match['code']}{around}")
        position = match.end()
    pieces.append(prose(markdown[position:]))
    return "".join(pieces)


def _inline(markdown: str) -> str:
    return _with_code(markdown, _INLINE_CODE, _prose) if "`" in markdown else _prose(markdown)


def plain_text(markdown: str) -> str:
    """Readable text of a Markdown body: what is indexed and what snippets are cut from. Code
    (fenced or in backticks) is kept as written; elsewhere markup, HTML tags and display math go."""
    if "```" in markdown or "~~~" in markdown:
        text = _with_code("\n" + markdown, _FENCED, _inline, around="\n")
    else:
        text = _inline(markdown)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_MATH = re.compile(r"(?P<code>\$\$[^$]+?\$\$|\$[^$\n]+?\$)")
_CELL_SEPARATOR = "\ue000"  # a private-use character kept through prose(), which drops "|"
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}[-:| \t]*$")


def _compact_math(tex: str) -> str:
    """A formula as short TeX on one line: $$…$$ becomes $…$, runs of spaces one space."""
    inner = tex.strip("$").strip()
    return "$" + re.sub(r"\s+", " ", inner) + "$"


def _table_line(line: str) -> str:
    """A Markdown table row as its cells separated by " | " (a rule row: nothing)."""
    if _TABLE_RULE.match(line):
        return ""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return _CELL_SEPARATOR.join(cell for cell in cells)


def _snippet_prose(markdown: str) -> str:
    """prose() for snippets: formulas kept as compact TeX, table rows as lines of cells."""
    if "|" in markdown:
        markdown = "\n".join(
            _table_line(line) if line.lstrip().startswith("|") else line
            for line in markdown.split("\n")
        )
    if "$" not in markdown:
        return _prose(markdown)
    pieces, position = [], 0
    for match in _MATH.finditer(markdown):
        pieces.append(_prose(markdown[position : match.start()]))
        pieces.append(_compact_math(match["code"]))
        position = match.end()
    pieces.append(_prose(markdown[position:]))
    return "".join(pieces)


def snippet_text(markdown: str) -> str:
    """What snippets are cut from: the source as a reader sees it, one line per paragraph, list
    item or table row; formulas as compact TeX ($W^Q_i$), code as written, other markup gone.
    (plain_text, which is indexed, drops formulas: their letters are not words.)"""
    inline = lambda part: (  # noqa: E731
        _with_code(part, _INLINE_CODE, _snippet_prose) if "`" in part else _snippet_prose(part)
    )
    if "```" in markdown or "~~~" in markdown:
        text = _with_code("\n" + markdown, _FENCED, inline, around="\n")
    else:
        text = inline(markdown)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    text = "\n".join(line for line in lines if line)
    return text.replace(_CELL_SEPARATOR, " | ") if _CELL_SEPARATOR in text else text


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
        lexemes.extend(_word_parts(token))
    return tuple(dict.fromkeys(lexemes))


def _tiling(token: str, *, backward: bool = False) -> list[str]:
    """Dictionary words of 2+ characters that cover `token` exactly, longest first from one
    end (maximum matching), or [] when none do: 旋转位置编码 -> 旋转, 位置编码; 注意力 -> []
    (注意 leaves 力 over: 注意力 is not a kind of 注意). Chinese compounds put their head
    last, so from the back one leading character may stay over as a modifier: 层归一化 ->
    归一化, 大模型 -> 模型; a trailing one only after a word of three or more:
    注意力头 -> 注意力."""
    segmenter = _segmenter()
    parts: list[str] = []
    rest = token
    while rest:
        if len(rest) == 1 and parts and (backward or len(token) > 3):
            break  # 层|归一化, 大|模型; 注意力|头 (but not 注意|力, 光刻|机)
        for size in range(min(len(rest), len(token) - 1, MAX_PART_LENGTH), 1, -1):
            part = rest[-size:] if backward else rest[:size]
            if part != token and (segmenter.has_word(part) or not _CJK.search(part)):
                break
        else:
            return []
        parts.insert(0, part) if backward else parts.append(part)
        rest = rest[:-size] if backward else rest[size:]
    return parts


def _word_parts(token: str) -> list[str]:
    """The words a Chinese compound is made of, recursively: 缩放点积注意力 -> 缩放, 点积注意力,
    点积, 注意力. Only words that tile the compound count, so a compound is never found through a
    word that merely shares characters with it (注意力 holds no 注意)."""
    parts = _tiling(token) or _tiling(token, backward=True)
    found = []
    for part in parts:
        found.append(part)
        if len(part) > 2 and _CJK.search(part):
            found.extend(_word_parts(part))
    return found


def _singular(word: str) -> str:
    if (
        len(word) >= 4
        and word.endswith("s")
        and word[:-1].isalpha()
        and not word.endswith(("ss", "us", "is"))
    ):
        return word[:-1]
    return ""


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


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


@dataclass
class Section:
    """One field, segmented once and usable in several documents (an answer is in its own
    document and in its question's). `tokens` holds, per word, its lexemes, or () for a stop
    word (which keeps its position); `ends` the normalised length read up to each word."""

    tokens: list[tuple[str, ...]]
    ends: list[int]


@functools.lru_cache(maxsize=200_000)
def _token_entry(token: str) -> tuple[str, ...] | None:
    """What a precise token puts in a document: None (nothing, no position), () (a stop word:
    a position only) or its lexemes."""
    lexemes = token_lexemes(token)
    if not lexemes:
        return None
    return () if lexemes[0] in STOPWORDS else lexemes


@functools.lru_cache(maxsize=200_000)
def _quoted(lexeme: str) -> str:
    return quote_lexeme(lexeme)


def segment_section(text: str) -> Section:
    """Normalise and segment the first INDEX_MAX_CHARS characters of one field's plain text."""
    tokens: list[tuple[str, ...]] = []
    ends: list[int] = []
    read = 0
    for token in segment(normalize(text[:INDEX_MAX_CHARS])):
        read += len(token)
        entry = _token_entry(token)
        if entry is not None:
            tokens.append(entry)
            ends.append(read)
    return Section(tokens=tokens, ends=ends)


def assemble_document(sections: Iterable[tuple[Section, str]]) -> Document:
    """One weighted tsvector literal from (segmented section, weight) pairs, in order.

    Only the first INDEX_MAX_CHARS characters of the whole document count. Stop words are left
    out but keep their position, so a phrase query can ask for the words around them at the
    right distance. Title and tag lexemes are also stored marked (TITLE_MARK)."""
    positions: dict[str, list[str]] = {}
    marked: set[str] = set()
    position = 0
    budget = INDEX_MAX_CHARS
    for section, weight in sections:
        if budget <= 0:
            break
        position += SECTION_GAP
        title = weight in (TITLE, TAGS)
        for lexemes, end in zip(section.tokens, section.ends, strict=True):
            if end > budget:
                break
            position += 1
            if not lexemes:
                continue
            entry = f"{position if position < MAX_POSITION else MAX_POSITION}{weight}"
            for lexeme in lexemes:
                entries = positions.get(lexeme)
                if entries is None:
                    positions[lexeme] = [entry]
                elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                    entries.append(entry)
            if title:
                marked.update(lexemes)
        budget -= section.ends[-1] if section.ends else 0
    parts = [f"{_quoted(lexeme)}:{','.join(entries)}" for lexeme, entries in positions.items()]
    parts += [_quoted(TITLE_MARK + lexeme) for lexeme in marked]
    latin = {lexeme for lexeme in positions if lexeme.isascii() and _LEXICON_WORD.fullmatch(lexeme)}
    return Document(vector=" ".join(parts), latin_words=latin)


def build_document(sections: Iterable[tuple[str, str]]) -> Document:
    """Segment (plain text, weight) sections into one weighted tsvector literal."""
    return assemble_document((segment_section(text), weight) for text, weight in sections)


def question_document(
    *, title: str, tags: Iterable[str], body: str, answers: Iterable[str]
) -> Document:
    """A question's document: title (A), tag names (B), its body (C), its live answers (D)."""
    sections = [(title, TITLE)]
    sections += [(tag, TAGS) for tag in tags]
    sections.append((plain_text(body), BODY))
    sections += [(plain_text(answer), ANSWERS) for answer in answers]
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


# --- The concept lexicon -----------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One idea and its names (kb/search_concepts.toml): Chinese, English, abbreviations and
    misspellings all find each other; `narrower` are kinds of it, found by it but not back."""

    zh: tuple[str, ...] = ()
    en: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    misspellings: tuple[str, ...] = ()
    narrower: tuple[str, ...] = ()
    tag: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return self.zh + self.en + self.abbreviations + self.misspellings

    def all_names(self, tag_aliases: Iterable[str] = ()) -> tuple[list[str], list[str]]:
        """(Chinese names, English names and abbreviations) for a page, with the tag's aliases
        that no other concept claims; misspellings left out."""
        extra = [normalize(alias) for alias in tag_aliases if _unclaimed(alias)]
        zh = list(dict.fromkeys([*self.zh, *(a for a in extra if _CJK.search(a))]))
        en = list(dict.fromkeys([*self.en, *self.abbreviations,
                                 *(a for a in extra if not _CJK.search(a))]))  # fmt: skip
        return zh, en


@functools.cache
def concepts() -> tuple[Concept, ...]:
    """The concept lexicon, names normalised as queries are."""
    data = tomllib.loads(CONCEPTS_PATH.read_text(encoding="utf-8"))
    found = []
    for entry in data.get("concept", []):

        def names(key: str, entry=entry) -> tuple[str, ...]:
            return tuple(dict.fromkeys(" ".join(normalize(n).split()) for n in entry.get(key, [])))

        found.append(
            Concept(
                zh=names("zh"),
                en=names("en"),
                abbreviations=names("abbr"),
                misspellings=names("misspellings"),
                narrower=names("narrower"),
                tag=entry.get("tag", ""),
            )
        )
    return tuple(found)


@functools.cache
def _concepts_by_name() -> dict[str, Concept]:
    index: dict[str, Concept] = {}
    for concept in concepts():
        for name in concept.names:
            index.setdefault(name, concept)  # the first concept that names it keeps the name
    return index


def concept_named(name: str) -> Concept | None:
    """The concept one of whose names is `name` (normalised, words separated by one space)."""
    return _concepts_by_name().get(name)


def concept_of_tag(tag_name: str) -> Concept | None:
    for concept in concepts():
        if concept.tag == tag_name:
            return concept
    return None


def concept_words(words: list[str]) -> list[str]:
    """Query words with runs that name a concept joined: ["mixture", "of", "experts"] ->
    ["mixture of experts"]."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        for size in range(min(CONCEPT_MAX_WORDS, len(words) - index), 1, -1):
            run = " ".join(words[index : index + size])
            if concept_named(" ".join(normalize(run).split())):
                joined.append(run)
                index += size
                break
        else:
            joined.append(words[index])
            index += 1
    return joined


# --- From words to a tsquery -------------------------------------------------------------------


def _term(lexeme: str, in_title: bool) -> str:
    return quote_lexeme(TITLE_MARK + lexeme if in_title else lexeme)


@dataclass(frozen=True)
class Alternative:
    """Lexemes that must all be present (an AND); in the title or tags only when `in_title`."""

    lexemes: tuple[str, ...]
    in_title: bool = False

    def render(self, in_title: bool = False) -> str:
        parts = [_term(lexeme, in_title or self.in_title) for lexeme in self.lexemes]
        return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


@dataclass
class TermGroup:
    """One thing the user asked for (a word of the query) and the ways a document may match it."""

    text: str
    alternatives: list[Alternative]
    latin: bool = False
    # The words a Chinese compound is made of (缩放点积注意力: 缩放, 点积注意力, 点积, 注意力): a
    # relaxed query lets any of them stand in, so a post with only a part is a partial match.
    parts: tuple[str, ...] = ()

    def render(self, in_title: bool = False, *, relaxed: bool = False) -> str:
        alternatives = list(self.alternatives)
        if relaxed:
            alternatives += [Alternative((part,)) for part in self.parts]
        rendered = list(dict.fromkeys(alt.render(in_title) for alt in alternatives))
        return rendered[0] if len(rendered) == 1 else "(" + " | ".join(rendered) + ")"


@dataclass
class Phrase:
    """Lexemes with the distance from the previous one ("a b" -> 'a' <1> 'b')."""

    steps: list[tuple[str, int]]

    def render(self, in_title: bool = False) -> str:
        """In the title (marked lexemes have no positions) a phrase is its words, in any order."""
        text = ""
        for lexeme, distance in self.steps:
            term = _term(lexeme, in_title)
            operator = "&" if in_title else f"<{distance}>"
            text = term if not text else f"{text} {operator} {term}"
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

    @property
    def can_relax(self) -> bool:
        """Whether a relaxed query finds more: several words, or a compound with parts."""
        return len(self.groups) > 1 or any(group.parts for group in self.groups)

    def tsquery(self, *, relaxed: bool = False, in_title: bool = False) -> str:
        """Groups AND'd (OR'd when relaxed), phrases AND'd, then the exclusions. `in_title` asks
        for the positive terms in the title or tags only (exclusions left out). Empty when there
        is nothing positive to look for."""
        groups = [group.render(in_title, relaxed=relaxed) for group in self.groups]
        if relaxed and len(groups) > 1:
            groups = ["(" + " | ".join(groups) + ")"]
        parts = groups + [phrase.render(in_title) for phrase in self.phrases]
        if not parts:
            return ""
        if not in_title:
            parts += [f"!{fragment}" for fragment in self.excluded]
        return " & ".join(parts)

    def excluded_tsquery(self) -> str:
        """Any excluded term, for queries that only exclude (NOT vector @@ this)."""
        return " | ".join(self.excluded)

    def highlight_terms(self, *, relaxed: bool = False) -> set[str]:
        terms: set[str] = set()
        for group in self.groups:
            for alternative in group.alternatives:
                if not alternative.in_title:  # tag expansions match tags, not text
                    terms.update(alternative.lexemes)
            if relaxed:
                terms.update(group.parts)
        for phrase in self.phrases:
            terms.update(lexeme for lexeme, _distance in phrase.steps)
        return {term for term in terms if len(term) > 1 or _CJK.match(term)}


def word_tokens(word: str) -> list[str]:
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
    latin = is_latin(token)
    if latin:
        joined = "".join(part for part in _LATIN_SEPARATORS.split(token) if part)
        for extra in (joined, _singular(token), corrections.get(token, "")):
            if extra and extra != token:
                alternatives.append(Alternative((extra,)))
        return TermGroup(text=token, alternatives=alternatives, latin=latin)
    return TermGroup(text=token, alternatives=alternatives, parts=token_lexemes(token)[1:])


def group_matcher(group: TermGroup):
    """A test of whether a title (folded with fold()) holds the group: one of its alternatives
    (tag alternatives aside) with all its lexemes, English ones as whole words."""
    alternatives = [alt.lexemes for alt in group.alternatives if not alt.in_title]

    def matches(folded: str) -> bool:
        return any(
            all(lexeme in folded and _find_all(folded, (lexeme,), first_only=True)
                for lexeme in lexemes)
            for lexemes in alternatives
        )  # fmt: skip

    return matches


def alias_candidates(parsed: ParsedQuery) -> set[str]:
    """Strings of the query that might be tag names or aliases (to look up before planning)."""
    candidates = set()
    for word in concept_words(parsed.words):
        whole = normalize(word).strip()
        if whole:
            candidates.add(whole)
        candidates.update(word_tokens(word))
    for candidate in list(candidates):  # the tags of named concepts bring their aliases
        concept = concept_named(candidate)
        if concept and concept.tag:
            candidates.add(concept.tag)
    return {c for c in candidates if len(c) <= 40}


def latin_words(parsed: ParsedQuery) -> set[str]:
    """English words of the free text that typo correction may look up."""
    words = set()
    for word in parsed.words:
        for token in word_tokens(word):
            if _LEXICON_WORD.fullmatch(token) and len(token) >= 4 and token not in STOPWORDS:
                words.add(token)
    return words


def build_plan(
    parsed: ParsedQuery,
    *,
    tag_aliases: dict[str, str] | None = None,
    tag_names: dict[str, list[str]] | None = None,
    corrections: dict[str, str] | None = None,
) -> QueryPlan:
    """Turn the free text of a parsed query into term groups.

    Stop words are dropped; single characters are optional (dropped unless they are all the
    query has); a word that names a concept of the lexicon (kb/search_concepts.toml) also matches
    the concept's other names, in both languages, and its narrower terms; a word that names a tag
    or one of its aliases also matches posts with that tag (tag_aliases maps lower-case names to
    tag names; tag_names maps a tag's name to its aliases, which are names of its concept);
    corrections maps misspelt English words to indexed ones."""
    tag_aliases = tag_aliases or {}
    tag_names = tag_names or {}
    corrections = corrections or {}
    plan = QueryPlan(corrections=dict(corrections))
    singles: list[TermGroup] = []
    for word in concept_words(parsed.words):
        tokens = word_tokens(word)
        whole = normalize(word).strip()
        tag = tag_aliases.get(whole)
        concept = concept_named(whole)
        if (tag or concept) and len(tokens) > 1:
            # The whole word names a tag or a concept (大语言模型 for llm, "mixture of experts"):
            # it matches as all its tokens together, or as the concept's other names, or the tag.
            content = tuple(t for t in tokens if t not in STOPWORDS) or tuple(tokens)
            group = TermGroup(text=whole, alternatives=[Alternative(content)])
            _expand(group, concept, tag, tag_names)
            plan.groups.append(group)
            continue
        for token in tokens:
            group = _token_group(token, corrections=corrections)
            if token in STOPWORDS:
                continue
            if len(token) == 1:
                singles.append(group)
            else:
                _expand(group, concept_named(token), tag_aliases.get(token), tag_names)
                plan.groups.append(group)
    if not plan.groups and not parsed.phrases:
        plan.groups = singles  # a query of only 大 still searches (stop words are not indexed)
    plan.groups = _unique_groups(plan.groups)[:QUERY_MAX_GROUPS]
    for phrase_text in parsed.phrases:
        phrase = _phrase(phrase_text)
        if phrase:
            plan.phrases.append(phrase)
    for word in parsed.excluded_words:
        for token in word_tokens(word):
            if token not in STOPWORDS:
                plan.excluded.append(quote_lexeme(token))
    for phrase_text in parsed.excluded_phrases:
        phrase = _phrase(phrase_text)
        if phrase:
            plan.excluded.append(phrase.render())
    return plan


def _expand(
    group: TermGroup, concept: Concept | None, tag: str | None, tag_names: dict[str, list[str]]
) -> None:
    """Let a group also match its concept's names (when no concept of the lexicon names the
    word: its tag's names in the other language) and the posts tagged with its tag."""
    if concept is None and tag is None:
        return
    names: list[str] = []
    if concept is not None:
        names += concept.names + concept.narrower
        if concept.tag:
            names += [alias for alias in tag_names.get(concept.tag, ()) if _unclaimed(alias)]
    else:  # a tag's names in the other language translate the word (提示压缩: prompt-compression);
        # in the same one they are often kinds of it (blip: blip-2, instructblip), not synonyms
        chinese = bool(_CJK.search(group.text))
        names += [
            name
            for name in [tag, *tag_names.get(tag, ())]
            if bool(_CJK.search(name)) != chinese and _unclaimed(name)
        ]
    known = {alternative.lexemes for alternative in group.alternatives}
    for name in names:
        lexemes = _name_lexemes(name)
        if lexemes and lexemes not in known and len(group.alternatives) < MAX_ALTERNATIVES:
            known.add(lexemes)
            group.alternatives.append(Alternative(lexemes))
    for tag_name in dict.fromkeys(name for name in (tag, concept and concept.tag) if name):
        _add_tag(group, tag_name)


def _unclaimed(alias: str) -> bool:
    """A tag alias that no concept of the lexicon names (layernorm, an alias of the tag
    normalization, is a concept of its own: it is not a synonym of 归一化)."""
    return concept_named(normalize(alias).strip()) is None


@functools.lru_cache(maxsize=4096)
def _name_lexemes(name: str) -> tuple[str, ...]:
    """The lexemes a document must hold to contain a concept name (all of them)."""
    tokens = word_tokens(name)
    return tuple(t for t in tokens if t not in STOPWORDS) or tuple(tokens)


def _add_tag(group: TermGroup, tag_name: str) -> None:
    """Let a group also match posts tagged `tag_name` (the tag's lexeme, marked: title or tags)."""
    lexemes = token_lexemes(normalize(tag_name))[:1]
    if lexemes and lexemes[0] != group.text:
        group.alternatives.append(Alternative(lexemes, in_title=True))


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


def _is_boundary(text: str, start: int, end: int) -> bool:
    """An English term must start a word: rag must not light up inside "storage" (it may go on:
    embedding in "embeddings"; the words marked are the segmented ones, see _word_spans)."""
    return not (start > 0 and text[start - 1].isascii() and text[start - 1].isalnum())


def _find_all(folded: str, terms: Iterable[str], *, first_only: bool = False):
    """(start, end, term) of every occurrence, longest first where they overlap. str.find runs
    at C speed, where a regular expression alternating the terms would try each at each place."""
    spans = []
    for term in terms:
        latin = is_latin(term)
        position = folded.find(term)
        while position != -1:
            end = position + len(term)
            if not latin or _is_boundary(folded, position, end):
                spans.append((position, end, term))
                if first_only:
                    break
            position = folded.find(term, position + 1)
    spans.sort(key=lambda span: (span[0], span[0] - span[1]))
    kept, reach = [], 0
    for span in spans:
        if span[0] >= reach:
            kept.append(span)
            reach = span[1]
    return kept


def _matches(raw: str, terms: Iterable[str]) -> list[tuple[int, int, str]]:
    """(start, end, term) spans of the terms in the raw text (found in its folded form)."""
    terms = [term for term in terms if term]
    if not terms or not raw:
        return []
    return _find_all(fold(raw), terms)


def escape(text: str) -> str:
    """django.utils.html.escape without its lazy-string wrapper (the same output, faster)."""
    return html.escape(text, quote=True)


# The runs of text rjieba segments one at a time (jieba's re_han: CJK, ASCII letters and digits,
# +#&._%-); everything else (spaces, punctuation, $) is a token of its own. A word never spans two
# runs, so only the runs that can hold a term need segmenting.
_SEGMENT_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-zA-Z0-9+#&._%\-]+")


def _word_spans(raw: str, terms: set[str], start: int, end: int) -> list[tuple[int, int, str]]:
    """The whole words of raw[start:end] that hold a term: the text is segmented (folded, so the
    offsets stay) and a word is marked when the term is one of its lexemes, so 注意 is never
    marked inside 注意力, and "embeddings" is marked whole for embedding. Formulas ($…$) are
    left alone.

    A lexeme of a word is part of the word or of the word without its separators (q-former:
    qformer), so only the runs that hold a term that way are segmented."""
    folded = fold(raw[start:end])
    spans = []
    for run in _SEGMENT_RUN.finditer(folded):
        text = run.group()
        joined = _LATIN_SEPARATORS.sub("", text) if ("-" in text or "_" in text or "." in text) \
            else text  # fmt: skip
        if not any(term in text or term in joined for term in terms):
            continue
        if folded.count("$", 0, run.start()) % 2:
            continue  # inside a formula
        position = start + run.start()
        for token in segment(text):
            token_end = position + len(token)
            lexemes = token_lexemes(token)
            hit = next((lexeme for lexeme in lexemes if lexeme in terms), None)
            if hit:
                spans.append((position, token_end, hit))
            position = token_end
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
    lines = ("".join(pieces)).split("\n")  # lines stay apart (table rows, list items)
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def highlight(raw: str, terms: Iterable[str]) -> SafeString:
    """The whole text, escaped, with the words that hold the terms in <mark>."""
    terms = {term for term in terms if term}
    spans = _word_spans(raw, terms, 0, len(raw)) if terms and has_match(raw, terms) else []
    return mark_safe(_render(raw, spans, 0, len(raw)))  # noqa: S308 (escaped)


def snippet(raw: str, terms: Iterable[str], *, length: int = SNIPPET_LENGTH) -> SafeString:
    """About `length` characters around the densest cluster of terms, cut at the nearest sentence
    or clause boundary (Chinese or English punctuation), with the terms in <mark>."""
    terms = {term for term in terms if term}
    spans = _matches(raw, terms)
    if spans:
        best_start, best_count = spans[0][0], 0
        for index, (span_start, _end, _term) in enumerate(spans):
            window = {term for s, _e, term in spans[index:] if s < span_start + length}
            if len(window) > best_count:
                best_start, best_count = span_start, len(window)
        start = _start_outside_math(raw, _snap_start(raw, best_start, reach=length // 3))
    else:
        start = 0
    end = _outside_math(raw, start, _snap_end(raw, start, length))
    text = _render(raw, _word_spans(raw, terms, start, end) if spans else [], start, end)
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


def _outside_math(raw: str, start: int, end: int) -> int:
    """An end that does not cut a formula: after its closing $ when near, else before it."""
    if raw.count("$", start, end) % 2 == 0:
        return end
    opening = raw.rfind("$", start, end)
    closing = raw.find("$", end)
    if closing != -1 and closing - end < SNIPPET_LENGTH // 2:
        return closing + 1
    if opening > start + SNIPPET_LENGTH // 3:
        return opening
    return closing + 1 if closing != -1 else len(raw)


def _start_outside_math(raw: str, start: int) -> int:
    """A start that is not inside a formula: its opening $ (formulas never span lines here)."""
    line_start = raw.rfind("\n", 0, start) + 1
    if raw.count("$", line_start, start) % 2:
        return raw.rfind("$", line_start, start)
    return start


def has_match(raw: str, terms: Iterable[str]) -> bool:
    terms = [term for term in terms if term]
    return bool(terms and _find_all(fold(raw), terms, first_only=True))


SNIPPET_WINDOW = 400  # Markdown characters around the first match that are made plain text


def markdown_snippet(markdown: str, terms: Iterable[str]) -> SafeString | None:
    """A snippet of a Markdown body around its first match, or None when the terms are not in
    it. Only a window of the body is turned into plain text: a page of results stays cheap
    whatever the length of the posts."""
    terms = [term for term in terms if term]
    found = _find_all(fold(markdown), terms, first_only=True) if terms else []
    if not found:
        return None
    first, last = found[0][0], found[0][1]
    start = markdown.rfind("\n", 0, max(0, first - SNIPPET_WINDOW // 2)) + 1
    end = markdown.find("\n", last + SNIPPET_WINDOW // 2)
    end = len(markdown) if end == -1 else end
    text = snippet(snippet_text(markdown[start:end]), terms)
    if start > 0 and not text.startswith("…"):
        text = mark_safe("…" + text)  # noqa: S308 (escaped by snippet)
    if end < len(markdown.rstrip()) and not text.endswith("…"):
        text = mark_safe(text + "…")  # noqa: S308 (escaped by snippet)
    return text


def leading_snippet(markdown: str) -> SafeString:
    """The beginning of a Markdown body, for a result whose match is not in its text."""
    end = markdown.find("\n", SNIPPET_WINDOW)
    text = snippet(snippet_text(markdown if end == -1 else markdown[:end]), ())
    if end != -1 and not text.endswith("…"):
        text = mark_safe(text + "…")  # noqa: S308 (escaped by snippet)
    return text
