"""Closing and reopening questions by votes.

Members with the close privilege vote to close an open question, with a reason (a duplicate of a
given question, off-topic, needs details, opinion-based), or to reopen a closed one.
CLOSE_VOTES_NEEDED active votes decide; a moderator's vote decides alone. The reason that closes
is the one most voters gave (ties go to the earliest), and for duplicates the original most of
them named. Deciding retires the active votes of that kind (is_active=False), which stay as
history; the decision goes into the moderation log, public, naming the voters.
"""

from collections import Counter
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import CloseVote, Question
from kb.rules import rule
from kb.services.audit_log import moderation_log
from kb.services.locking import question_locked_row
from notifications import services as notify

Kind = CloseVote.Kind
Reason = Question.CloseReason


@dataclass(frozen=True)
class CloseResult:
    question: Question
    decided: bool  # True when this vote closed (or reopened) the question
    votes: int  # active votes of this kind after this one (0 once decided)
    needed: int


def _check_may_vote(actor, question: Question) -> None:
    permissions.refuse(permissions.close_vote_refusal(actor, question))


def _clean_duplicate_of(*, actor, question: Question, reason: str, duplicate_of) -> Question | None:
    if reason != Reason.DUPLICATE:
        if duplicate_of not in (None, ""):
            raise ValidationError({"duplicate_of": _("Only a duplicate names another question.")})
        return None
    if duplicate_of in (None, ""):
        raise ValidationError({"duplicate_of": _("Name the question this one duplicates.")})
    if isinstance(duplicate_of, bool) or not isinstance(duplicate_of, int):
        raise ValidationError({"duplicate_of": _("Give the number of a question.")})
    original = Question.objects.visible_to(actor).filter(pk=duplicate_of).first()
    if original is None or original.is_deleted:
        raise ValidationError({"duplicate_of": _("No question %(n)d.") % {"n": duplicate_of}})
    if original.pk == question.pk:
        raise ValidationError({"duplicate_of": _("A question cannot duplicate itself.")})
    if original.duplicate_of_id is not None:
        raise ValidationError(
            {"duplicate_of": _("That question is itself a duplicate; name the original.")}
        )
    return original


def _vote(*, actor, question: Question, kind: str, reason: str = "", duplicate_of=None):
    try:
        with transaction.atomic():
            return CloseVote.objects.create(
                question=question, user=actor, kind=kind, reason=reason, duplicate_of=duplicate_of
            )
    except IntegrityError as error:
        message = (
            _("You have already voted to close this question.")
            if kind == Kind.CLOSE
            else _("You have already voted to reopen this question.")
        )
        raise ValidationError({"non_field_errors": message}) from error


@transaction.atomic
def question_close(*, actor, question: Question, reason: str, duplicate_of=None) -> CloseResult:
    """Vote to close `question` (a moderator closes it at once)."""
    question = question_locked_row(question)
    _check_may_vote(actor, question)
    if question.status != Question.Status.OPEN:
        raise ValidationError({"non_field_errors": _("This question is not open.")})
    if reason not in Reason.values:
        raise ValidationError(
            {"reason": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Reason.values)}}
        )
    original = _clean_duplicate_of(
        actor=actor, question=question, reason=reason, duplicate_of=duplicate_of
    )
    _vote(actor=actor, question=question, kind=Kind.CLOSE, reason=reason, duplicate_of=original)
    moderation_log(
        actor=actor,
        action="close_vote",
        target=question,
        is_public=False,
        details={"reason": reason, "duplicate_of": original.pk if original else None},
    )
    votes = list(
        CloseVote.objects.filter(question=question, kind=Kind.CLOSE, is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    needed = rule("CLOSE_VOTES_NEEDED")
    if not permissions.is_moderator(actor) and len(votes) < needed:
        return CloseResult(question=question, decided=False, votes=len(votes), needed=needed)
    if permissions.is_moderator(actor):
        final_reason, final_original = reason, original
    else:
        final_reason = Counter(v.reason for v in votes).most_common(1)[0][0]
        originals = [v.duplicate_of_id for v in votes if v.duplicate_of_id]
        final_original = None
        if final_reason == Reason.DUPLICATE:
            final_original = Question.objects.get(pk=Counter(originals).most_common(1)[0][0])
    question.status = Question.Status.CLOSED
    question.close_reason = final_reason
    question.duplicate_of = final_original
    question.save(update_fields=["status", "close_reason", "duplicate_of"])
    CloseVote.objects.filter(question=question, kind=Kind.CLOSE, is_active=True).update(
        is_active=False
    )
    moderation_log(
        actor=actor,
        action="question_close",
        target=question,
        details={
            "reason": final_reason,
            "duplicate_of": final_original.pk if final_original else None,
            "voters": [v.user.username for v in votes],
        },
    )
    notify.notification_question_closed(actor=actor, question=question)
    return CloseResult(question=question, decided=True, votes=0, needed=needed)


@transaction.atomic
def question_reopen(*, actor, question: Question) -> CloseResult:
    """Vote to reopen a closed `question` (a moderator reopens it at once)."""
    question = question_locked_row(question)
    _check_may_vote(actor, question)
    if question.status != Question.Status.CLOSED:
        raise ValidationError({"non_field_errors": _("This question is not closed.")})
    _vote(actor=actor, question=question, kind=Kind.REOPEN)
    moderation_log(actor=actor, action="reopen_vote", target=question, is_public=False)
    votes = list(
        CloseVote.objects.filter(question=question, kind=Kind.REOPEN, is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    needed = rule("CLOSE_VOTES_NEEDED")
    if not permissions.is_moderator(actor) and len(votes) < needed:
        return CloseResult(question=question, decided=False, votes=len(votes), needed=needed)
    before = {"reason": question.close_reason, "duplicate_of": question.duplicate_of_id}
    question.status = Question.Status.OPEN
    question.close_reason = ""
    question.duplicate_of = None
    question.save(update_fields=["status", "close_reason", "duplicate_of"])
    CloseVote.objects.filter(question=question, is_active=True).update(is_active=False)
    moderation_log(
        actor=actor,
        action="question_reopen",
        target=question,
        details={**before, "voters": [v.user.username for v in votes]},
    )
    notify.notification_question_reopened(actor=actor, question=question)
    return CloseResult(question=question, decided=True, votes=0, needed=needed)


@transaction.atomic
def close_vote_withdraw(*, actor, question: Question, kind: str | None = None) -> CloseResult:
    """Withdraw `actor`'s active vote of `kind` (by default: to close an open question, to
    reopen a closed one) before the question is decided. The vote stays, inactive, as history;
    the withdrawal goes into the private moderation log."""
    question = question_locked_row(question)
    if kind is None:
        kind = Kind.REOPEN if question.status == Question.Status.CLOSED else Kind.CLOSE
    vote = (
        CloseVote.objects.select_for_update()
        .filter(question=question, user_id=getattr(actor, "pk", None), kind=kind, is_active=True)
        .first()
    )
    permissions.refuse(permissions.close_vote_withdraw_refusal(actor, vote))
    vote.is_active = False
    vote.save(update_fields=["is_active"])
    moderation_log(
        actor=actor,
        action=f"{kind}_vote_withdraw",
        target=question,
        is_public=False,
        details={"vote": vote.pk},
    )
    votes = CloseVote.objects.filter(question=question, kind=kind, is_active=True).count()
    return CloseResult(
        question=question, decided=False, votes=votes, needed=rule("CLOSE_VOTES_NEEDED")
    )
