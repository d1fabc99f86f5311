"""The audit log's one writer. Every moderation write (reviews, flags, close votes, locks, deletion,
merges, suspensions, imports) appends one ModerationAction row here: who, what, on what, why,
when. For a post the row always carries the question (the thread), and the answer or comment when
that is the target, so a question's timeline is one indexed query. `is_public` rows make the
post's public timeline; the whole log is for moderators. The words for each action are in
kb.moderation_actions."""

from kb.models import Answer, Comment, ModerationAction, Question
from kb.services import page_cache


def moderation_log(
    *,
    actor,
    action: str,
    target: Question | Answer | Comment | None = None,
    target_user=None,
    reason: str = "",
    is_public: bool = True,
    details: dict | None = None,
) -> ModerationAction:
    """Append one row to the audit log."""
    keys: dict = {"question": None, "answer": None, "comment": None}
    if isinstance(target, Question):
        keys["question"] = target
    elif isinstance(target, Answer):
        keys.update(question_id=target.question_id, answer=target)
    elif isinstance(target, Comment):
        question_id = target.question_id or Answer.objects.values_list(
            "question_id", flat=True
        ).get(pk=target.answer_id)
        keys.update(question_id=question_id, answer_id=target.answer_id, comment=target)
    if target_user is None and target is not None:
        target_user_id = target.author_id
    else:
        target_user_id = getattr(target_user, "pk", None)
    page_cache.moderation_logged(keys=keys, user_id=target_user_id)  # what it did to pages
    return ModerationAction.objects.create(
        actor=actor,
        action=action,
        target_user_id=target_user_id,
        reason=reason,
        is_public=is_public,
        details=details or {},
        **keys,
    )
