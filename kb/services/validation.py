"""Shared checks for the text of posts. Raise ValidationError with field names."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kb.rules import rule


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
    if len(body) > high:
        raise ValidationError(
            {field: _("The text may be at most %(high)d characters long (it is %(n)d).")
             % {"high": high, "n": len(body)}}
        )  # fmt: skip
    return body
