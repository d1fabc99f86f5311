import html
import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import markdown, permissions
from kb.models import Answer, Question, Revision
from kb.rules import rule
from kb.services.locking import question_locked_row
from kb.services.rate_limits import answer_rate_check
from kb.services.revisions import answer_count_refresh, revision_append
from kb.services.validation import validate_body
from notifications import services as notify

_TAG = re.compile(r"<[^>]+>")


def text_length(body: str) -> int:
    """How many characters of text `body` shows once rendered: Markdown syntax, HTML tags and
    runs of white space do not count (a run counts as one space)."""
    text = html.unescape(_TAG.sub(" ", markdown.render(body)))
    return len(" ".join(text.split()))


def validate_answer_body(body: str) -> str:
    body = validate_body(body)
    low = rule("ANSWER_MIN_TEXT_LENGTH")
    length = text_length(body)
    if length < low:
        raise ValidationError(
            {"body": _("An answer needs at least %(low)d characters of text (it has %(n)d).")
             % {"low": low, "n": length}}
        )  # fmt: skip
    return body


def _resubmitted(*, actor, question: Question, body: str) -> Answer | None:
    """The same answer by the same member to the same question within the last
    RESUBMIT_WINDOW_SECONDS (Back and submit again, a double click): it is returned instead of a
    second copy."""
    since = timezone.now() - timedelta(seconds=rule("RESUBMIT_WINDOW_SECONDS"))
    return (
        Answer.objects.filter(
            question=question, author=actor, body=body, is_deleted=False, created_at__gte=since
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def answer_create(
    *, actor, question: Question, body: str, summary: str = "", rate_limited: bool = False
) -> Answer:
    """Answer a question: the Answer row and its revision 1; the question's counters follow.
    The site's answer endpoints pass `rate_limited` to apply the new-member limits. The same
    body sent again within minutes creates nothing and returns the answer already made (the
    question's row lock serialises the two submissions)."""
    question = question_locked_row(question)
    permissions.refuse(permissions.answer_refusal(actor, question))
    body = validate_answer_body(body)
    existing = _resubmitted(actor=actor, question=question, body=body)
    if existing is not None:
        return existing
    if rate_limited:
        answer_rate_check(actor=actor)
    answer = Answer.objects.create(question=question, body=body, body_html="", author=actor)
    revision_append(
        post=answer, author=actor, body=body, summary=summary, status=Revision.Status.APPROVED
    )
    answer_count_refresh(question_id=question.pk)
    notify.notification_answer_posted(actor=actor, answer=answer)
    return answer
