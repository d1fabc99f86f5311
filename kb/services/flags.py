"""Flags: members point moderators (and editors) at posts and comments that need attention.

- A member flags someone else's question, answer or comment with a reason (spam, rude or
  abusive, inaccurate, outdated, duplicate, or "needs moderator attention", which needs text);
  one pending flag per member per target (unique constraints one_pending_flag_per_user_*).
- FLAGS_PER_DAY flags a calendar day, one more per HELPFUL_FLAGS_PER_EXTRA_FLAG helpful flags
  the member has raised, up to FLAGS_PER_DAY_MAX; past it, RateLimited (HTTP 429).
- FLAGS_TO_HIDE pending spam or abusive flags hide the target (`hidden_by_flags`) from everyone
  but its author and moderators until a moderator acts.
- Moderators resolve all pending flags on a target at once: "helpful" or "declined". Helpful
  spam or abusive flags remove the target (a post removed because of spam flags costs its author
  REPUTATION_SPAM_REMOVED); declined flags un-hide it.
- Inaccurate and outdated flags on a question or answer also put it in the correction queue for
  members who edit directly; the next approved edit of the post marks them helpful.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, Comment, Flag, Question
from kb.rules import rule
from kb.services.audit_log import moderation_log
from kb.services.locking import comment_locked_row, post_locked_row, users_lock
from kb.services.moderation import clean_reason, post_remove
from kb.services.rate_limits import RateLimited
from kb.services.reputation import day_start, next_day_start
from kb.services.revisions import post_counts_refresh
from notifications import services as notify

Reason = Flag.Reason
SPAM_LIKE = (Reason.SPAM, Reason.RUDE)
CORRECTION_REASONS = Flag.CORRECTION_REASONS
DECISIONS = (Flag.Status.HELPFUL, Flag.Status.DECLINED)
TEXT_MAX_LENGTH = 500

Target = Question | Answer | Comment


def target_key(target: Target) -> str:
    if isinstance(target, Question):
        return "question"
    return "answer" if isinstance(target, Answer) else "comment"


def _locked_target(target: Target) -> Target:
    """Lock the target's row (a post's in kb.services.locking's order)."""
    if isinstance(target, Comment):
        return comment_locked_row(target)
    return post_locked_row(target)


def flag_daily_limit(*, user) -> int:
    """How many flags `user` may raise a day."""
    helpful = Flag.objects.filter(user=user, status=Flag.Status.HELPFUL).count()
    extra = helpful // rule("HELPFUL_FLAGS_PER_EXTRA_FLAG")
    return min(rule("FLAGS_PER_DAY_MAX"), rule("FLAGS_PER_DAY") + extra)


def flags_raised_today(*, user) -> int:
    return Flag.objects.filter(user=user, created_at__gte=day_start()).count()


def _clean_flag(reason, text) -> tuple[str, str]:
    if reason not in Reason.values:
        raise ValidationError(
            {"reason": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Reason.values)}}
        )
    text = clean_reason(
        text, required=reason == Reason.MODERATOR, field="text", max_length=TEXT_MAX_LENGTH
    )
    return reason, text


@transaction.atomic
def flag_create(*, actor, target: Target, reason: str, text: str = "") -> Flag:
    """Flag a question, an answer or a comment."""
    target = _locked_target(target)
    permissions.refuse(permissions.flag_refusal(actor, target))
    reason, text = _clean_flag(reason, text)
    key = target_key(target)
    if Flag.objects.filter(user=actor, status=Flag.Status.PENDING, **{key: target}).exists():
        raise ValidationError(
            {"non_field_errors": _("You have already flagged this; a moderator will look at it.")}
        )
    users_lock(user_ids=[actor.pk])
    limit = flag_daily_limit(user=actor)
    if flags_raised_today(user=actor) >= limit:
        raise RateLimited(
            _("You have used your %(n)d flags for today.") % {"n": limit},
            retry_at=next_day_start(),
            code="flag_limit_reached",
        )
    try:
        with transaction.atomic():
            flag = Flag.objects.create(user=actor, reason=reason, text=text, **{key: target})
    except IntegrityError as error:  # the same member flagged it a moment ago
        raise ValidationError({"non_field_errors": _("You have already flagged this.")}) from error
    moderation_log(
        actor=actor,
        action="flag_create",
        target=target,
        is_public=False,
        details={"flag": flag.pk, "reason": reason},
    )
    if reason in SPAM_LIKE and not target.hidden_by_flags:
        count = Flag.objects.filter(
            status=Flag.Status.PENDING, reason__in=SPAM_LIKE, **{key: target}
        ).count()
        if count >= rule("FLAGS_TO_HIDE"):
            target.hidden_by_flags = True
            target.save(update_fields=["hidden_by_flags"])
            post_counts_refresh(post=target)
            moderation_log(
                actor=actor,
                action="hidden_by_flags",
                target=target,
                is_public=False,
                details={"flags": count},
            )
    return flag


@dataclass(frozen=True)
class FlagResolution:
    target: Target
    decision: str
    flags: int
    removed: bool


@transaction.atomic
def flags_resolve(*, actor, target: Target, decision: str, note: str = "") -> FlagResolution:
    """A moderator marks every pending flag on `target` helpful or declined."""
    if not permissions.can_moderate(actor):
        raise PermissionDenied(_("Only moderators can handle flags."))
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose helpful or declined.")})
    note = clean_reason(note, required=False, field="note")
    target = _locked_target(target)
    key = target_key(target)
    flags = list(
        Flag.objects.select_for_update().filter(status=Flag.Status.PENDING, **{key: target})
    )
    if not flags:
        raise ValidationError({"non_field_errors": _("There are no pending flags here.")})
    now = timezone.now()
    Flag.objects.filter(pk__in=[f.pk for f in flags]).update(
        status=decision, handled_by=actor, handled_at=now
    )
    reasons = sorted({f.reason for f in flags})
    moderation_log(
        actor=actor,
        action=f"flags_{decision}",
        target=target,
        reason=note,
        is_public=False,
        details={"flags": [f.pk for f in flags], "reasons": reasons},
    )
    notify.notification_flags_resolved(
        actor=actor, target=target, flags=flags, decision=decision, note=note
    )
    removed = False
    if decision == Flag.Status.HELPFUL and set(reasons) & set(SPAM_LIKE) and not target.is_deleted:
        removed = True
        spam = Reason.SPAM in reasons
        if isinstance(target, Comment):
            target.is_deleted = True
            target.hidden_by_flags = False
            target.updated_at = now
            target.save(update_fields=["is_deleted", "hidden_by_flags", "updated_at"])
            moderation_log(
                actor=actor,
                action="comment_delete",
                target=target,
                reason=note,
                details={"spam": spam, "flags": len(flags)},
            )
        else:
            post_remove(
                actor=actor, post=target, reason=note, spam=spam, details={"flags": len(flags)}
            )
    elif decision == Flag.Status.DECLINED and target.hidden_by_flags:
        target.hidden_by_flags = False
        target.save(update_fields=["hidden_by_flags"])
        post_counts_refresh(post=target)
    return FlagResolution(target=target, decision=decision, flags=len(flags), removed=removed)


def flags_mark_corrected(*, actor, post: Question | Answer) -> int:
    """After an approved edit of `post`: its pending inaccurate/outdated flags were acted on.
    Called inside the edit's transaction. Returns how many flags it marked."""
    key = target_key(post)
    flags = Flag.objects.filter(
        status=Flag.Status.PENDING, reason__in=CORRECTION_REASONS, **{key: post}
    )
    ids = list(flags.values_list("pk", flat=True))
    if ids:
        Flag.objects.filter(pk__in=ids).update(
            status=Flag.Status.HELPFUL, handled_by=actor, handled_at=timezone.now()
        )
        moderation_log(
            actor=actor,
            action="flags_corrected",
            target=post,
            is_public=False,
            details={"flags": ids},
        )
        notify.notification_flags_corrected(actor=actor, post=post, flag_ids=ids)
    return len(ids)
