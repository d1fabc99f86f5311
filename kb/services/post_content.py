"""A post's content as an edit carries it, and the checks every edit path shares: direct edits
(kb.services.edits) and reviewed suggestions (kb.services.reviews) both import it, so neither
imports the other for it (edits -> reviews is the one direction: a direct edit supersedes a
waiting suggestion)."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kb.interview import Interview
from kb.models import Answer, Question
from kb.services.questions import validate_question
from kb.services.validation import validate_body

SUMMARY_MAX_LENGTH = 300


@dataclass(frozen=True)
class PostContent:
    title: str
    body: str
    tags: list[str] = field(default_factory=list)
    interview: Interview = field(default_factory=Interview)


def content_validated(actor, post: Question | Answer, content: PostContent) -> PostContent:
    if isinstance(post, Question):
        title, body, tags = validate_question(title=content.title, body=content.body,
                                              tags=content.tags, actor=actor)  # fmt: skip
        # The interview fields were validated on input (_interview_input).
        return PostContent(title=title, body=body, tags=tags, interview=content.interview)
    return PostContent(title="", body=validate_body(content.body))


def summary_clean(summary: str) -> str:
    summary = " ".join(summary.split())
    if len(summary) > SUMMARY_MAX_LENGTH:
        raise ValidationError(
            {
                "summary": _("The summary may be at most %(n)d characters.")
                % {"n": SUMMARY_MAX_LENGTH}
            }
        )
    return summary
