"""Shared checks for the text of posts. Raise ValidationError with field names."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from kb.rules import rule

# Raw HTML is never rendered (it shows as text), but a post that carries script-like HTML or a
# javascript: link is refused outright, so nobody stores a payload hoping for a renderer bug.
_html_finder = MarkdownIt("commonmark", {"html": True})
_DANGEROUS_HTML = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|math|form|base|meta|link)\b"
    r"|\son[a-z]+\s*=",
    re.IGNORECASE,
)
# markdown-it already refuses to make links of these; a text token then still holds the attempt.
_SCRIPT_LINK = re.compile(r"\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|\.|[^:/?#]*([/?#]|$))", re.IGNORECASE)


def _tokens(tokens):
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def unsafe_markup(body: str) -> str | None:
    """What in this Markdown is script-like (outside code spans and blocks), or None."""
    for token in _tokens(_html_finder.parse(body)):
        if token.type in ("html_block", "html_inline") and _DANGEROUS_HTML.search(token.content):
            return token.content.strip()[:60]
        if token.type == "text" and _SCRIPT_LINK.search(token.content):
            return _SCRIPT_LINK.search(token.content).group(0)[2:]
        if token.type in ("link_open", "image"):
            url = "".join(str(token.attrGet("href") or token.attrGet("src") or "").split())
            if url and not _SAFE_URL.match(url):
                return url[:60]
    return None


def clean_text(value: str) -> str:
    """Normalise line endings and refuse NUL bytes, which Postgres cannot store."""
    if "\x00" in value:
        raise ValidationError(_("Text may not contain NUL characters."))
    return value.replace("\r\n", "\n").replace("\r", "\n")


def validate_title(title: str) -> str:
    title = " ".join(clean_text(title).split())
    low, high = rule("TITLE_MIN_LENGTH"), rule("TITLE_MAX_LENGTH")
    if not low <= len(title) <= high:
        raise ValidationError(
            {"title": _("The title must be %(low)d–%(high)d characters long (it is %(n)d).")
             % {"low": low, "high": high, "n": len(title)}}
        )  # fmt: skip
    return title


def validate_body(body: str, *, field: str = "body") -> str:
    try:
        body = clean_text(body).strip("\n")
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    high = rule("BODY_MAX_LENGTH")
    if not body.strip():
        raise ValidationError({field: _("The text may not be empty.")})
    unsafe = unsafe_markup(body)
    if unsafe:
        raise ValidationError(
            {field: _("Script-like HTML or links are not allowed (%(what)s); put code in "
                      "backticks.") % {"what": unsafe}}
        )  # fmt: skip
    if len(body) > high:
        raise ValidationError(
            {field: _("The text may be at most %(high)d characters long (it is %(n)d).")
             % {"high": high, "n": len(body)}}
        )  # fmt: skip
    return body
