"""Moderator tools and the audit log.

- Every moderation write appends one audit-log row (kb.services.audit_log.moderation_log);
  the log's vocabulary is kb.moderation_actions.
- Locks: `post_lock` sets `locked_until` (LOCKED_INDEFINITELY when no expiry is given), so locking
  is independent of open/closed/deleted. A locked post takes no edits, votes, comments or answers
  (kb.permissions). Moderators may still edit.
- Deleting is soft: a question's status becomes "deleted", an answer's or comment's `is_deleted`
  is set; the content stays visible to its author and moderators. Deleting a post reverses what
  it earned (kb.services.reputation.post_reputation_reverse) and, when removed as spam, costs its
  author REPUTATION_SPAM_REMOVED. Undeleting restores what the deletion reversed (its log row
  keeps the reversals' ids; the events are written again); a spam penalty stays.
- Merging moves a duplicate's answers, with their revisions, votes and comments, to the original;
  the duplicate stays, closed, pointing at the original.

Locks are taken through kb.services.locking, in its one order.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kb import permissions
from kb.models import Answer, CloseVote, Comment, Question
from kb.moderation_actions import LOCKED_INDEFINITELY
from kb.rules import rule
from kb.selectors.moderation import post_deleted_by_author, post_deletion_reversals
from kb.services import reputation
from kb.services.audit_log import moderation_log
from kb.services.locking import (
    comment_locked_row,
    post_locked_row,
    questions_lock,
    thread_lock,
    user_locked_row,
)
from kb.services.revisions import answer_count_refresh, tags_recount
from kb.services.search_index import search_index_post
from kb.services.validation import clean_text
from notifications import services as notify

User = get_user_model()

REASON_MAX_LENGTH = 500


def clean_reason(
    reason: str, *, required: bool, field: str = "reason", max_length: int = REASON_MAX_LENGTH
) -> str:
    try:
        reason = " ".join(clean_text(str(reason or "")).split())
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    if required and not reason:
        raise ValidationError({field: _("Say why.")})
    if len(reason) > max_length:
        message = pgettext("moderation", "At most %(n)d characters.") % {"n": max_length}
        raise ValidationError({field: message})
    return reason


def clean_days(days, *, field: str, maximum: int, required: bool) -> int | None:
    if days in (None, "") and not required:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= maximum:
        message = _("A whole number of days from 1 to %(n)d.") % {"n": maximum}
        raise ValidationError({field: message})
    return days


def _check_moderator(actor) -> None:
    permissions.refuse(permissions.moderate_refusal(actor))


# --- Locks and protection -------------------------------------------------------------------


@transaction.atomic
def post_lock(*, actor, post: Question | Answer, reason: str, days: int | None = None):
    """Lock a question or an answer for `days` (None: until a moderator unlocks it)."""
    _check_moderator(actor)
    post = post_locked_row(post)
    reason = clean_reason(reason, required=True)
    days = clean_days(days, field="days", maximum=rule("LOCK_MAX_DAYS"), required=False)
    if post.is_deleted:
        raise ValidationError({"non_field_errors": _("This post is deleted.")})
    until = LOCKED_INDEFINITELY if days is None else timezone.now() + timedelta(days=days)
    post.locked_until = until
    post.save(update_fields=["locked_until"])
    moderation_log(
        actor=actor,
        action="post_lock",
        target=post,
        reason=reason,
        details={"until": None if days is None else until.isoformat()},
    )
    return post


@transaction.atomic
def post_unlock(*, actor, post: Question | Answer, reason: str = ""):
    _check_moderator(actor)
    post = post_locked_row(post)
    reason = clean_reason(reason, required=False)
    if not permissions.post_is_locked(post):
        raise ValidationError({"non_field_errors": _("This post is not locked.")})
    fields = ["locked_until"]
    post.locked_until = None
    if isinstance(post, Question) and post.status == Question.Status.LOCKED:
        post.status = Question.Status.CLOSED if post.close_reason else Question.Status.OPEN
        fields.append("status")
    post.save(update_fields=fields)
    moderation_log(actor=actor, action="post_unlock", target=post, reason=reason)
    return post


@transaction.atomic
def question_protect(
    *, actor, question: Question, protected: bool = True, reason: str = ""
) -> Question:
    """Protect a question (new members cannot answer it) or lift the protection."""
    _check_moderator(actor)
    question = post_locked_row(question)
    reason = clean_reason(reason, required=False)
    if question.protected == protected:
        message = (
            _("This question is already protected.")
            if protected
            else _("This question is not protected.")
        )
        raise ValidationError({"non_field_errors": message})
    question.protected = protected
    question.save(update_fields=["protected"])
    moderation_log(
        actor=actor,
        action="question_protect" if protected else "question_unprotect",
        target=question,
        reason=reason,
    )
    return question


# --- Deleting and undeleting ----------------------------------------------------------------


def _check_may_delete(actor, post: Question | Answer) -> None:
    permissions.refuse(permissions.delete_refusal(actor, post))


def _post_hide_clear(post) -> list[str]:
    if post.hidden_by_flags:
        post.hidden_by_flags = False
        return ["hidden_by_flags"]
    return []


def post_remove(
    *, actor, post: Question | Answer, reason: str, spam: bool, details: dict | None = None
) -> None:
    """Soft-delete a locked post row and do what follows: counts, search, reputation. The caller
    holds the locks and has checked the permission."""
    if isinstance(post, Question):
        post.status = Question.Status.DELETED
        fields = ["status", *_post_hide_clear(post)]
        post.save(update_fields=fields)
        tags_recount(tag_ids=set(post.tags.values_list("pk", flat=True)))
    else:
        post.is_deleted = True
        post.save(update_fields=["is_deleted", *_post_hide_clear(post)])
        answer_count_refresh(question_id=post.question_id)
        search_index_post(post=post)
    reversals = reputation.post_reputation_reversals(post=post)
    if spam:
        reputation.reputation_spam_penalty(post=post)
    moderation_log(
        actor=actor,
        action="post_delete",
        target=post,
        reason=reason,
        details={"spam": spam, "reversals": [r.pk for r in reversals], **(details or {})},
    )


@transaction.atomic
def post_delete(*, actor, post: Question | Answer, reason: str = "", spam: bool = False):
    """Delete a post (moderators; the author too, within limits). `spam` (moderators only)
    marks it removed as spam, which costs its author reputation."""
    post = post_locked_row(post)
    _check_may_delete(actor, post)
    if spam and not permissions.can_moderate(actor):
        raise PermissionDenied(_("Only moderators can remove a post as spam."))
    reason = clean_reason(reason, required=False)
    post_remove(actor=actor, post=post, reason=reason, spam=spam)
    return post


@transaction.atomic
def post_undelete(*, actor, post: Question | Answer, reason: str = ""):
    """Restore a deleted post: moderators, or its author when the author deleted it."""
    post = post_locked_row(post)
    reason = clean_reason(reason, required=False)
    refusal = permissions.undelete_refusal(
        actor, post, deleted_by_author=post_deleted_by_author(post)
    )
    permissions.refuse(refusal)
    reputation.post_reputation_restore(post=post, reversal_ids=post_deletion_reversals(post))
    if isinstance(post, Question):
        post.status = Question.Status.CLOSED if post.close_reason else Question.Status.OPEN
        post.save(update_fields=["status"])
        tags_recount(tag_ids=set(post.tags.values_list("pk", flat=True)))
    else:
        post.is_deleted = False
        post.save(update_fields=["is_deleted"])
        answer_count_refresh(question_id=post.question_id)
        search_index_post(post=post)
    moderation_log(actor=actor, action="post_undelete", target=post, reason=reason)
    return post


@transaction.atomic
def comment_undelete(*, actor, comment: Comment, reason: str = "") -> Comment:
    """Restore a deleted comment (moderators)."""
    _check_moderator(actor)
    comment = comment_locked_row(comment)
    reason = clean_reason(reason, required=False)
    if not comment.is_deleted:
        raise ValidationError({"non_field_errors": _("This comment is not deleted.")})
    comment.is_deleted = False
    comment.updated_at = timezone.now()
    comment.save(update_fields=["is_deleted", "updated_at", *_post_hide_clear(comment)])
    moderation_log(actor=actor, action="comment_undelete", target=comment, reason=reason)
    return comment


# --- Merging duplicates ---------------------------------------------------------------------


@transaction.atomic
def question_merge(*, actor, question: Question, into: Question, reason: str = "") -> Question:
    """Move `question`'s answers (live and deleted, with their revisions, votes and comments) to
    `into`, and close `question` as its duplicate. Nothing is removed; both timelines say so."""
    _check_moderator(actor)
    reason = clean_reason(reason, required=False)
    if question.pk == into.pk:
        raise ValidationError({"into": _("A question cannot be merged into itself.")})
    # Lock both questions in ascending id, then their answers.
    locked = questions_lock(question_ids=[question.pk, into.pk])
    source, target = locked[question.pk], locked[into.pk]
    if source.is_deleted or target.is_deleted:
        raise ValidationError({"into": _("Deleted questions cannot be merged.")})
    if target.duplicate_of_id is not None:
        raise ValidationError(
            {"into": _("That question is itself a duplicate; merge into the original.")}
        )
    answer_ids = thread_lock(question_id=source.pk)
    Answer.objects.filter(pk__in=answer_ids).update(question=target)
    source.status = Question.Status.CLOSED
    source.close_reason = Question.CloseReason.DUPLICATE
    source.duplicate_of = target
    source.accepted_answer = None
    source.save(update_fields=["status", "close_reason", "duplicate_of", "accepted_answer"])
    CloseVote.objects.filter(question=source, is_active=True).update(is_active=False)
    answer_count_refresh(question_id=source.pk)
    answer_count_refresh(question_id=target.pk)
    Question.objects.filter(pk=target.pk).update(last_activity_at=timezone.now())
    search_index_post(post=source)
    search_index_post(post=target)
    moderation_log(
        actor=actor,
        action="merged_into",
        target=source,
        reason=reason,
        details={"into": target.pk, "answers": answer_ids},
    )
    moderation_log(
        actor=actor,
        action="merged_from",
        target=target,
        reason=reason,
        details={"from": source.pk, "answers": answer_ids},
    )
    return source


# --- Suspensions ----------------------------------------------------------------------------


@transaction.atomic
def user_suspend(*, actor, user, days: int, reason: str):
    """Suspend a member for `days`: they keep reading but cannot write."""
    _check_moderator(actor)
    reason = clean_reason(reason, required=True)
    days = clean_days(days, field="days", maximum=rule("SUSPENSION_MAX_DAYS"), required=True)
    if user.pk == actor.pk or permissions.is_moderator(user):
        raise PermissionDenied(_("Moderators cannot be suspended."))
    user = user_locked_row(user)
    user.suspended_until = timezone.now() + timedelta(days=days)
    user.save(update_fields=["suspended_until"])
    moderation_log(
        actor=actor,
        action="user_suspend",
        target_user=user,
        reason=reason,
        is_public=False,
        details={"days": days, "until": user.suspended_until.isoformat()},
    )
    notify.notification_moderator_message_write(actor=actor, recipient=user, text=reason)
    return user


@transaction.atomic
def user_unsuspend(*, actor, user, reason: str = ""):
    _check_moderator(actor)
    reason = clean_reason(reason, required=False)
    user = user_locked_row(user)
    if user.suspended_until is None or user.suspended_until <= timezone.now():
        raise ValidationError({"non_field_errors": _("This member is not suspended.")})
    user.suspended_until = None
    user.save(update_fields=["suspended_until"])
    moderation_log(
        actor=actor, action="user_unsuspend", target_user=user, reason=reason, is_public=False
    )
    return user
