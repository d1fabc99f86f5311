"""Markdown -> safe HTML: markdown-it-py (CommonMark + tables, strikethrough, task lists),
math to MathML on the server (latex2mathml), code highlighted by Pygments, then nh3 with an
allow-list. Bump RENDERER_VERSION whenever the output changes; `manage.py rerender` catches up.
"""

import html
import re
from xml.etree.ElementTree import Element, tostring

import nh3
from latex2mathml.converter import convert_to_element as latex_to_element
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

RENDERER_VERSION = 3

# latex2mathml leaves a command it does not know as the text of an <mi>: `\foo`, `\end{pmatrix}`.
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


class LatexError(ValueError):
    pass


def _braces_balanced(latex: str) -> bool:
    depth = 0
    previous = ""
    for char in latex:
        if previous != "\\":
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth < 0:
                    return False
        previous = char if previous != "\\" else ""
    return depth == 0


def _mathml_serialize(math: Element) -> str:
    """The element as MathML text, every text node escaped.

    latex2mathml's own `convert` un-escapes its whole output (its symbols are stored as `&#x...;`
    strings), which lets the argument of \\text{...} through as raw HTML. Here each text node is
    decoded once and escaped once: symbols stay symbols, `<b>` inside \\text stays text.
    """
    for node in math.iter():
        if node.tag == "mi" and node.text:
            unknown = _UNKNOWN_COMMAND.match(node.text)
            if unknown:
                raise LatexError(f"unknown command {unknown.group(0)}")
        if node.text:
            node.text = html.unescape(node.text)
        if node.tail:
            node.tail = html.unescape(node.tail)
    return tostring(math, encoding="unicode", short_empty_elements=False)


def math_to_mathml(latex: str, *, display: bool) -> str:
    """MathML for a formula, or a visible error span with the source (never an exception)."""
    try:
        if not _braces_balanced(latex):
            raise LatexError("unbalanced braces")
        mathml = _mathml_serialize(
            latex_to_element(latex, display="block" if display else "inline")
        )
    except Exception as error:  # latex2mathml raises many types on bad input
        reason = str(error) if isinstance(error, LatexError) else "invalid LaTeX"
        return (
            f'<span class="math-error" title="{html.escape(reason)}">'
            f"<code>{html.escape(latex)}</code></span>"
        )
    return mathml


def _render_math_block(content: str, *, tag: str = "div") -> str:
    """A display formula in a box that scrolls sideways when the formula is wider than the page.

    A box that scrolls must take keyboard focus (WCAG 2.1.1; axe's scrollable-region-focusable):
    tabindex="0", with role="group" and the LaTeX source as its name so a focused box says what
    it holds."""
    latex = content.strip()
    label = html.escape(latex[:200], quote=True)
    mathml = math_to_mathml(latex, display=True)
    return (
        f'<{tag} class="math-block" tabindex="0" role="group" aria-label="{label}">'
        f"{mathml}</{tag}>" + ("\n" if tag == "div" else "")
    )


_code_formatter = HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return f"<pre><code>{html.escape(code)}</code></pre>"  # an unknown language: plain
    highlighted = highlight(code, lexer, _code_formatter)
    # The lexer's first alias, so the class is one of CODE_CLASSES whatever the author typed.
    css_class = f' class="language-{lexer.aliases[0]}"' if language and lexer.aliases else ""
    return f'<pre class="highlight"><code{css_class}>{highlighted}</code></pre>'


def _build_parser(*, inline_only: bool = False) -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "highlight": _highlight},
    )
    parser.enable(["table", "strikethrough"])
    parser.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
    parser.add_render_rule(
        "math_inline",
        lambda self, tokens, idx, *_: math_to_mathml(tokens[idx].content, display=False),
    )
    parser.add_render_rule(
        "math_inline_double",
        lambda self, tokens, idx, *_: _render_math_block(tokens[idx].content, tag="span"),
    )
    for rule in ("math_block", "math_block_label"):
        parser.add_render_rule(
            rule, lambda self, tokens, idx, *_: _render_math_block(tokens[idx].content)
        )
    parser.use(tasklists_plugin)
    if inline_only:
        parser.disable(
            ["heading", "table", "fence", "code", "blockquote", "list", "hr", "lheading"]
        )
    return parser


_parser = _build_parser()
_comment_parser = _build_parser(inline_only=True)

MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "semantics", "annotation",
}  # fmt: skip
HTML_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span", "div",
    "input", "sup", "sub", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "ol": {"start"},
    "input": {"checked", "disabled"},
    "math": {"display", "xmlns"},
    "div": {"aria-label"},
    "span": {"aria-label"},
    "mo": {
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "largeop",
        "movablelimits",
        "form",
    },
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mspace": {"width", "height", "depth"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mtd": {"columnalign"},
    "mfrac": {"linethickness"},
    "menclose": {"notation"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "annotation": {"encoding"},
}
# Exact attribute values: table alignment is the only style there is, inputs are checkboxes.
_ALIGNMENTS = {f"text-align:{side}" for side in ("left", "center", "right")}
ALLOWED_ATTRIBUTE_VALUES = {
    "th": {"style": _ALIGNMENTS},
    "td": {"style": _ALIGNMENTS},
    "input": {"type": {"checkbox"}},
    # The scrolling box of a display formula (_render_math_block); Markdown's raw HTML is off, so
    # only this module writes these.
    "div": {"tabindex": {"0"}, "role": {"group"}},
    "pre": {"tabindex": {"0"}},
    "table": {"tabindex": {"0"}},
    "span": {"tabindex": {"0"}, "role": {"group"}},
}
# Classes are an allow-list too: the ones this module emits, so neither a fence's info string nor
# LaTeX's \class{...} can reach the site's own CSS.
CODE_CLASSES = {
    f"language-{lexer_aliases[0]}" for _name, lexer_aliases, *_ in get_all_lexers() if lexer_aliases
}
ALLOWED_CLASSES = {
    "pre": {"highlight"},
    "code": CODE_CLASSES,
    "span": {"math-error", "math-block"}
    | {css_class for css_class in STANDARD_TYPES.values() if css_class},
    "div": {"math-block"},
    "ul": {"contains-task-list"},
    "ol": {"contains-task-list"},
    "li": {"task-list-item"},
    "input": {"task-list-item-checkbox"},
}


def sanitize(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=HTML_TAGS | MATHML_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
        tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
        strip_comments=True,
    )


# Code blocks and tables scroll sideways when wider than the page, so they take keyboard focus like
# a display formula. Markdown's raw HTML is off: every `<pre` and `<table` here is the renderer's.
_SCROLLING_BOXES = re.compile(r"<(pre|table)(?=[ >])")


def render(source: str) -> str:
    """Full Markdown for questions and answers."""
    return sanitize(_SCROLLING_BOXES.sub(r'<\1 tabindex="0"', _parser.render(source)))


def render_comment(source: str) -> str:
    """Markdown-lite for comments: emphasis, code, links and inline math only."""
    return sanitize(_comment_parser.render(source))
