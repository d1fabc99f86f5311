"""Comments: short Markdown-lite notes under a question or an answer. Every text is a
CommentRevision; deleting only hides."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import markdown, permissions
from kb.models import Answer, Comment, CommentRevision, ModerationAction, Question
from kb.rules import rule
from kb.services import page_cache
from kb.services.locking import comment_locked_row
from kb.services.validation import clean_text, unsafe_markup
from notifications import services as notify

COMMENT_MAX_LENGTH = 600


def validate_comment_body(body: str) -> str:
    try:
        body = " ".join(clean_text(body).split())
    except ValidationError as error:
        raise ValidationError({"body": error.messages}) from error
    if not body:
        raise ValidationError({"body": _("The comment may not be empty.")})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"body": _("A comment may be at most %(high)d characters long (it is %(n)d).")
             % {"high": COMMENT_MAX_LENGTH, "n": len(body)}}
        )  # fmt: skip
    if unsafe_markup(body):
        raise ValidationError({"body": _("Script-like HTML or links are not allowed.")})
    return body


def _parent_question(post: Question | Answer) -> Question:
    return post if isinstance(post, Question) else post.question


@transaction.atomic
def comment_create(*, actor, post: Question | Answer, body: str) -> Comment:
    permissions.refuse(permissions.comment_refusal(actor, post))
    body = validate_comment_body(body)
    comment = Comment.objects.create(
        question=post if isinstance(post, Question) else None,
        answer=post if isinstance(post, Answer) else None,
        author=actor,
        body=body,
        body_html=markdown.render_comment(body),
        renderer_version=markdown.RENDERER_VERSION,
    )
    CommentRevision.objects.create(comment=comment, number=1, body=body, author=actor)
    Question.objects.filter(pk=_parent_question(post).pk).update(last_activity_at=timezone.now())
    page_cache.post_changed(post)
    notify.notification_comment_posted(actor=actor, comment=comment, post=post)
    return comment


def comment_is_editable(*, actor, comment: Comment) -> bool:
    """The author may edit for COMMENT_EDIT_SECONDS after posting; moderators any time."""
    if comment.is_deleted or not permissions.is_active_member(actor):
        return False
    if permissions.is_moderator(actor):
        return True
    window = comment_edit_window()
    return comment.author_id == actor.pk and timezone.now() - comment.created_at <= window


def comment_edit_window() -> timedelta:
    return timedelta(seconds=rule("COMMENT_EDIT_SECONDS"))


@transaction.atomic
def comment_edit(*, actor, comment: Comment, body: str) -> Comment:
    comment = comment_locked_row(comment)
    if not comment_is_editable(actor=actor, comment=comment):
        raise PermissionDenied(_("This comment can no longer be edited."))
    body = validate_comment_body(body)
    if body == comment.body:
        raise ValidationError({"body": _("Nothing changed.")})
    number = comment.revisions.count() + 1
    CommentRevision.objects.create(comment=comment, number=number, body=body, author=actor)
    comment.body = body
    comment.body_html = markdown.render_comment(body)
    comment.renderer_version = markdown.RENDERER_VERSION
    comment.updated_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "renderer_version", "updated_at"])
    page_cache.comment_changed(comment)
    return comment


@transaction.atomic
def comment_delete(*, actor, comment: Comment, reason: str = "") -> Comment:
    """Hide a comment (author or moderator). A moderator's removal goes into the audit log."""
    comment = comment_locked_row(comment)
    permissions.refuse(permissions.comment_delete_refusal(actor, comment))
    is_author = comment.author_id == actor.pk
    if comment.is_deleted:
        raise ValidationError({"non_field_errors": _("This comment is already deleted.")})
    comment.is_deleted = True
    comment.updated_at = timezone.now()
    comment.save(update_fields=["is_deleted", "updated_at"])
    page_cache.comment_changed(comment)
    if not is_author:
        ModerationAction.objects.create(
            actor=actor, action="comment_delete", comment=comment, target_user=comment.author,
            reason=reason[:500],
        )  # fmt: skip
    return comment
