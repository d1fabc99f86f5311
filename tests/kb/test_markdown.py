"""kb.markdown: what Markdown becomes, what bad LaTeX becomes, and what never survives sanitising.

No database: the renderer is a pure function of its input.
"""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from kb.markdown import math_to_mathml, render, render_comment, sanitize


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """The rendered HTML as a flat list of elements (attribute values entity-decoded, as a browser
    would), each with the text directly inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1].text += data

    def tags(self) -> set[str]:
        return {element.tag for element in self.elements}

    def find(self, tag: str) -> list[Element]:
        return [element for element in self.elements if element.tag == tag]


def parse(rendered: str) -> Page:
    page = Page()
    page.feed(rendered)
    page.close()
    return page


# --- Features -------------------------------------------------------------------------------


def test_table_renders_with_column_alignment():
    page = parse(render("| 模型 | 参数量 |\n|:--|--:|\n| LLaMA | 7B |"))
    assert [th.text for th in page.find("th")] == ["模型", "参数量"]
    assert [td.attrs["style"] for td in page.find("td")] == ["text-align:left", "text-align:right"]


def test_fenced_code_is_highlighted_with_pygments_classes():
    rendered = render("```python\ndef attention(q, k, v):\n    return q\n```")
    # tabindex: a code block that scrolls sideways takes keyboard focus (issue 21)
    assert rendered.startswith('<pre tabindex="0" class="highlight"><code class="language-python">')
    assert '<span class="k">def</span>' in rendered
    assert '<span class="nf">attention</span>' in rendered


def test_fence_language_alias_becomes_the_lexer_name():
    assert '<code class="language-python">' in render("```py\nx = 1\n```")


def test_fence_with_unknown_language_is_plain_escaped_code_without_class():
    rendered = render("```no-such-language\na < b && c\n```")
    assert rendered.strip() == '<pre tabindex="0"><code>a &lt; b &amp;&amp; c\n</code></pre>'


def test_strikethrough():
    assert parse(render("~~过时的说法~~")).find("s")[0].text == "过时的说法"


def test_task_list_items_are_disabled_checkboxes():
    page = parse(render("- [x] 读论文\n- [ ] 复现"))
    checkboxes = page.find("input")
    assert [box.attrs.get("type") for box in checkboxes] == ["checkbox", "checkbox"]
    assert all("disabled" in box.attrs for box in checkboxes)
    assert ["checked" in box.attrs for box in checkboxes] == [True, False]


def test_inline_math_becomes_inline_mathml():
    page = parse(render("损失是 $-\\log p(x)$。"))
    (math,) = page.find("math")
    assert math.attrs["display"] == "inline"
    assert {"mo", "mi"} <= page.tags()


def test_display_math_block_becomes_block_mathml():
    page = parse(render("$$\n\\mathrm{softmax}(x_i) = \\frac{e^{x_i}}{\\sum_j e^{x_j}}\n$$"))
    assert page.find("div")[0].attrs["class"] == "math-block"
    assert page.find("math")[0].attrs["display"] == "block"
    assert "mfrac" in page.tags()


def test_double_dollar_inside_a_paragraph_is_display_math():
    (math,) = parse(render("即 $$a^2$$ 成立")).find("math")
    assert math.attrs["display"] == "block"


def test_math_symbols_become_characters():
    rendered = render("$\\mathbb{R}^{n \\times d}$, $a < b$")
    assert "ℝ" in rendered
    assert "×" in rendered
    assert "<mo>&lt;</mo>" in rendered


def test_text_inside_math_stays_text():
    page = parse(render("$\\text{<b>粗体</b> & 注意力}$"))
    assert "b" not in page.tags()
    assert page.find("mtext")[0].text == "<b>粗体</b>\xa0&\xa0注意力"


def test_chinese_text_is_untouched():
    source = "什么是旋转位置编码（RoPE）？它与绝对位置编码有何不同？——请举例说明。"
    assert render(source) == f"<p>{source}</p>\n"


def test_dollar_amounts_in_chinese_text_are_not_math():
    assert "<math" not in render("训练花了 $5 和 $10 的算力。")


def test_dollar_inside_code_span_is_not_math():
    assert render("`$x$`") == "<p><code>$x$</code></p>\n"


def test_links_get_rel_nofollow():
    (link,) = parse(render("[论文](https://arxiv.org/abs/1706.03762)")).find("a")
    assert link.attrs["href"] == "https://arxiv.org/abs/1706.03762"
    assert link.attrs["rel"] == "nofollow noopener noreferrer ugc"


def test_comment_renderer_keeps_inline_markup_and_drops_blocks():
    rendered = render_comment("# 标题\n\n**粗** $x$ [链接](https://example.org)\n\n| a |\n|---|")
    page = parse(rendered)
    assert {"strong", "math", "a"} <= page.tags()
    assert not {"h1", "table"} & page.tags()


# --- Invalid LaTeX: a visible error with the source, never an exception ----------------------

INVALID_LATEX = [
    pytest.param("\\frac{1}{2", "unbalanced braces", id="unclosed-brace"),
    pytest.param("x}", "unbalanced braces", id="extra-closing-brace"),
    pytest.param("\\foo{x}", "unknown command \\foo", id="unknown-command"),
    pytest.param("\\end{pmatrix}", "unknown command \\end", id="end-without-begin"),
    pytest.param("\\begin{matrix}a", "invalid LaTeX", id="begin-without-end"),
    pytest.param("x^", "invalid LaTeX", id="dangling-superscript"),
    pytest.param("_", "invalid LaTeX", id="lone-subscript"),
    pytest.param("\\sqrt[", "invalid LaTeX", id="unclosed-optional-argument"),
    pytest.param("\\left( x", "invalid LaTeX", id="left-without-right"),
    pytest.param("\\right)", "invalid LaTeX", id="right-without-left"),
    pytest.param("{" * 3000 + "x" + "}" * 3000, "invalid LaTeX", id="deep-nesting"),
    pytest.param(
        "".join(
            f"\\newcommand{{\\q{'z' * i}}}{{\\q{'z' * (i - 1)}\\q{'z' * (i - 1)}}}"
            for i in range(2, 30)
        )
        + "\\q"
        + "z" * 29,
        "invalid LaTeX",
        id="macro-expansion-bomb",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("latex", "reason"), INVALID_LATEX)
def test_invalid_inline_latex_shows_its_source_in_a_math_error_span(latex, reason):
    page = parse(render(f"公式 ${latex}$ 之后"))
    (error,) = [span for span in page.find("span") if span.attrs.get("class") == "math-error"]
    assert error.attrs["title"] == reason
    assert page.find("code")[0].text == latex
    assert "math" not in page.tags()


@pytest.mark.parametrize(("latex", "reason"), INVALID_LATEX)
def test_invalid_display_latex_shows_its_source_in_a_math_error_span(latex, reason):
    rendered = math_to_mathml(latex, display=True)
    assert rendered.startswith(f'<span class="math-error" title="{html.escape(reason)}">')
    assert html.escape(latex) in rendered


# --- XSS: nothing executable survives ---------------------------------------------------------

SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {
    "href", "src", "xlink:href", "action", "formaction", "srcset", "background", "poster", "data",
    "codebase", "cite", "ping", "dynsrc", "lowsrc",
}  # fmt: skip
FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "meta",
    "base", "svg", "foreignobject", "form", "button", "textarea", "select", "template", "noscript",
    "maction", "mglyph", "annotation-xml", "semantics-xml", "video", "audio", "source", "use",
}  # fmt: skip
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_TABLE_ALIGNMENTS = {"text-align:left", "text-align:center", "text-align:right"}


def url_scheme(value: str) -> str:
    """The scheme a browser would see: it drops tabs and newlines anywhere and trims C0 controls
    and spaces at both ends before parsing. Empty for a relative URL."""
    cleaned = re.sub(r"[\t\n\r]", "", value).strip("".join(chr(c) for c in range(0x21)))
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else ""


def assert_inert(rendered: str) -> None:
    page = parse(rendered)
    assert not page.tags() & FORBIDDEN_TAGS, rendered
    for element in page.elements:
        for name, value in element.attrs.items():
            assert not name.startswith("on"), rendered
            if name in URL_ATTRIBUTES:
                assert url_scheme(value) in SAFE_SCHEMES | {""}, rendered
            if name == "style":
                assert element.tag in {"th", "td"} and value in _TABLE_ALIGNMENTS, rendered
            assert not name.startswith("xmlns:"), rendered


MARKDOWN_PAYLOADS = {
    "script-tag": "<script>alert(1)</script>",
    "script-block": "<script>\nalert(1)\n</script>\n\ntext",
    "img-onerror": '<img src=x onerror="alert(1)">',
    "event-handler-div": '<div onmouseover="alert(1)">hover</div>',
    "style-expression": '<p style="width: expression(alert(1))">x</p>',
    "style-url": "<p style=\"background:url('javascript:alert(1)')\">x</p>",
    "iframe": '<iframe src="javascript:alert(1)"></iframe>',
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-foreignobject": "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
    "math-xlink": '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    "math-maction": '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">'
    "<mtext>x</mtext></maction></math>",
    "math-href": '<math href="javascript:alert(1)"><mi>x</mi></math>',
    "javascript-link": "[x](javascript:alert(1))",
    "javascript-link-mixed-case": "[x](  JaVaScRiPt:alert(1) )",
    "javascript-link-angle": "[x](<javascript:alert(1)>)",
    "javascript-link-tab": "[x](java\tscript:alert(1))",
    "javascript-link-entity-tab": "[x](jav&#x09;ascript:alert(1))",
    "javascript-link-nul": "[x](java\x00script:alert(1))",
    "javascript-link-entities": "[x](&#106;&#97;vascript:alert(1))",
    "javascript-link-colon-entity": "[x](javascript&#58;alert(1))",
    "javascript-link-hex-entities": "[x](&#x6A;&#x61;&#x76;ascript:alert(1))",
    "javascript-reference-link": "[x][1]\n\n[1]: javascript:alert(1)",
    "javascript-image": "![x](javascript:alert(1))",
    "vbscript-link": "[x](vbscript:msgbox(1))",
    "data-html-link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data-svg-image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "data-png-image": "![x](data:image/png;base64,iVBORw0KGgo=)",
    "file-link": "[x](file:///etc/passwd)",
    "autolink-javascript": "<javascript:alert(1)>",
    "autolink-vbscript": "<vbscript:msgbox(1)>",
    "autolink-data": "<data:text/html,<script>alert(1)</script>>",
    "link-title-quotes": '[x](https://example.org "a" onmouseover="alert(1)")',
    "link-title-escaped-quotes": '[x](https://example.org "t\\" onmouseover=\\"alert(1)")',
    "image-title-quotes": "![x](https://example.org/a.png 'a' onerror='alert(1)')",
    "raw-html-block": '<div>\n<a href="javascript:alert(1)">x</a>\n</div>',
    "raw-html-inline": 'text <a href="javascript:alert(1)">x</a> text',
    "html-comment": "<!-- --><script>alert(1)</script> -->",
    "fence-language-injection": '```js" onmouseover="alert(1)\nx\n```',
    "fence-class-injection": "```x onclick=alert(1)\nx\n```",
    "latex-href": "$\\href{javascript:alert(1)}{x}$",
    "latex-href-nested": "$\\mathrm{\\href{javascript:alert(1)}{y}}$",
    "latex-href-breakout": '$\\href{"><img src=x onerror=alert(1)>}{z}$',
    "latex-style": "$\\style{background:url(javascript:alert(1))}{x}$",
    "latex-class": '$\\class{a" onclick="alert(1)}{y}$',
    "latex-text-script": "$\\text{<script>alert(1)</script>}$",
    "latex-text-breakout": '$\\text{</math><img src=x onerror="alert(1)">}$',
    "latex-text-svg": "$\\text{<svg onload=alert(1)>}$",
    "latex-mbox-iframe": "$\\mbox{<iframe src=javascript:alert(1)>}$",
    "latex-fbox-link": '$\\fbox{<a href="javascript:alert(1)">x</a>}$',
    "latex-operatorname": "$\\operatorname{<img src=x onerror=alert(1)>}$",
    "latex-display-text": "$$\n\\text{<script>alert(1)</script>}\n$$",
    "latex-error-source": "$\\foo{<img src=x onerror=alert(1)>}$",
    "latex-color": "$\\color{red}{x}\\colorbox{red}{y}$",
    "table-cell-html": "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "task-list-html": "- [ ] <input type=text onfocus=alert(1) autofocus>",
}


@pytest.mark.parametrize("renderer", [render, render_comment], ids=["post", "comment"])
@pytest.mark.parametrize("source", MARKDOWN_PAYLOADS.values(), ids=MARKDOWN_PAYLOADS.keys())
def test_markdown_payload_renders_inert(renderer, source):
    assert_inert(renderer(source))


RAW_HTML_PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "a-javascript": '<a href="javascript:alert(1)">x</a>',
    "a-entity-javascript": '<a href="&#106;avascript:alert(1)">x</a>',
    "a-tab-javascript": '<a href="java&#x09;script:alert(1)">x</a>',
    "a-newline-javascript": '<a href=" \njavascript:alert(1)">x</a>',
    "a-vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "a-data": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "img-data-svg": '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "td-style-expression": '<table><tr><td style="text-align:expression(alert(1))">x</td></tr>'
    "</table>",
    "td-style-url": '<table><tr><td style="text-align:left;background:url(x)">x</td></tr></table>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-animate": '<svg><a><animate attributeName=href values="javascript:alert(1)"/>'
    "<text>x</text></a></svg>",
    "svg-foreignobject": "<svg><foreignObject><iframe src=javascript:alert(1)>"
    "</foreignObject></svg>",
    "math-xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "math-href": '<math><mrow href="javascript:alert(1)"><mi>x</mi></mrow></math>',
    "math-maction": '<math><maction actiontype="toggle"><mi>x</mi></maction></math>',
    "math-annotation-xml": '<math><semantics><annotation-xml encoding="text/html">'
    "<img src=x onerror=alert(1)></annotation-xml></semantics></math>",
    "math-mglyph-style-mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "math-form-mxss": "<form><math><mtext></form><form><mglyph><style></math>"
    "<img src onerror=alert(1)>",
    "math-style-breakout": "<math><style><img src=x onerror=alert(1)></style></math>",
    "noscript-mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "template": "<template><img src=x onerror=alert(1)></template>",
    "base-href": '<base href="javascript:alert(1)//">',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "link-stylesheet": '<link rel="stylesheet" href="javascript:alert(1)">',
    "form-action": '<form action="javascript:alert(1)"><button>x</button></form>',
    "input-autofocus": '<input type="text" autofocus onfocus="alert(1)">',
    "span-class-spoof": '<span class="k admin-badge">x</span>',
}


@pytest.mark.parametrize("raw_html", RAW_HTML_PAYLOADS.values(), ids=RAW_HTML_PAYLOADS.keys())
def test_sanitizer_leaves_raw_html_payload_inert(raw_html):
    assert_inert(sanitize(raw_html))


def test_latex_class_does_not_reach_the_page_css():
    assert "class" not in parse(render("$\\class{btn-danger}{x}$")).find("mrow")[1].attrs


def test_latex_text_cannot_make_a_link():
    page = parse(render('$\\text{<a href="https://evil.example">登录</a>}$'))
    assert "a" not in page.tags()
    assert "evil.example" in page.find("mtext")[0].text


def test_sanitizer_keeps_only_known_classes():
    assert sanitize('<span class="k admin-badge">x</span>') == '<span class="k">x</span>'


def test_sanitizer_keeps_only_plain_table_alignment():
    kept = sanitize('<table><tr><td style="text-align:center">x</td></tr></table>')
    dropped = sanitize('<table><tr><td style="text-align:left;position:fixed">x</td></tr></table>')
    assert 'style="text-align:center"' in kept
    assert "style" not in dropped


def test_display_formulas_code_and_tables_scroll_in_boxes_that_take_keyboard_focus():
    """axe's scrollable-region-focusable: a box that scrolls sideways must be reachable with Tab;
    a focused formula box is named by its LaTeX source."""
    page = parse(render("$$\\frac{a}{b}$$\n\n文中 $$x^2$$ 公式\n\n|a|b|\n|-|-|\n|1|2|\n"))
    block, inline = (
        next(e for e in page.find(tag) if e.attrs.get("class") == "math-block")
        for tag in ("div", "span")
    )
    for box in (block, inline):
        assert box.attrs["tabindex"] == "0" and box.attrs["role"] == "group"
    assert block.attrs["aria-label"] == "\\frac{a}{b}" and inline.attrs["aria-label"] == "x^2"
    assert page.find("table")[0].attrs["tabindex"] == "0"


def test_only_the_renderer_sets_tabindex_and_roles():
    """Raw HTML is off: an author cannot write tabindex or role (they are shown as text)."""
    rendered = render('<div tabindex="0" role="group">x</div>')
    assert "<div" not in rendered and "&lt;div" in rendered
