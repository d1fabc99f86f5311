from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kb import permissions
from kb.interview import validate_interview
from kb.models import Question, Revision
from kb.services.rate_limits import question_rate_check
from kb.services.revisions import revision_append
from kb.services.tags import tags_resolve
from kb.services.validation import validate_body, validate_title
from notifications import services as notify


def validate_question(
    *, title: str, body: str, tags: list[str], actor=None
) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    for field, check in (
        ("title", lambda: validate_title(title)),
        ("body", lambda: validate_body(body)),
    ):
        try:
            cleaned[field] = check()
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        names = [t for t in tags if str(t).strip()]
        if not names:
            raise ValidationError({"tags": _("Add at least one tag.")})
        tag_objects = tags_resolve(names=names, creator=actor)
        cleaned["tags"] = [t.name for t in tag_objects]
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned["title"], cleaned["body"], cleaned["tags"]  # type: ignore[return-value]


@transaction.atomic
def question_create(
    *,
    actor,
    title: str,
    body: str,
    tags: list[str],
    summary: str = "",
    rate_limited: bool = False,
    interview: dict | None = None,
) -> Question:
    """Ask a question: the Question row and its revision 1, in one transaction. The site's ask
    endpoints pass `rate_limited` to apply the new-member limits (kb.services.rate_limits)."""
    permissions.refuse(permissions.ask_refusal(actor))
    title, body, tag_names = validate_question(title=title, body=body, tags=tags, actor=actor)
    fields = validate_interview(**(interview or {}))
    if rate_limited:
        question_rate_check(actor=actor)
    question = Question.objects.create(title=title, body=body, body_html="", author=actor)
    revision_append(
        post=question,
        author=actor,
        title=title,
        body=body,
        tags=tag_names,
        interview=fields,
        summary=summary,
        status=Revision.Status.APPROVED,
    )
    notify.notification_question_asked(actor=actor, question=question)
    return question
