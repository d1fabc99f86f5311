from django.contrib.auth import get_user_model
from django.db import transaction

from kb.models import Question
from kb.rules import rule
from kb.services.answers import answer_create
from kb.services.questions import question_create
from kb.services.tags import tag_upsert
from kb.starter import starter_questions, starter_tags


def system_user_get_or_create():
    """The account that owns starter content; it cannot log in."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=rule("SYSTEM_USERNAME"),
        defaults={"display_name": "面经 Mianjing", "is_system": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def starter_load() -> tuple[list[str], list[str]]:
    """Load the starter tags and questions through the ordinary services.

    Idempotent: tags are upserted, a question whose title already exists is skipped.
    Returns (created titles, skipped titles).
    """
    for tag in starter_tags():
        tag_upsert(name=tag.name, description=tag.description, aliases=tag.aliases)
    author = system_user_get_or_create()
    created, skipped = [], []
    for item in starter_questions():
        if Question.objects.filter(title__iexact=item.title).exists():
            skipped.append(item.title)
            continue
        question = question_create(
            actor=author,
            title=item.title,
            body=item.body,
            tags=item.tags,
            summary="starter content",
        )
        for answer_body in item.answers:
            answer_create(
                actor=author, question=question, body=answer_body, summary="starter content"
            )
        created.append(item.title)
    return created, skipped
