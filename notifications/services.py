"""Writes of the notifications app. The kb services call the `notification_*` functions inside
their own transaction, one line per event: the inbox rows commit (or roll back) with the event.
Nobody is notified of their own action."""

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, Comment, Flag, Question, Revision, Tag
from kb.services import page_cache
from notifications.models import (
    Bookmark,
    Notification,
    NotificationSettings,
    QuestionFollow,
    TagPreference,
)

User = get_user_model()
Kind = Notification.Kind

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")
MENTIONS_MAX = 5
TAGS_MAX = 100
MESSAGE_MAX_LENGTH = 500


def _notify(
    *,
    kind: str,
    recipient_ids: Iterable[int | None],
    actor=None,
    question: Question | None = None,
    answer: Answer | None = None,
    comment: Comment | None = None,
    revision: Revision | None = None,
    text: str = "",
) -> list[Notification]:
    """One inbox row per recipient, never for the actor themselves; one INSERT."""
    actor_id = actor.pk if actor is not None else None
    ids = sorted({pk for pk in recipient_ids if pk is not None and pk != actor_id})
    page_cache.viewers_changed(ids)  # their pages' inbox count
    return Notification.objects.bulk_create(
        Notification(
            recipient_id=pk, actor_id=actor_id, kind=kind, question=question, answer=answer,
            comment=comment, revision=revision, text=text[:500],
        )
        for pk in ids
    )  # fmt: skip


def _thread(post: Question | Answer) -> Question:
    return post if isinstance(post, Question) else post.question


# --- Follows --------------------------------------------------------------------------------


def question_follow_auto(*, user, question: Question) -> None:
    """Follow a question one asked, answered or commented on, unless one unfollowed it."""
    QuestionFollow.objects.bulk_create(
        [QuestionFollow(user=user, question=question)], ignore_conflicts=True
    )


def followable_question_get(*, viewer, pk: int) -> Question:
    """The question `viewer` may follow or bookmark; Question.DoesNotExist (a 404) when it is
    deleted or hidden from them."""
    question = Question.objects.visible_to(viewer).only("pk", "status", "author_id",
                                                        "hidden_by_flags").get(pk=pk)  # fmt: skip
    if not permissions.can_follow(viewer, question):
        raise Question.DoesNotExist
    return question


def _check_may_follow(actor, question: Question) -> None:
    permissions.refuse(permissions.follow_refusal(actor, question))


@transaction.atomic
def question_follow(*, actor, question: Question) -> QuestionFollow:
    _check_may_follow(actor, question)
    follow, created = QuestionFollow.objects.get_or_create(user=actor, question=question)
    if not created and not follow.active:
        follow.active = True
        follow.save(update_fields=["active"])
    return follow


@transaction.atomic
def question_unfollow(*, actor, question: Question) -> None:
    """Stop following; the row stays (inactive) so automatic follows leave it alone."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to follow questions."))
    QuestionFollow.objects.update_or_create(
        user=actor, question=question, defaults={"active": False}
    )


@transaction.atomic
def bookmark_add(*, actor, question: Question) -> Bookmark:
    _check_may_follow(actor, question)
    bookmark, _created = Bookmark.objects.get_or_create(user=actor, question=question)
    return bookmark


@transaction.atomic
def bookmark_remove(*, actor, question: Question) -> None:
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to follow questions."))
    Bookmark.objects.filter(user=actor, question=question).delete()


# --- Tags -----------------------------------------------------------------------------------


def _tags_named(names, field: str) -> list[Tag]:
    from kb.selectors.tags import tag_get

    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({field: _("Give a list of tag names.")})
    names = [n.strip() for n in names if n.strip()]
    if len(names) > TAGS_MAX:
        raise ValidationError({field: _("At most %(n)d tags.") % {"n": TAGS_MAX}})
    tags, unknown = {}, []
    for name in dict.fromkeys(names):
        try:
            tag = tag_get(name=name)
        except Tag.DoesNotExist:
            unknown.append(name)
        else:
            tags[tag.pk] = tag
    if unknown:
        raise ValidationError(
            {field: _("Unknown tags: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    return list(tags.values())


@transaction.atomic
def tag_preferences_set(*, actor, watched: list[str], ignored: list[str]) -> None:
    """Replace the member's watched and ignored tags (a tag cannot be both)."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to follow tags."))
    watched_tags = _tags_named(watched, "watched")
    ignored_tags = _tags_named(ignored, "ignored")
    both = {t.pk for t in watched_tags} & {t.pk for t in ignored_tags}
    if both:
        names = ", ".join(t.name for t in watched_tags if t.pk in both)
        raise ValidationError(
            {
                "ignored": _("A tag cannot be both watched and ignored: %(names)s.")
                % {"names": names}
            }
        )
    TagPreference.objects.filter(user=actor).delete()
    TagPreference.objects.bulk_create(
        [TagPreference(user=actor, tag=t, kind=TagPreference.Kind.WATCHED) for t in watched_tags]
        + [TagPreference(user=actor, tag=t, kind=TagPreference.Kind.IGNORED) for t in ignored_tags]
    )


@transaction.atomic
def tag_watch(*, actor, tag: Tag, kind: str | None) -> None:
    """Watch (kind "watched"), ignore ("ignored") or forget (None) one tag."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to follow tags."))
    if kind is None:
        TagPreference.objects.filter(user=actor, tag=tag).delete()
        return
    if kind not in TagPreference.Kind.values:
        raise ValidationError({"kind": _("Choose watched or ignored.")})
    TagPreference.objects.update_or_create(user=actor, tag=tag, defaults={"kind": kind})


# --- Settings and unsubscribing ---------------------------------------------------------------


@transaction.atomic
def notification_settings_set(
    *, actor, email_mode: str, hide_ignored: bool
) -> NotificationSettings:
    """Change e-mail and list settings. Every change makes earlier unsubscribe links void."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to change your settings."))
    if email_mode not in NotificationSettings.EmailMode.values:
        raise ValidationError({"email_mode": _("Choose none, daily or instant.")})
    row, created = NotificationSettings.objects.select_for_update().get_or_create(user=actor)
    if row.email_mode != email_mode:
        row.changed_at = timezone.now()  # mail only what arrives from now on
        row.version = F("version") + 1
    row.email_mode = email_mode
    row.hide_ignored = bool(hide_ignored)
    row.save()
    row.refresh_from_db()
    return row


@transaction.atomic
def email_unsubscribe(*, token: str) -> NotificationSettings:
    """One-click unsubscribe from a signed link (no login): e-mail off. The link names the
    settings version it was made for, so it works once per setting change."""
    from notifications.mail import unsubscribe_token_read

    user_id, version = unsubscribe_token_read(token)  # ValidationError when forged
    row = NotificationSettings.objects.select_for_update().filter(user_id=user_id).first()
    if row is None or row.version != version:
        raise ValidationError({"token": _("This unsubscribe link is no longer valid.")})
    row.email_mode = NotificationSettings.EmailMode.NONE
    row.version = F("version") + 1
    row.changed_at = timezone.now()
    row.save(update_fields=["email_mode", "version", "changed_at"])
    row.refresh_from_db()
    return row


# --- The inbox --------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(
    *, actor, ids: list[int] | None = None, everything: bool = False
) -> int:
    """Mark the actor's own notifications read: the given ids, or all. An id that is not in
    the actor's inbox is refused (nothing is marked). Returns how many changed."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Log in to read your inbox."))
    mine = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if not everything:
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise ValidationError({"ids": _("Give a list of notification ids, or all: true.")})
        found = set(
            Notification.objects.filter(recipient=actor, pk__in=ids).values_list("pk", flat=True)
        )
        missing = sorted(set(ids) - found)
        if missing:
            raise Notification.DoesNotExist(missing)
        mine = mine.filter(pk__in=ids)
    return mine.update(read_at=timezone.now())  # a POST: the member's pages move (MemberWrites)


def notification_open(*, actor, pk: int) -> Notification:
    """The actor opens one of their notifications: it is read from now on."""
    notification = Notification.objects.select_related(
        "question", "revision"
    ).get(pk=pk)  # fmt: skip
    if not permissions.can_read_notification(actor, notification):
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=pk).update(read_at=notification.read_at)
        page_cache.viewer_changed(actor.pk)
    return notification


# --- Events: called by the kb services, inside their transaction ----------------------------


def notification_question_asked(*, actor, question: Question) -> None:
    question_follow_auto(user=actor, question=question)


def notification_answer_posted(*, actor, answer: Answer) -> None:
    """Followers of the question learn of the answer; the answerer follows it from now on."""
    followers = QuestionFollow.objects.filter(question_id=answer.question_id, active=True)
    _notify(
        kind=Kind.ANSWER,
        recipient_ids=followers.values_list("user_id", flat=True),
        actor=actor,
        question=answer.question,
        answer=answer,
    )
    question_follow_auto(user=actor, question=answer.question)


def mentioned_usernames(text: str) -> list[str]:
    names = [name.rstrip(".") for name in MENTION.findall(text)]
    return list(dict.fromkeys(n for n in names if n))[:MENTIONS_MAX]


def notification_comment_posted(*, actor, comment: Comment, post: Question | Answer) -> None:
    """The post's author hears of the comment; members named with @username of the mention;
    the commenter follows the question."""
    question = _thread(post)
    _notify(kind=Kind.COMMENT, recipient_ids=[post.author_id], actor=actor, question=question,
            answer=comment.answer, comment=comment)  # fmt: skip
    names = mentioned_usernames(comment.body)
    if names:
        named = Q()
        for name in names:
            named |= Q(username__iexact=name)
        mentioned = User.objects.filter(named, is_active=True).exclude(pk=post.author_id)
        _notify(kind=Kind.MENTION, recipient_ids=mentioned.values_list("pk", flat=True),
                actor=actor, question=question, answer=comment.answer, comment=comment)  # fmt: skip
    question_follow_auto(user=actor, question=question)


def notification_post_edited(*, actor, post: Question | Answer, revision: Revision,
                             reviewer=None) -> None:  # fmt: skip
    """The author of a post edited by someone else (an approved suggestion: by its author, with
    `reviewer` the one who approved it, who is not told either)."""
    if reviewer is not None and reviewer.pk == post.author_id:
        return
    _notify(kind=Kind.EDITED, recipient_ids=[post.author_id], actor=actor,
            question=_thread(post), answer=post if isinstance(post, Answer) else None,
            revision=revision)  # fmt: skip


REVIEW_KINDS = {
    "approved": Kind.SUGGESTION_APPROVED,
    "improved": Kind.SUGGESTION_IMPROVED,
    "rejected": Kind.SUGGESTION_REJECTED,
}


def notification_edit_reviewed(*, actor, post: Question | Answer, revision: Revision,
                               outcome: str) -> None:  # fmt: skip
    """The author of a suggested edit hears it was approved, improved or rejected (with the
    reason, the revision's review note)."""
    _notify(kind=REVIEW_KINDS[outcome], recipient_ids=[revision.author_id], actor=actor,
            question=_thread(post), answer=post if isinstance(post, Answer) else None,
            revision=revision, text=revision.review_note)  # fmt: skip


def notification_answer_accepted(*, actor, answer: Answer) -> None:
    _notify(kind=Kind.ACCEPTED, recipient_ids=[answer.author_id], actor=actor,
            question=answer.question, answer=answer)  # fmt: skip


def notification_question_closed(*, actor, question: Question) -> None:
    duplicate = question.close_reason == Question.CloseReason.DUPLICATE
    _notify(kind=Kind.DUPLICATE if duplicate else Kind.CLOSED, recipient_ids=[question.author_id],
            actor=actor, question=question, text=question.get_close_reason_display())  # fmt: skip


def notification_question_reopened(*, actor, question: Question) -> None:
    _notify(kind=Kind.REOPENED, recipient_ids=[question.author_id], actor=actor,
            question=question)  # fmt: skip


def notification_flags_resolved(*, actor, target, flags: list[Flag], decision: str,
                                note: str = "") -> None:  # fmt: skip
    """Each flagger hears whether their flag was helpful or declined."""
    comment = target if isinstance(target, Comment) else None
    answer = target if isinstance(target, Answer) else (comment.answer if comment else None)
    if comment is not None:
        question = comment.question or comment.answer.question
    else:
        question = _thread(target)
    _notify(kind=Kind.FLAG_HELPFUL if decision == Flag.Status.HELPFUL else Kind.FLAG_DECLINED,
            recipient_ids=[f.user_id for f in flags], actor=actor, question=question,
            answer=answer, comment=comment, text=note)  # fmt: skip


def notification_flags_corrected(*, actor, post: Question | Answer, flag_ids: list[int]) -> None:
    """Inaccurate/outdated flags counted helpful because someone corrected the post."""
    flags = list(Flag.objects.filter(pk__in=flag_ids).only("pk", "user_id"))
    notification_flags_resolved(actor=actor, target=post, flags=flags,
                                decision=Flag.Status.HELPFUL)  # fmt: skip


@transaction.atomic
def notification_moderator_message(*, actor, recipient, text: str) -> Notification:
    """A moderator writes to a member: the message arrives in their inbox (and is logged)."""
    from kb.services.audit_log import moderation_log
    from kb.services.moderation import clean_reason

    permissions.refuse(permissions.moderator_message_refusal(actor, recipient))
    text = clean_reason(text, required=True, field="text", max_length=MESSAGE_MAX_LENGTH)
    moderation_log(actor=actor, action="moderator_message", target_user=recipient, reason=text,
                   is_public=False)  # fmt: skip
    return notification_moderator_message_write(actor=actor, recipient=recipient, text=text)


def notification_moderator_message_write(*, actor, recipient, text: str) -> Notification:
    """The inbox row of a moderator's message (a suspension's reason is one), for services
    that have checked and logged the action themselves."""
    return _notify(kind=Kind.MODERATOR_MESSAGE, recipient_ids=[recipient.pk], actor=actor,
                   text=text)[0]  # fmt: skip
