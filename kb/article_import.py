"""Import an interview-notes article (text, Markdown or HTML) as questions with one answer each.

The parsing is pure and needs no database: `article_decode` turns the file's bytes into text (or
raises ArticleError), `article_parse` turns the text into an ArticlePlan. `article_plan_write`
writes a plan through the ordinary services (question_create, answer_create), in one transaction.

What the parser expects: a page title, section headings ("LLM相关问题:"), each question as a
short line (ending in "?" or "？", a Markdown/HTML heading, or "介绍一下…"), then the answer as
paragraphs and lists. Consecutive question lines belong to one question. Web junk (breadcrumb,
share and footer lines, everything from a "相关文章:" line on) is dropped.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kb.models import Question
from kb.rules import rule
from kb.selectors.tags import tag_list
from kb.services.answers import answer_create
from kb.services.questions import question_create

DEFAULT_TAG = "llm"
MAX_SUGGESTED_TAGS = 5
PLAIN_QUESTION_MAX_LENGTH = 100  # a longer line ending in "？" is a sentence of an answer
IMPERATIVE_QUESTION_MAX_LENGTH = 60
SECTION_MAX_LENGTH = 30

# How much one mention of a tag's name or alias counts, by where it is; a tag needs TAG_MIN_SCORE.
TITLE_WEIGHT = 4
SECTION_WEIGHT = 3
ANSWER_WEIGHT = 1
TAG_MIN_SCORE = 3
SECTION_HINTS = {"多模态": ("vlm", "multimodal"), "视觉": ("vlm",), "图文": ("vlm", "multimodal")}

QUESTION_END = re.compile(r"[?？]\s*[)）]?$")
IMPERATIVE = re.compile(
    r"^(介绍一下|请介绍|简单介绍|简要介绍|简述|说说|说一说|讲讲|讲一讲|谈谈|请解释|请说明|请描述|"
    r"请比较|请列举|手写|手撕)"
)
SENTENCE_END = ("。", "；", ";", "，", ",", "：", ":", "！", "!")
ENUMERATOR = re.compile(
    r"^(?:Q\s*\d+|问题\s*\d+|第\s*\d+\s*题|\d{1,3}\s*[、.．)）](?!\d)|[（(]\d{1,3}[)）]"
    r"|[一二三四五六七八九十]{1,3}\s*[、.．]|问(?=\s*[:：]))\s*[:：.、]?\s*",
    re.IGNORECASE,
)
PLAIN_SECTION = re.compile(r"(相关问题|相关面试题|面试题|问题汇总|常见问题|篇)$")
HEADING_SECTION = re.compile(r"(问题|面试题|问答|篇|部分|专题)$")
ANSWER_PREFIX = re.compile(r"^(答|回答|A)\s*[:：]\s*")

HEADING = re.compile(r"^(#{1,6})\s+(.*?)(\s+#+)?\s*$")
LIST_ITEM = re.compile(
    r"^(?P<indent> *)(?:(?P<bullet>[-*+](?= )|[•·●▪◦‣○■□])"
    r"|(?P<number>\d{1,3})[.．)）、](?!\d)|[（(](?P<paren>\d{1,3})[)）])\s*(?P<text>.*)$"
)
FENCE = re.compile(r"^\s*(```|~~~)")

BREADCRUMB = re.compile(
    r"^(当前位置|您的位置|你的位置|当前页面)\s*[:：]|^(首页|主页|home)\s*(>|»|›|/)", re.IGNORECASE
)
FOOTER = re.compile(
    r"^(分享到|分享至|上一篇|下一篇|本文链接|原文链接|原文地址|版权声明|版权所有|转载请|本文来源|"
    r"copyright|©|返回顶部|扫码关注|扫一扫|打赏|点赞\s*[(（\d]|"
    r"(发布时间|发布于|更新时间|作者|来源|标签|阅读|浏览|tags?)\s*[(（:：])",
    re.IGNORECASE,
)
TRAILER = re.compile(
    r"^(相关文章|相关阅读|相关推荐|推荐阅读|猜你喜欢|热门文章|延伸阅读|最新文章)\s*[:：]?$"
)


class ArticleError(ValueError):
    """The file cannot be imported; the message says why, for a person."""


@dataclass(frozen=True)
class ArticleItem:
    title: str
    body: str
    answer: str
    section: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ArticlePlan:
    page_title: str
    items: tuple[ArticleItem, ...]
    unanswered: tuple[str, ...] = ()  # question titles with no answer text; not imported
    dropped_lines: tuple[str, ...] = ()  # breadcrumb, share, footer and "相关文章" lines


@dataclass
class ArticleImportResult:
    created: list[Question] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# --- bytes -> text ----------------------------------------------------------------------------


def article_decode(data: bytes) -> str:
    """The file's text; ArticleError for binary, empty or non-UTF-8 content."""
    if b"\x00" in data:
        raise ArticleError("the file contains NUL bytes: it looks binary, not UTF-8 text")
    if not data.strip():
        raise ArticleError("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArticleError(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from error
    return text.removeprefix("\ufeff")


def article_is_html(text: str, *, source_name: str = "") -> bool:
    suffix = PurePath(source_name).suffix.lower()
    if suffix in (".html", ".htm"):
        return True
    if suffix in (".md", ".markdown", ".txt"):
        return False
    return re.match(r"\s*(<!doctype html|<html|<body|<h1)", text, re.IGNORECASE) is not None


# --- HTML -> Markdown-like lines ----------------------------------------------------------------


class _HtmlToText(HTMLParser):
    """h1-h6 -> "# …", p/div/br -> lines, li in ul/ol -> "- "/"1. " indented by nesting depth,
    pre -> a code fence; script, style, nav, footer and the like are dropped."""

    SKIP = {"script", "style", "noscript", "template", "nav", "footer", "aside", "iframe", "svg"}
    SKIP |= {"button", "form", "select"}
    BLOCK = {"p", "div", "section", "article", "main", "header", "blockquote", "table", "tr"}
    BLOCK |= {"dl", "dt", "dd", "figure", "figcaption", "hr", "body", "html", "center"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.prefix = ""
        self.skip_depth = 0
        self.lists: list[list] = []  # [kind, counter]
        self.items: list[str] = []  # continuation indent of each open <li>
        self.heading_level = 0
        self.saw_h1 = False
        self.title_parts: list[str] | None = None
        self.title = ""
        self.pre_parts: list[str] | None = None

    def flush(self) -> None:
        text = "".join(self.parts).strip()
        self.parts = []
        if not text:
            return
        if self.heading_level:
            self.lines.append(f"{'#' * self.heading_level} {text}")
        else:
            self.lines.append(self.prefix + text)
            self.prefix = self.items[-1] if self.items else ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        if self.skip_depth:
            return
        if tag == "title":
            self.title_parts = []
        elif tag == "pre":
            self.flush()
            self.pre_parts = []
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading_level = int(tag[1])
            self.saw_h1 = self.saw_h1 or tag == "h1"
        elif tag in ("ul", "ol"):
            self.flush()
            start = dict(attrs).get("start") or "1"
            self.lists.append([tag, int(start) - 1 if start.isdigit() else 0])
        elif tag == "li":
            self.flush()
            kind, depth = ("ul", 1)
            if self.lists:
                self.lists[-1][1] += 1
                kind, depth = self.lists[-1][0], len(self.lists)
            marker = "-" if kind == "ul" else f"{self.lists[-1][1]}."
            self.prefix = "  " * (depth - 1) + marker + " "
            self.items.append(" " * len(self.prefix))
        elif tag == "br" or tag in self.BLOCK:
            self.flush()
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag in self.SKIP:
                self.skip_depth -= 1
            return
        if tag == "title" and self.title_parts is not None:
            self.title = " ".join("".join(self.title_parts).split())
            self.title_parts = None
        elif tag == "pre" and self.pre_parts is not None:
            code = "".join(self.pre_parts).strip("\n")
            self.lines += ["", "```", *code.split("\n"), "```", ""]
            self.pre_parts = None
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading_level = 0
            self.lines.append("")
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "li":
            self.flush()
            if self.items:
                self.items.pop()
            self.prefix = self.items[-1] if self.items else ""
        elif tag in self.BLOCK:
            self.flush()
            if not self.items:
                self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.title_parts is not None:
            self.title_parts.append(data)
        elif self.pre_parts is not None:
            self.pre_parts.append(data)
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        self.flush()
        lines = self.lines
        if not self.saw_h1 and self.title:
            # "KV Cache 面试题 - 某某博客" -> "KV Cache 面试题"
            title = re.split(r"\s+[-|–—_]\s+|_", self.title)[0].strip()
            lines = [f"# {title}", "", *lines]
        return "\n".join(lines)


def html_to_text(html: str) -> str:
    """Markdown-like lines for an HTML page (stdlib html.parser only)."""
    parser = _HtmlToText()
    parser.feed(html)
    parser.close()
    return parser.text()


# --- lines -> plan ------------------------------------------------------------------------------


@dataclass
class _Line:
    kind: str  # blank, heading, item, text, code
    text: str  # without heading/list markers; the whole block for code
    indent: int = 0
    level: int = 0
    marker: str = ""  # "-" or "3."
    role: str = "content"  # title, section, question, content


def _plain(text: str) -> str:
    """Text without surrounding bold markers and whitespace."""
    text = text.strip()
    for mark in ("**", "__"):
        if len(text) > 4 and text.startswith(mark) and text.endswith(mark):
            text = text[2:-2].strip()
    return text


def _question_text(text: str) -> str:
    return " ".join(ENUMERATOR.sub("", _plain(text), count=1).split())


def _tokenize(text: str) -> list[_Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    lines: list[_Line] = []
    fence: list[str] | None = None
    for raw in text.split("\n"):
        raw = raw.rstrip().replace("\u3000", "  ")
        if fence is not None:
            fence.append(raw)
            if FENCE.match(raw):
                lines.append(_Line("code", "\n".join(fence)))
                fence = None
            continue
        if FENCE.match(raw):
            fence = [raw.strip()]
            continue
        stripped = raw.strip()
        if not stripped:
            lines.append(_Line("blank", ""))
        elif heading := HEADING.match(stripped):
            lines.append(_Line("heading", _plain(heading[2]), level=len(heading[1])))
        elif (item := LIST_ITEM.match(raw)) and item["text"].strip():
            number = item["number"] or item["paren"]
            marker = f"{int(number)}." if number else "-"
            lines.append(_Line("item", item["text"].strip(), len(item["indent"]), marker=marker))
        else:
            lines.append(_Line("text", stripped, indent=len(raw) - len(raw.lstrip())))
    if fence is not None:  # an unclosed fence: close it
        lines.append(_Line("code", "\n".join([*fence, fence[0][:3]])))
    return lines


def _is_junk(line: _Line) -> bool:
    """A breadcrumb, share, meta or footer line ("作者：张三" is one; "作者认为…" is not)."""
    if line.kind not in ("text", "heading", "item"):
        return False
    text = _plain(line.text)
    return BREADCRUMB.search(text) is not None or FOOTER.match(text) is not None


def _strip_junk(lines: list[_Line]) -> tuple[list[_Line], list[str]]:
    """Drop breadcrumb/share/footer lines, and everything from a "相关文章:" line that follows
    the first question-like line (an earlier one is dropped alone)."""
    kept: list[_Line] = []
    dropped: list[str] = []
    seen_question = False
    for index, line in enumerate(lines):
        text = _plain(line.text) if line.kind != "code" else ""
        if line.kind in ("text", "heading") and TRAILER.match(text):
            if seen_question:
                dropped += [other.text for other in lines[index:] if other.kind != "blank"]
                break
            dropped.append(line.text)
            continue
        if _is_junk(line):
            dropped.append(line.text)
            continue
        if line.kind in ("text", "heading", "item") and QUESTION_END.search(text):
            seen_question = True
        kept.append(line)
    return kept, dropped


def _is_plain_question(text: str) -> bool:
    title_min = int(rule("TITLE_MIN_LENGTH"))
    if QUESTION_END.search(text):
        return title_min <= len(text) <= PLAIN_QUESTION_MAX_LENGTH
    return (
        IMPERATIVE.match(text) is not None
        and title_min <= len(text) <= IMPERATIVE_QUESTION_MAX_LENGTH
        and not text.endswith(SENTENCE_END)
    )


def _section_text(text: str) -> str:
    return _question_text(text).rstrip(":：").strip()


def _assign_roles(lines: list[_Line], *, list_questions: bool) -> None:
    """Mark each line title / section / question / content."""
    title_min = int(rule("TITLE_MIN_LENGTH"))
    for line in lines:
        line.role = "content"
    first = next((line for line in lines if line.kind != "blank"), None)
    if (
        first is not None
        and (first.kind == "text" or (first.kind == "heading" and first.level == 1))
        and len(first.text) <= 80
        and not QUESTION_END.search(first.text)
        and not first.text.endswith(("。", ":", "："))
    ):
        first.role = "title"
    for line in lines:
        if line.role == "title":
            continue
        text, core = _question_text(line.text), _section_text(line.text)
        if line.kind == "text":
            if _is_plain_question(text):
                line.role = "question"
            elif (
                len(core) <= SECTION_MAX_LENGTH
                and PLAIN_SECTION.search(core)
                and (text.endswith((":", "：")) or re.search(r"(相关问题|面试题)$", core))
            ):
                line.role = "section"
        elif line.kind == "item" and list_questions and line.indent == 0:
            if _is_plain_question(text):
                line.role = "question"
        elif line.kind == "heading":
            if (QUESTION_END.search(text) or IMPERATIVE.match(text)) and len(text) >= title_min:
                line.role = "question"
            elif HEADING_SECTION.search(core) and len(core) <= SECTION_MAX_LENGTH:
                line.role = "section"
            elif not text.endswith((":", "：")):
                line.role = "undecided"
    # Headings that say neither: their level decides, against the levels questions use.
    headings = [line for line in lines if line.kind == "heading"]
    undecided = [line for line in headings if line.role == "undecided"]
    question_levels = [line.level for line in headings if line.role == "question"]
    plain_questions = any(line.role == "question" for line in lines if line.kind != "heading")
    deepest = max((line.level for line in undecided), default=0)
    for line in undecided:
        if question_levels:
            level = min(question_levels)
        elif plain_questions:
            level = 7  # every heading is above the questions
        else:
            level = deepest
        if line.level < level:
            line.role = "section"
        elif line.level == level and len(_question_text(line.text)) >= title_min:
            line.role = "question"
        else:
            line.role = "content"


def _joined(lines: Sequence[str]) -> str:
    title = lines[0]
    for line in lines[1:]:
        wide = ord(title[-1]) > 0x2E80
        title += ("" if wide else " ") + line
    return title


def _title_and_overflow(lines: Sequence[str]) -> tuple[str, list[str]]:
    """The joined question lines, or (if too long) the first line and the rest for the body."""
    title_max = int(rule("TITLE_MAX_LENGTH"))
    joined = _joined(lines)
    if len(joined) <= title_max:
        return joined, []
    if len(lines[0]) <= title_max:
        return lines[0], list(lines[1:])
    return lines[0][: title_max - 1] + "…", list(lines)


def _answer_markdown(lines: Sequence[_Line]) -> str:
    """Paragraphs separated by blank lines; lists as Markdown lists, nesting by indentation."""
    out: list[str] = []
    stack: list[tuple[int, int, int]] = []  # (source indent, output indent, content column)
    previous = ""

    def paragraph_break() -> None:
        if out and out[-1] != "":
            out.append("")

    for line in lines:
        if line.kind == "blank":
            continue
        if line.kind == "code":
            stack.clear()
            paragraph_break()
            out += [line.text, ""]
            previous = "code"
            continue
        if line.kind == "item":
            while stack and line.indent < stack[-1][0]:
                stack.pop()
            if stack and line.indent == stack[-1][0]:
                indent = stack.pop()[1]
            elif stack:
                indent = stack[-1][2]
            else:
                indent = 0
                if previous != "item":
                    paragraph_break()
            stack.append((line.indent, indent, indent + len(line.marker) + 1))
            out.append(f"{' ' * indent}{line.marker} {line.text}")
            previous = "item"
            continue
        if line.kind == "text" and stack and line.indent > stack[0][0]:
            while stack[-1][0] >= line.indent:
                stack.pop()
            out.append(" " * stack[-1][2] + line.text)  # continues the list item above
            continue
        stack.clear()
        text = f"**{line.text}**" if line.kind == "heading" else line.text
        kind = "table" if text.startswith("|") else "quote" if text.startswith(">") else "text"
        if kind == "text" or previous != kind:
            paragraph_break()
        out.append(text)
        previous = kind
    return "\n".join(out).strip("\n")


def _context_line(page_title: str, section: str) -> str:
    return f"（导入自《{page_title}》：{section}）" if section else f"（导入自《{page_title}》）"


def article_parse(
    text: str,
    *,
    source_name: str = "",
    html: bool | None = None,
    vocabulary: Mapping[str, Sequence[str]] | None = None,
) -> ArticlePlan:
    """The questions in an article, each with its answer and suggested tags. Pure: no database.

    `vocabulary` maps tag names to their aliases (tag_vocabulary_get()); without it every
    question gets DEFAULT_TAG.
    """
    if html is None:
        html = article_is_html(text, source_name=source_name)
    if html:
        text = html_to_text(text)
    lines, dropped = _strip_junk(_tokenize(text))
    _assign_roles(lines, list_questions=False)
    if not any(line.role == "question" for line in lines):
        _assign_roles(lines, list_questions=True)  # questions written as "1. 什么是…？"

    page_title = PurePath(source_name).stem or "未命名文章"
    section = ""
    question_lines: list[str] = []
    answer: list[_Line] = []
    found: list[tuple[list[str], list[_Line], str]] = []
    for line in lines:
        if line.role == "title":
            page_title = _plain(line.text)
        elif line.role == "section":
            if question_lines:
                found.append((question_lines, answer, section))
            question_lines, answer = [], []
            section = _section_text(line.text)
        elif line.role == "question":
            if question_lines and any(other.kind != "blank" for other in answer):
                found.append((question_lines, answer, section))
                question_lines, answer = [], []
            question_lines.append(_question_text(line.text))
        elif question_lines:
            answer.append(line)

    if question_lines:
        found.append((question_lines, answer, section))

    items: list[ArticleItem] = []
    unanswered: list[str] = []
    for question, answer_lines, item_section in found:
        content = [line for line in answer_lines if line.kind != "blank"]
        title, overflow = _title_and_overflow(question)
        if not content:
            unanswered.append(title)
            continue
        if content[0].kind == "text":
            content[0].text = ANSWER_PREFIX.sub("", content[0].text) or content[0].text
        answer_text = _answer_markdown(content)
        body = "\n\n".join([*overflow, _context_line(page_title, item_section)])
        tags = tags_suggest(
            title=title, answer=answer_text, section=item_section, vocabulary=vocabulary or {}
        )
        items.append(ArticleItem(title, body, answer_text, item_section, tuple(tags)))
    return ArticlePlan(page_title, tuple(items), tuple(unanswered), tuple(dropped))


# --- tags ---------------------------------------------------------------------------------------


def _term_pattern(term: str) -> re.Pattern:
    term = term.lower()
    if re.search(r"[a-z0-9]", term):
        body = re.escape(term).replace(r"\-", r"[\s_-]?")
        return re.compile(rf"(?<![a-z]){body}(?![a-z])")
    return re.compile(re.escape(term))


def tags_suggest(
    *, title: str, answer: str, section: str, vocabulary: Mapping[str, Sequence[str]]
) -> list[str]:
    """Tags whose name or alias the question mentions, most relevant first.

    A mention in the title counts TITLE_WEIGHT, in the section heading SECTION_WEIGHT (a hint in
    SECTION_HINTS too: 多模态 hints vlm), in the answer ANSWER_WEIGHT; a tag needs TAG_MIN_SCORE.
    DEFAULT_TAG when no tag qualifies."""
    title, answer, section = title.lower(), answer.lower(), section.lower()
    hinted = {name for hint, names in SECTION_HINTS.items() if hint in section for name in names}
    scores: dict[str, int] = {}
    for name, aliases in vocabulary.items():
        score = section_score = 0
        for term in {name.lower(), *(alias.lower() for alias in aliases)}:
            pattern = _term_pattern(term)
            score += TITLE_WEIGHT * len(pattern.findall(title))
            score += ANSWER_WEIGHT * len(pattern.findall(answer))
            section_score += SECTION_WEIGHT * len(pattern.findall(section))
        if name in hinted:
            section_score = max(section_score, SECTION_WEIGHT)
        scores[name] = score + section_score
    chosen = [name for name, score in scores.items() if score >= TAG_MIN_SCORE]
    ranked = sorted(chosen, key=lambda name: (-scores[name], name))
    return ranked[:MAX_SUGGESTED_TAGS] or [DEFAULT_TAG]


def tag_vocabulary_get() -> dict[str, list[str]]:
    """Every tag's name with its aliases, for tags_suggest."""
    return {tag.name: [alias.name for alias in tag.aliases.all()] for tag in tag_list(order="name")}


# --- plan -> database ---------------------------------------------------------------------------


@transaction.atomic
def article_plan_write(*, actor, plan: ArticlePlan) -> ArticleImportResult:
    """Create each planned question with its answer as `actor`, through the services, so each has
    revision 1. A question whose title exists already (case-insensitively) is skipped.

    Raises ArticleError (and writes nothing) if the services refuse any of them.
    """
    result = ArticleImportResult()
    summary = f"导入自《{plan.page_title}》"[:300]
    for item in plan.items:
        if Question.objects.filter(title__iexact=item.title).exists():
            result.skipped.append(item.title)
            continue
        try:
            question = question_create(
                actor=actor, title=item.title, body=item.body, tags=list(item.tags), summary=summary
            )
            answer_create(actor=actor, question=question, body=item.answer, summary=summary)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            else:
                messages = " ".join(error.messages)
            raise ArticleError(f"《{item.title}》: {messages}") from error
        except PermissionDenied as error:
            raise ArticleError(f"{actor} may not post: {error}") from error
        result.created.append(question)
    return result
