from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, Question, Revision
from kb.services.rate_limits import answer_rate_check
from kb.services.revisions import answer_count_refresh, revision_append
from kb.services.validation import validate_body
from notifications import services as notify


@transaction.atomic
def answer_create(
    *, actor, question: Question, body: str, summary: str = "", rate_limited: bool = False
) -> Answer:
    """Answer a question: the Answer row and its revision 1; the question's counters follow.
    The site's answer endpoints pass `rate_limited` to apply the new-member limits."""
    question = Question.objects.select_for_update().get(pk=question.pk)
    if not permissions.can_answer(actor, question):
        raise PermissionDenied(_("This question cannot be answered now."))
    body = validate_body(body)
    if rate_limited:
        answer_rate_check(actor=actor)
    answer = Answer.objects.create(question=question, body=body, body_html="", author=actor)
    revision_append(
        post=answer, author=actor, body=body, summary=summary, status=Revision.Status.APPROVED
    )
    answer_count_refresh(question_id=question.pk)
    notify.notification_answer_posted(actor=actor, answer=answer)
    return answer
