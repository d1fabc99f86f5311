"""Votes on questions and answers, and the asker's accept (Stack Overflow's "accept vote").

- A member holds at most one vote per post (unique constraints one_vote_per_user_*). `vote_cast`
  sets it: the same value again changes nothing, the other value switches it. `vote_retract`
  removes it. Nobody votes on their own, deleted or locked posts; up- and downvoting need the
  privileges (kb.privileges).
- A vote can be changed or retracted for VOTE_CHANGE_WINDOW_SECONDS after it was last set; then it
  is locked until the post is edited again (post.updated_at later than the vote's updated_at).
- VOTES_PER_DAY new votes per member per day (TIME_ZONE): the votes cast today that still stand.
  Switching a vote is not a new vote; a retracted vote no longer counts.
- Scores move with F() while the post row is locked; the ledger (kb.services.reputation) follows
  every change, and reversals undo exactly what a vote or an accept wrote.

Lock order, shared with kb.services.reputation: the question, then answers (ascending id), then
users (ascending id), FOR NO KEY UPDATE; a vote on an answer locks only the answer and the users.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kb import permissions
from kb.models import Answer, Question, Vote
from kb.rules import rule
from kb.services import locking, page_cache, reputation
from notifications import services as notify

VOTE_VALUES = (Vote.Value.UP, Vote.Value.DOWN)


class VoteLimitReached(Exception):
    """The member has cast VOTES_PER_DAY votes today. The API answers 429 with Retry-After."""

    def __init__(self, *, limit: int, reset_at: datetime):
        local = timezone.localtime(reset_at)
        super().__init__(
            _("You have cast your %(n)d votes for today; you can vote again from %(time)s.")
            % {"n": limit, "time": formats.date_format(local, "Y-m-d H:i T")}
        )
        self.limit = limit
        self.reset_at = reset_at

    @property
    def retry_after(self) -> int:
        """Whole seconds until voting opens again."""
        return max(1, int((self.reset_at - timezone.now()).total_seconds() + 0.999))


class VoteLocked(PermissionDenied):
    """The vote is older than the change window and the post has not been edited since."""


@dataclass(frozen=True)
class VoteResult:
    post: Question | Answer
    score: int
    value: int | None  # the member's vote now: 1, -1 or None
    changed: bool


def _post_key(post: Question | Answer) -> str:
    return "question" if isinstance(post, Question) else "answer"


def _check_value(value) -> int:
    if isinstance(value, bool) or value not in VOTE_VALUES:
        raise ValidationError({"value": _("A vote is 1 (up) or -1 (down).")})
    return int(value)


def _check_allowed(actor, post: Question | Answer, value: int | None) -> None:
    permissions.refuse(permissions.vote_refusal(actor, post, value))


def _check_changeable(vote: Vote, post: Question | Answer, now: datetime) -> None:
    window = timedelta(seconds=rule("VOTE_CHANGE_WINDOW_SECONDS"))
    if now - vote.updated_at > window and not post.updated_at > vote.updated_at:
        raise VoteLocked(
            _("Your vote is locked in: it can be changed within %(n)d minutes of voting, or "
              "after the post is edited.") % {"n": max(1, round(window.total_seconds() / 60))}
        )  # fmt: skip


def votes_cast_today(*, user, now: datetime | None = None) -> int:
    return Vote.objects.filter(user=user, created_at__gte=reputation.day_start(now)).count()


def _check_daily_limit(actor, now: datetime) -> None:
    limit = rule("VOTES_PER_DAY")
    if votes_cast_today(user=actor, now=now) >= limit:
        raise VoteLimitReached(limit=limit, reset_at=reputation.next_day_start(now))


def _score_move(post: Question | Answer, delta: int) -> int:
    type(post).objects.filter(pk=post.pk).update(score=F("score") + delta)
    post.score += delta  # exact: the row is locked and was read after the lock
    page_cache.post_changed(post)
    return post.score


@transaction.atomic
def vote_cast(*, actor, post: Question | Answer, value: int) -> VoteResult:
    """Set the actor's vote on a post to `value` (1 or -1)."""
    value = _check_value(value)
    post = locking.post_locked_row(post)
    _check_allowed(actor, post, value)
    vote = Vote.objects.filter(user=actor, **{_post_key(post): post}).first()
    if vote is not None and vote.value == value:
        return VoteResult(post=post, score=post.score, value=value, changed=False)
    now = timezone.now()
    locking.users_lock(user_ids=[actor.pk, post.author_id])
    if vote is None:
        _check_daily_limit(actor, now)
        vote = Vote.objects.create(user=actor, value=value, **{_post_key(post): post})
        delta = value
    else:
        _check_changeable(vote, post, now)
        reputation.vote_events_reverse(vote=vote)
        vote.value, vote.updated_at = value, now
        vote.save(update_fields=["value", "updated_at"])
        delta = 2 * value
    reputation.vote_events_write(vote=vote, post=post)
    score = _score_move(post, delta)
    reputation.reputation_refresh(user_ids=[actor.pk, post.author_id])
    return VoteResult(post=post, score=score, value=value, changed=True)


@transaction.atomic
def vote_retract(*, actor, post: Question | Answer) -> VoteResult:
    """Remove the actor's vote on a post, if any, and reverse what it caused."""
    post = locking.post_locked_row(post)
    _check_allowed(actor, post, None)
    vote = Vote.objects.filter(user=actor, **{_post_key(post): post}).first()
    if vote is None:
        return VoteResult(post=post, score=post.score, value=None, changed=False)
    _check_changeable(vote, post, timezone.now())
    locking.users_lock(user_ids=[actor.pk, post.author_id])
    reputation.vote_events_reverse(vote=vote)
    reputation.vote_events_detach(vote=vote)
    vote.delete()
    score = _score_move(post, -vote.value)
    reputation.reputation_refresh(user_ids=[actor.pk, post.author_id])
    return VoteResult(post=post, score=score, value=None, changed=True)


def _accept_locked(answer: Answer) -> tuple[Question, Answer]:
    """Lock the question, then the answer and the currently accepted one (ascending id). The
    question is the one the caller read the answer under: if a merge has moved the answer to
    another question since, the accept is refused (it belongs to the other question now)."""
    question = locking.question_locked_row(answer.question_id)
    locking.answers_lock(answer_ids=[answer.pk, question.accepted_answer_id])
    answer = Answer.objects.get(pk=answer.pk)
    if answer.question_id != question.pk:
        permissions.refuse(
            permissions.Refusal("moved", _("This answer has moved to another question."))
        )
    answer.question = question
    return question, answer


@transaction.atomic
def answer_accept(*, actor, answer: Answer) -> Question:
    """The asker accepts `answer`, replacing any earlier accept (whose reputation is reversed)."""
    question, answer = _accept_locked(answer)
    permissions.refuse(permissions.accept_refusal(actor, question))
    if answer.is_deleted:
        raise PermissionDenied(_("This answer is deleted."))
    if permissions.answer_is_unverified(answer):
        raise PermissionDenied(_("An imported answer must be verified before it is accepted."))
    if question.accepted_answer_id == answer.pk:
        return question
    previous_id = question.accepted_answer_id
    users = {actor.pk, answer.author_id}
    if previous_id is not None:
        users |= reputation.accept_events_users(answer_id=previous_id)
    locking.users_lock(user_ids=users)
    if previous_id is not None:
        reputation.accept_events_reverse(answer_id=previous_id)
    question.accepted_answer = answer
    question.save(update_fields=["accepted_answer"])
    page_cache.question_changed(question.pk)
    reputation.accept_events_write(question=question, answer=answer, accepter=actor)
    reputation.reputation_refresh(user_ids=users)
    notify.notification_answer_accepted(actor=actor, answer=answer)
    return question


@transaction.atomic
def answer_unaccept(*, actor, answer: Answer) -> Question:
    """The asker withdraws the accept from `answer` (nothing happens if it is not accepted)."""
    question, answer = _accept_locked(answer)
    permissions.refuse(permissions.accept_refusal(actor, question))
    if question.accepted_answer_id != answer.pk:
        return question
    users = reputation.accept_events_users(answer_id=answer.pk)
    locking.users_lock(user_ids=users)
    reputation.accept_events_reverse(answer_id=answer.pk)
    question.accepted_answer = None
    question.save(update_fields=["accepted_answer"])
    page_cache.question_changed(question.pk)
    reputation.reputation_refresh(user_ids=users)
    return question
