"""Forms for asking, answering, editing and commenting. They only read and type the input (text
stays exactly as typed); every rule is checked by the service the view calls, whose field errors
`add_service_errors` puts back on the form."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kb.form_tokens import form_token_new
from kb.interview import (
    DIFFICULTY_CHOICES,
    Interview,
    field_text,
    parse_follow_up_lines,
    parse_lines,
)
from kb.interview import FIELDS as INTERVIEW_FIELDS

# Tags may be separated by commas (also Chinese ones), 、 or spaces.
_TAG_SEPARATORS = re.compile(r"[\s,，、;；]+")

MARKDOWN_HELP = _("Markdown: **bold**, `code`, ```code blocks```, formulas with $…$ and $$…$$.")


def tag_names(text: str) -> list[str]:
    """The names in a comma- or space-separated tag field."""
    return [name for name in _TAG_SEPARATORS.split(text or "") if name]


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors next to their visible field,
    the rest (hidden fields, `non_field_errors`) at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = form.fields.get(name)
        target = name if field is not None and not field.widget.is_hidden else None
        for message in errors:
            form.add_error(target, message)


class MarkdownField(forms.CharField):
    """A Markdown text exactly as typed, except that browsers send textarea line breaks as CRLF:
    they become LF here, so a three-way merge compares lines with the stored revisions."""

    def __init__(self, **kwargs):
        super().__init__(required=False, strip=False, **kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


def _markdown_area(rows: int, placeholder=None) -> forms.Textarea:
    attrs = {"rows": rows, "class": "editor__input", "spellcheck": "true"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


def _lines_area(rows: int, help_text) -> forms.CharField:
    return forms.CharField(
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "class": "interview-input"}),
    )


class InterviewFieldsMixin(forms.Form):
    """The interview fields (kb.interview), typed as lines; the service validates them."""

    difficulty = forms.ChoiceField(
        label=_("Difficulty"), required=False, choices=[("", "—"), *DIFFICULTY_CHOICES]
    )
    short_answer = forms.CharField(
        label=_("Short answer"),
        required=False,
        help_text=_("The answer in one or two sentences, as you would say it in 30 seconds."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    key_points = _lines_area(5, _("What an interviewer listens for; one point per line."))
    common_mistakes = _lines_area(4, _("What notes on the web get wrong; one per line."))
    follow_ups = _lines_area(
        4,
        _("Follow-up questions, one per line; end a line with #123 to link question 123."),
    )

    def interview_input(self) -> dict:
        data = self.cleaned_data
        return {
            "difficulty": data.get("difficulty", ""),
            "short_answer": data.get("short_answer", ""),
            "key_points": parse_lines(data.get("key_points", "")),
            "common_mistakes": parse_lines(data.get("common_mistakes", "")),
            "follow_ups": parse_follow_up_lines(data.get("follow_ups", "")),
        }


def interview_initial(interview: Interview) -> dict:
    return {name: field_text(interview, name) for name in INTERVIEW_FIELDS}


class OneTimeTokenMixin(forms.Form):
    """A hidden one-time token (kb.form_tokens): a form sent twice makes one post."""

    form_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", form_token_new())

    def token(self) -> str:
        return str(self.data.get("form_token", "")).strip()


class QuestionForm(OneTimeTokenMixin, InterviewFieldsMixin, forms.Form):
    title = forms.CharField(
        label=_("Title"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. Why does LLaMA use RMSNorm instead of LayerNorm?")}
        ),
    )
    body = MarkdownField(label=_("Question"), help_text=MARKDOWN_HELP, widget=_markdown_area(12))
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("1 to 5 tags, separated by commas or spaces; new tags are created."),
        widget=forms.TextInput(
            attrs={
                "placeholder": _("e.g. llm, normalization"),
                "autocomplete": "off",
                "autocapitalize": "none",
                "list": "tag-suggestions",
                "class": "tag-input",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # static/kb/similar.js lists similar questions while the title is typed.
        self.fields["title"].widget.attrs.update(
            {
                "data-similar-url": reverse_lazy("api:search_similar"),
                "data-similar-heading": _("Similar questions (yours may already be answered)"),
                "data-similar-tags-heading": _("Suggested tags:"),
            }
        )

    def tag_list(self) -> list[str]:
        return tag_names(self.cleaned_data.get("tags", ""))


class AnswerForm(OneTimeTokenMixin, forms.Form):
    body = MarkdownField(label=_("Your answer"), help_text=MARKDOWN_HELP, widget=_markdown_area(10))


class EditForm(InterviewFieldsMixin, forms.Form):
    """Editing a question (title, body, tags) or an answer (body): the summary and the number of
    the revision the editor started from travel with the text."""

    title = QuestionForm.base_fields["title"]
    body = MarkdownField(label=_("Text"), help_text=MARKDOWN_HELP, widget=_markdown_area(16))
    tags = QuestionForm.base_fields["tags"]
    summary = forms.CharField(
        label=_("Edit summary"),
        required=False,
        help_text=_("What did you change, and why? e.g. “fixed the formula”."),
        widget=forms.TextInput(attrs={"maxlength": 300}),
    )
    base_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, is_question: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_question:
            for name in ("title", "tags", *INTERVIEW_FIELDS):
                del self.fields[name]

    def tag_list(self) -> list[str] | None:
        if "tags" not in self.fields:
            return None
        return tag_names(self.cleaned_data.get("tags", ""))


class RollbackForm(forms.Form):
    to = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    summary = forms.CharField(label=_("Why roll back?"), required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        required=False,
        help_text=_("Up to 600 characters: *emphasis*, `code`, [links](https://…) and $formulas$."),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 600, "class": "comment-form__input"}),
    )
