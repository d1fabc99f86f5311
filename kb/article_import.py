"""Import an interview-notes article (text, Markdown or HTML) as questions with one answer each.

The parsing is pure and needs no database: `article_decode` turns the file's bytes into text (or
raises ArticleError), `article_parse` turns the text into an ArticlePlan. `article_plan_write`
writes a plan through the ordinary services (question_create, answer_create), in one transaction.

How it finds questions: explicit cues first (a line ending in "?"/"？", a Markdown/HTML heading,
"介绍一下…", numbering such as "Q1:", "问题一：", "第3题"), then the page's own rhythm: short lines
without sentence-final punctuation, set off by a blank line and followed by a longer block,
repeating through the page, are headings too (the "X和Y的区别" / "X网络结构介绍" layout of notes
copied from a browser), as are bold-only paragraphs (WeChat articles). A heading followed directly
by another heading is a section. Consecutive question lines belong to one question. Web junk
(breadcrumb, author and meta lines, share bars, "相关推荐"/comment sections, footers; in HTML the
elements whose class or id says so) is dropped; a junk line also ends the answer before it.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kb.models import Answer, ArticleImport, Question
from kb.rules import rule
from kb.selectors.tags import tag_list
from kb.services.answers import answer_create
from kb.services.questions import question_create

DEFAULT_TAG = "llm"
MAX_SUGGESTED_TAGS = 5
PLAIN_QUESTION_MAX_LENGTH = 100  # a longer line ending in "？" is a sentence of an answer
IMPERATIVE_QUESTION_MAX_LENGTH = 60
SECTION_MAX_LENGTH = 30
LAYOUT_HEADING_MAX_LENGTH = 40  # a rhythm heading is a short line
LAYOUT_MIN_REPEAT = 2  # the rhythm must repeat to count
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
BINARY_CONTROL_RATIO = 0.02  # more control characters than this: not text

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
CHINESE_NUMBER = "[一二三四五六七八九十]{1,3}"
ENUMERATOR = re.compile(
    rf"^(?:Q\s*\d+|问题\s*(?:\d+|{CHINESE_NUMBER})|第\s*(?:\d+|{CHINESE_NUMBER})\s*题"
    r"|\d{1,2}(?:\.\d{1,2})+\s+|0\d\s+|\d{1,3}\s*[、.．)）](?!\d)|[（(]\d{1,3}[)）]"
    rf"|{CHINESE_NUMBER}\s*[、.．]|问(?=\s*[:：]))\s*[:：.、]?\s*",
    re.IGNORECASE,
)
# Numbering that only questions use: "Q1:", "问题一：", "第3题".
QUESTION_NUMBER = re.compile(
    rf"^(?:Q\s*\d+|问题\s*(?:\d+|{CHINESE_NUMBER})|第\s*(?:\d+|{CHINESE_NUMBER})\s*题)"
    r"\s*[:：.、]?\s*\S",
    re.IGNORECASE,
)
BOLD_LINE = re.compile(r"^(\*\*|__)\s*(?P<text>[^*_].*?)\s*\1$")
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
    r"copyright|©|返回顶部|扫码关注|扫一扫|打赏|点赞\s*[(（\d]|【推荐】|【广告】|\[TOC\]$|目录$|"
    r"点击上方|关注我们|-?\s*END\s*-?$|赞赏支持|还没有人赞赏|小礼物走一走|更多精彩内容|阅读原文|"
    r"发表于|posted @|\d+\s*人(点赞|赞同|喜欢)|"
    r"(点赞|收藏|阅读|浏览|评论|字数|赞同|喜欢|在看)\s*[\d,.]+\s*[kKwW万千]?$|"
    r"[\d.,:\s]+$|"
    r"(发布时间|更新时间|作者|来源|标签|文章标签|分类专栏|分类|阅读|浏览|tags?)\s*[(（:：])",
    re.IGNORECASE,
)
SCRIPT_BLOCK = re.compile(
    r"<(script|style|iframe|object|embed)\b.*?(</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)
# A meta line: a short line carrying a full date ("2024-06-18 09:12 · 阅读 5.2k").
DATE_LINE = re.compile(r"\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}")
TRAILER = re.compile(
    r"^(相关文章|相关阅读|相关推荐|相关博文|推荐阅读|往期推荐|往期回顾|猜你喜欢|热门文章|延伸阅读|"
    r"最新文章|推荐阅读更多精彩内容|评论区|评论列表|全部评论|精选留言|留言|发表评论|"
    r"回复\s+支持\s+反对|参考资料|参考文献|references)\s*[:：]?$",
    re.IGNORECASE,
)
TRAILER_AFTER_LINES = 6  # a trailer this far into the page ends it, question seen or not


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
    """The file's text; ArticleError for binary, empty, too large or undecodable content."""
    return article_decode_detected(data)[0]


def article_decode_detected(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in: UTF-8 when it is, else the charset a
    page declares (<meta charset=gbk>), else what charset-normalizer detects (GBK/GB18030 pages
    are common). ArticleError for binary, empty or too large files."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_ARTICLE_BYTES // 1024 // 1024} MB"
        )
    if b"\x00" in data:
        raise ArticleError("the file contains NUL bytes: it looks binary, not text")
    if not data.strip():
        raise ArticleError("the file is empty")
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = _decode_other(data)
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\n\r\t\f")
    if controls > BINARY_CONTROL_RATIO * len(text):
        raise ArticleError("the file contains control characters: it looks binary, not text")
    return text.removeprefix("\ufeff"), encoding


def _decode_other(data: bytes) -> tuple[str, str]:
    declared = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data[:4096], re.IGNORECASE)
    if declared:
        name = declared[1].decode("ascii").lower()
        name = "gb18030" if name in ("gbk", "gb2312", "gb_2312-80") else name
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("the file is not text in any encoding we know: it looks binary")
    return str(best), best.encoding


def article_is_html(text: str, *, source_name: str = "") -> bool:
    suffix = PurePath(source_name).suffix.lower()
    if suffix in (".html", ".htm"):
        return True
    if suffix in (".md", ".markdown", ".txt"):
        return False
    return re.match(r"\s*(<!doctype html|<html|<body|<h1)", text, re.IGNORECASE) is not None


# --- HTML -> Markdown-like lines ----------------------------------------------------------------


# Page chrome, by the words of an element's class or id (split at "-", "_" and camelCase):
# comment sections, recommended/related lists, author and meta bars, share and tool bars.
_JUNK_WORD_LIST = """comment comments cmt discuss feedback recommend recommended recommendations
related breadcrumb breadcrumbs crumbs toolbar toolbox tool tools share sidebar aside signature desc
next prev tag tags author meta nav navbar menu footer copyright actions ad ads advert login follow
reward catalog toc info logo time count bar profile"""
JUNK_WORDS = frozenset(_JUNK_WORD_LIST.split())
JUNK_IDS = frozenset({"header", "top_nav", "blogtitle"})  # whole tokens: the site's header
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


def _is_chrome(attrs) -> bool:
    for name, value in attrs:
        if name not in ("class", "id") or not value:
            continue
        for token in value.split():
            if token.lower() in JUNK_IDS:
                return True
            words = re.sub(r"([a-z])([A-Z])", r"\1 \2", token).lower()
            if JUNK_WORDS.intersection(re.split(r"[-_ ]+", words)):
                return True
    return False


class _HtmlToText(HTMLParser):
    """h1-h6 -> "# …", p/div/br -> lines, li in ul/ol -> "- "/"1. " indented by nesting depth,
    pre -> a code fence, strong/b -> "**"; script, style, nav, footer and the like, and elements
    whose class or id names page chrome (JUNK_WORDS), are dropped. With an h1, what comes before
    it is the site's header and is dropped too."""

    SKIP = {"script", "style", "noscript", "template", "nav", "footer", "aside", "iframe", "svg"}
    SKIP |= {"button", "form", "select", "textarea"}
    BLOCK = {"p", "div", "section", "article", "main", "header", "blockquote", "table", "tr"}
    BLOCK |= {"dl", "dt", "dd", "figure", "figcaption", "hr", "body", "html", "center"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.prefix = ""
        self.skip_tag = ""  # the element being skipped, and how deep in it we are
        self.skip_depth = 0
        self.lists: list[list] = []  # [kind, counter]
        self.items: list[str] = []  # continuation indent of each open <li>
        self.heading_level = 0
        self.first_h1 = -1  # index in self.lines
        self.title_parts: list[str] | None = None
        self.title = ""
        self.pre_parts: list[str] | None = None

    def flush(self) -> None:
        text = "".join(self.parts)
        text = re.sub(r"\*\*\s*\*\*", "", text).strip()  # empty or adjacent bold runs
        self.parts = []
        if not text or text == "**":
            return
        if self.heading_level:
            if self.heading_level == 1 and self.first_h1 < 0:
                self.first_h1 = len(self.lines)
            self.lines.append(f"{'#' * self.heading_level} {text}")
        else:
            self.lines.append(self.prefix + text)
            self.prefix = self.items[-1] if self.items else ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        if tag == "title":
            self.title_parts = []
            return
        if tag in self.SKIP or (tag not in VOID and _is_chrome(attrs)):
            self.flush()
            self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "pre":
            self.flush()
            self.pre_parts = []
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading_level = int(tag[1])
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
        elif tag in ("strong", "b") and self.pre_parts is None:
            self.parts.append("**")
        elif tag == "br" or tag in self.BLOCK:
            self.flush()
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            if tag == self.skip_tag:
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
        elif tag in ("strong", "b") and self.pre_parts is None:
            self.parts.append("**")
        elif tag in self.BLOCK:
            self.flush()
            if not self.items:
                self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.title_parts is not None:
            self.title_parts.append(data)
        elif self.skip_depth:
            return
        elif self.pre_parts is not None:
            self.pre_parts.append(data)
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        self.flush()
        lines = self.lines
        if self.first_h1 >= 0:
            lines = lines[self.first_h1 :]
        elif self.title:
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
    bold: bool = False  # a paragraph that is all bold (**…**)


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
    text = re.sub(r"\A\s*---\n(?:[^\n]*\n){0,30}?---\n", "", text)  # YAML front matter
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
        if not stripped or re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped):  # a rule is a gap
            lines.append(_Line("blank", ""))
        elif heading := HEADING.match(stripped):
            lines.append(_Line("heading", _plain(heading[2]), level=len(heading[1])))
        elif (item := LIST_ITEM.match(raw)) and item["text"].strip():
            number = item["number"] or item["paren"]
            marker = f"{int(number)}." if number else "-"
            lines.append(_Line("item", item["text"].strip(), len(item["indent"]), marker=marker))
        else:
            bold = BOLD_LINE.match(stripped) is not None and stripped.count("**") <= 2
            indent = len(raw) - len(raw.lstrip())
            lines.append(_Line("text", stripped, indent=indent, bold=bold))
    if fence is not None:  # an unclosed fence: close it
        lines.append(_Line("code", "\n".join([*fence, fence[0][:3]])))
    return lines


def _is_junk(line: _Line) -> bool:
    """A breadcrumb, share, meta or footer line ("作者：张三" is one; "作者认为…" is not)."""
    if line.kind not in ("text", "heading", "item"):
        return False
    text = _plain(line.text)
    if BREADCRUMB.search(text) is not None or FOOTER.match(text) is not None:
        return True
    return (
        len(text) <= 60 and DATE_LINE.search(text) is not None and not text.endswith(SENTENCE_END)
    )


def _strip_junk(lines: list[_Line]) -> tuple[list[_Line], list[str]]:
    """Replace breadcrumb/share/meta/footer lines by a "break" (it ends the answer before it),
    and drop everything from a "相关文章:" line that follows the first question-like line or
    TRAILER_AFTER_LINES lines of content (an earlier one is dropped alone)."""
    kept: list[_Line] = []
    dropped: list[str] = []
    seen_question = False
    content = 0
    for index, line in enumerate(lines):
        text = _plain(line.text) if line.kind != "code" else ""
        if line.kind in ("text", "heading") and TRAILER.match(text):
            if seen_question or content >= TRAILER_AFTER_LINES:
                dropped += [other.text for other in lines[index:] if other.kind != "blank"]
                break
            dropped.append(line.text)
            continue
        if _is_junk(line):
            dropped.append(line.text)
            if kept and kept[-1].kind != "break":
                kept.append(_Line("break", ""))
            continue
        if line.kind != "blank":
            content += 1
        if line.kind in ("text", "heading", "item") and QUESTION_END.search(text):
            seen_question = True
        kept.append(line)
    return kept, dropped


def _is_numbered_question(raw: str) -> bool:
    """ "Q2: ZeRO的三个阶段分别切分了什么", "问题一：…": numbering only questions use."""
    text = _plain(raw)
    core = _question_text(text)
    return (
        QUESTION_NUMBER.match(text) is not None
        and int(rule("TITLE_MIN_LENGTH")) <= len(core) <= PLAIN_QUESTION_MAX_LENGTH
        and not core.endswith(SENTENCE_END)
    )


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
            if _is_plain_question(text) or _is_numbered_question(line.text):
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
            if (
                QUESTION_END.search(text)
                or IMPERATIVE.match(text)
                or _is_numbered_question(line.text)
            ) and len(text) >= title_min:
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


def _is_layout_heading(line: _Line, *, shortest: int) -> bool:
    """A short line that does not end (or contain) a sentence: "LayerNorm和BatchNorm的区别"."""
    if line.kind not in ("text", "item") or line.role != "content":
        return False
    if line.kind == "item" and (line.indent or line.marker == "-"):
        return False
    text = _question_text(line.text)
    return (
        shortest <= len(text) <= LAYOUT_HEADING_MAX_LENGTH
        and not text.endswith(SENTENCE_END)
        and not re.search(r"[。；;，,！!]", text)
        and not text.startswith(("|", ">", "$", "`", "!["))
    )


def _assign_layout(lines: list[_Line]) -> None:
    """Headings from the page's rhythm: a heading-like line after a blank line (or a bold-only
    paragraph), followed by a longer block, repeating. One followed by another heading is a
    section."""

    def set_off(index: int) -> bool:
        if index == 0:
            return True
        before = lines[index - 1]
        return before.kind in ("blank", "break") or before.role in ("title", "section")

    def next_content(index: int) -> int | None:
        for other in range(index + 1, len(lines)):
            if lines[other].kind != "blank":
                return other
        return None

    def gap_below(index: int) -> bool:
        return index + 1 < len(lines) and lines[index + 1].kind == "blank"

    def introduced(index: int) -> bool:
        """The line before (blank lines aside) ends in a colon: this continues it, unless a blank
        line sets it off below too."""
        for other in range(index - 1, -1, -1):
            if lines[other].kind != "blank":
                return lines[other].kind != "break" and lines[other].text.endswith((":", "："))
        return False

    def continues_list(index: int, following: int) -> bool:
        line, after = lines[index], lines[following]
        if line.kind != "item" or after.kind != "item" or after.indent != line.indent:
            return False
        return after.marker == "-" or int(after.marker[:-1]) == int(line.marker[:-1]) + 1

    candidates = [
        index
        for index, line in enumerate(lines)
        if _is_layout_heading(line, shortest=2)
        and (set_off(index) or line.bold)
        and (
            line.kind == "text" and not introduced(index) or gap_below(index)
        )  # a numbered line is a heading only when set off on both sides
    ]
    chosen = set(candidates)
    title_min = int(rule("TITLE_MIN_LENGTH"))
    questions: list[int] = []
    sections: list[int] = []
    for index in candidates:
        following = next_content(index)
        if following is None or lines[following].kind == "break":
            continue
        after = lines[following]
        if following in chosen or after.role == "question":
            sections.append(index)
            continue
        heading = len(_question_text(lines[index].text))
        if heading < title_min or continues_list(index, following):
            continue
        block = []
        for other in lines[following:]:
            if other.kind in ("blank", "break") or other.role != "content":
                break
            block.append(other)
        size = sum(len(other.text) for other in block)
        if (
            len(block) >= 2
            or size > heading * 1.5
            or after.kind in ("code", "item")
            or block[-1].text.endswith((":", "："))
            or lines[index].bold
        ):
            questions.append(index)
    explicit = sum(1 for line in lines if line.role == "question")
    if len(questions) >= LAYOUT_MIN_REPEAT or (questions and explicit >= LAYOUT_MIN_REPEAT):
        for index in questions:
            lines[index].role = "question"
        explicit += len(questions)
    if explicit:
        for index in sections:
            lines[index].role = "section"


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
    # Markdown may carry raw HTML: never keep a script (the renderer sanitises the rest).
    text = html_to_text(text) if html else SCRIPT_BLOCK.sub("", text)
    lines, dropped = _strip_junk(_tokenize(text))
    _assign_roles(lines, list_questions=False)
    if not any(line.role == "question" for line in lines):
        _assign_roles(lines, list_questions=True)  # questions written as "1. 什么是…？"
    _assign_layout(lines)

    page_title = PurePath(source_name).stem or "未命名文章"
    section = ""
    question_lines: list[str] = []
    answer: list[_Line] = []
    found: list[tuple[list[str], list[_Line], str]] = []
    for line in lines:
        if line.kind == "break":  # junk ends the answer; what follows it waits for a question
            if question_lines and any(other.kind != "blank" for other in answer):
                found.append((question_lines, answer, section))
                question_lines, answer = [], []
            continue
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
    revision 1. A question whose title exists already (case-insensitively) is skipped. The
    answers are unverified, with an ArticleImport as their provenance, like the import page's.

    Raises ArticleError (and writes nothing) if the services refuse any of them.
    """
    result = ArticleImportResult()
    summary = f"导入自《{plan.page_title}》"[:300]
    provenance = None
    for item in plan.items:
        if Question.objects.filter(title__iexact=item.title).exists():
            result.skipped.append(item.title)
            continue
        try:
            question = question_create(
                actor=actor, title=item.title, body=item.body, tags=list(item.tags), summary=summary
            )
            answer = answer_create(
                actor=actor, question=question, body=item.answer, summary=summary
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            else:
                messages = " ".join(error.messages)
            raise ArticleError(f"《{item.title}》: {messages}") from error
        except PermissionDenied as error:
            raise ArticleError(f"{actor} may not post: {error}") from error
        if provenance is None:
            provenance = ArticleImport.objects.create(
                actor=actor, source_title=plan.page_title[:300], content_hash=""
            )
        answer.verification = Answer.Verification.UNVERIFIED
        answer.imported_from = provenance
        answer.save(update_fields=["verification", "imported_from"])
        provenance.question_ids.append(question.pk)
        provenance.answer_ids.append(answer.pk)
        result.created.append(question)
    if provenance is not None:
        provenance.save(update_fields=["question_ids", "answer_ids"])
    return result
