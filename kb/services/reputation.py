"""The reputation ledger. Only this module writes ReputationEvent rows or User.reputation.

Rules (amounts are settings.MIANJING["REPUTATION_*"]):

- One row per event: question or answer upvoted +10, post downvoted −2, casting a downvote on an
  answer −1, answer accepted +15 (and +2 to the accepter), suggested edit approved +2, post removed
  as spam −100, and grants (kind "bonus") from `manage.py grant_reputation` or the admin.
- Nothing is edited or deleted. Undoing an event (retracting or switching a vote, switching or
  removing an accept, deleting a post) appends a "reversal" row with the opposite amount that points
  at it (`reverses`, one-to-one, so nothing is reversed twice).
- Daily cap: upvote-earned reputation (question_upvoted, answer_upvoted) is capped at
  REPUTATION_DAILY_CAP per calendar day in TIME_ZONE. An upvote past the cap is still recorded, with
  the amount it actually earned (partly or wholly 0); its reversal takes back exactly that, and
  a reversed upvote no longer counts towards the day's cap. Downvotes, accepts, edits and grants
  are outside the cap.
- Never below 1: rows keep their true amounts and the stored reputation is max(1, sum of amounts).
  So a new member (no rows) has 1, and a penalty is worked off before new gains show. The stored
  value is always recomputed from the rows, never incremented, so it cannot drift.

Rows point at the post that caused them: a question's events at the question, an answer's at the
answer only (its question is found through it), so a vote on an answer never touches the
question's row.

Locking (no deadlocks, no lost updates): every writer locks the rows it changes in one order —
the question, then its answers in ascending id, then the users whose reputation changes in
ascending id — skipping what it does not need (a vote on an answer locks the answer and the
users). Locks are FOR NO KEY UPDATE: they never block the FOR KEY SHARE lock that inserting a
row with a foreign key takes on the row it points at. What is read is read after the lock, and
`reputation_refresh` re-sums a user's rows while the user's row is locked, so concurrent events
are never lost.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models import Q as DbQ
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ReputationEvent
from kb import permissions
from kb.models import Answer, ModerationAction, Question, Revision, Vote
from kb.rules import rule
from kb.services import page_cache
from kb.services.locking import posts_lock, thread_lock, users_lock

User = get_user_model()
Kind = ReputationEvent.Kind

REPUTATION_FLOOR = 1
REASON_MAX_LENGTH = 200
CAPPED_KINDS = (Kind.QUESTION_UPVOTED, Kind.ANSWER_UPVOTED)
VOTE_KINDS = (Kind.QUESTION_UPVOTED, Kind.ANSWER_UPVOTED, Kind.DOWNVOTED, Kind.DOWNVOTE_CAST)
ACCEPT_KINDS = (Kind.ANSWER_ACCEPTED, Kind.ACCEPTED_AN_ANSWER)
# What a post "earned": reversed when it is deleted. Spam penalties and edit rewards stay.
POST_EARNED_KINDS = VOTE_KINDS + ACCEPT_KINDS


# --- Days ------------------------------------------------------------------------------------


def day_start(now: datetime | None = None) -> datetime:
    """Midnight that began the current day in TIME_ZONE (the day of vote limits and the cap)."""
    today = timezone.localdate(now or timezone.now())
    return timezone.make_aware(datetime.combine(today, time.min))


def next_day_start(now: datetime | None = None) -> datetime:
    today = timezone.localdate(now or timezone.now())
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


# --- The core: lock, append, reverse, re-sum ---------------------------------------------------


def _ledger_sum():
    return Coalesce(
        Subquery(
            ReputationEvent.objects.filter(user_id=OuterRef("pk"))
            .order_by()
            .values("user_id")
            .annotate(total=Sum("amount"))
            .values("total"),
            output_field=IntegerField(),
        ),
        0,
    )


def reputation_of_rows():
    """The reputation the ledger gives, as an expression on User: max(1, sum of amounts)."""
    return Greatest(Value(REPUTATION_FLOOR), _ledger_sum())


def reputation_refresh(*, user_ids: Iterable[int]) -> None:
    """Store each user's reputation as the ledger gives it. The caller holds `users_lock`."""
    ids = {pk for pk in user_ids if pk is not None}
    if ids:
        User.objects.filter(pk__in=ids).update(reputation=reputation_of_rows())
        page_cache.users_changed(ids)


def _events_reverse(events: QuerySet[ReputationEvent]) -> list[ReputationEvent]:
    """Append a reversal for each of these events not reversed yet. The caller holds the locks."""
    originals = list(
        events.exclude(kind=Kind.REVERSAL).filter(reversed_by__isnull=True).order_by("pk")
    )
    return ReputationEvent.objects.bulk_create(
        [
            ReputationEvent(
                user_id=event.user_id,
                kind=Kind.REVERSAL,
                amount=-event.amount,
                question_id=event.question_id,
                answer_id=event.answer_id,
                vote_id=event.vote_id,
                reverses=event,
            )
            for event in originals
        ]
    )


def _capped(*, user_id: int, amount: int, now: datetime) -> int:
    """How much of an upvote's `amount` the day's cap still lets `user_id` earn."""
    earned = (
        ReputationEvent.objects.filter(
            user_id=user_id,
            kind__in=CAPPED_KINDS,
            created_at__gte=day_start(now),
            reversed_by__isnull=True,
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return max(0, min(amount, rule("REPUTATION_DAILY_CAP") - earned))


def _post_keys(post: Question | Answer) -> dict:
    if isinstance(post, Question):
        return {"question_id": post.pk, "answer_id": None}
    return {"question_id": None, "answer_id": post.pk}


# --- Votes and accepts (called by kb.services.votes, which holds the locks) --------------------


def vote_events_write(*, vote: Vote, post: Question | Answer) -> None:
    """The events one standing vote causes: the author's gain or loss, and the voter's cost of a
    downvote on an answer. The caller holds the post and users_lock(voter, author)."""
    now = timezone.now()
    keys = {**_post_keys(post), "vote": vote}
    events = []
    if vote.value > 0:
        kind = Kind.QUESTION_UPVOTED if isinstance(post, Question) else Kind.ANSWER_UPVOTED
        amount = rule(
            "REPUTATION_QUESTION_UPVOTED" if isinstance(post, Question)
            else "REPUTATION_ANSWER_UPVOTED"
        )  # fmt: skip
        amount = _capped(user_id=post.author_id, amount=amount, now=now)
        events.append(ReputationEvent(user_id=post.author_id, kind=kind, amount=amount, **keys))
    else:
        events.append(
            ReputationEvent(user_id=post.author_id, kind=Kind.DOWNVOTED,
                            amount=rule("REPUTATION_DOWNVOTED"), **keys)
        )  # fmt: skip
        if isinstance(post, Answer):
            events.append(
                ReputationEvent(user_id=vote.user_id, kind=Kind.DOWNVOTE_CAST,
                                amount=rule("REPUTATION_DOWNVOTE_CAST"), **keys)
            )  # fmt: skip
    ReputationEvent.objects.bulk_create(events)


def vote_events_reverse(*, vote: Vote) -> None:
    """Reverse what this vote caused so far. The caller holds the post and the users' locks."""
    _events_reverse(ReputationEvent.objects.filter(vote=vote, kind__in=VOTE_KINDS))


def vote_events_detach(*, vote: Vote) -> None:
    """Before a retracted vote's row goes: its (reversed) events keep their post, lose the link."""
    ReputationEvent.objects.filter(vote=vote).update(vote=None)


def accept_events_write(*, question: Question, answer: Answer, accepter) -> None:
    """+15 to the answer's author and +2 to the accepter; nothing for accepting one's own answer.
    The caller holds the question and users_lock(accepter, answer author)."""
    if answer.author_id == accepter.pk:
        return
    keys = _post_keys(answer)
    ReputationEvent.objects.bulk_create(
        [
            ReputationEvent(user_id=answer.author_id, kind=Kind.ANSWER_ACCEPTED,
                            amount=rule("REPUTATION_ANSWER_ACCEPTED"), **keys),
            ReputationEvent(user_id=accepter.pk, kind=Kind.ACCEPTED_AN_ANSWER,
                            amount=rule("REPUTATION_ACCEPTED_AN_ANSWER"), **keys),
        ]
    )  # fmt: skip


def accept_events_reverse(*, answer_id: int) -> None:
    _events_reverse(ReputationEvent.objects.filter(answer_id=answer_id, kind__in=ACCEPT_KINDS))


def accept_events_users(*, answer_id: int) -> set[int]:
    return set(
        ReputationEvent.objects.filter(answer_id=answer_id, kind__in=ACCEPT_KINDS).values_list(
            "user_id", flat=True
        )
    )


# --- Services for other areas ----------------------------------------------------------------


def _post_lock(post: Question | Answer) -> None:
    """Lock an answer (after its question); or a question, then all its answers."""
    if isinstance(post, Answer):
        posts_lock(question_id=post.question_id, answer_ids=[post.pk])
    else:
        thread_lock(question_id=post.pk)


@transaction.atomic
def post_reputation_reverse(*, post: Question | Answer) -> int:
    """Reverse everything a post earned — votes on it (the voters' downvote costs included) and
    its accept — for the services that delete posts. Deleting a question takes its answers'
    earnings with it. Spam penalties and edit rewards stay. Idempotent. Returns the number of
    reversals written."""
    return len(post_reputation_reversals(post=post))


@transaction.atomic
def post_reputation_restore(*, post: Question | Answer, reversal_ids: Iterable[int]) -> int:
    """Undo the reversals a deletion wrote (`reversal_ids`, from post_reputation_reversals), for
    undeleting the post: each event they reversed is written again as a new event (same member,
    kind, amount, post and vote), so a later retraction or deletion reverses it like any other.
    Returns the number of events written."""
    _post_lock(post)
    originals = [
        reversal.reverses
        for reversal in ReputationEvent.objects.filter(
            pk__in=list(reversal_ids), kind=Kind.REVERSAL
        )
        .select_related("reverses")
        .order_by("pk")
        if reversal.reverses is not None
    ]
    user_ids = {event.user_id for event in originals}
    users_lock(user_ids=user_ids)
    ReputationEvent.objects.bulk_create(
        [
            ReputationEvent(
                user_id=event.user_id,
                kind=event.kind,
                amount=event.amount,
                question_id=event.question_id,
                answer_id=event.answer_id,
                vote_id=event.vote_id,
            )
            for event in originals
        ]
    )
    reputation_refresh(user_ids=user_ids)
    return len(originals)


@transaction.atomic
def post_reputation_reversals(*, post: Question | Answer) -> list[ReputationEvent]:
    """`post_reputation_reverse`, returning the reversals it wrote (a deletion keeps their ids
    so undeleting can restore them)."""
    _post_lock(post)
    if isinstance(post, Question):
        events = ReputationEvent.objects.filter(
            DbQ(question_id=post.pk) | DbQ(answer__question_id=post.pk)
        )
    else:
        events = ReputationEvent.objects.filter(answer_id=post.pk)
    events = events.filter(kind__in=POST_EARNED_KINDS)
    user_ids = set(events.values_list("user_id", flat=True))
    users_lock(user_ids=user_ids)
    reversals = _events_reverse(events)
    reputation_refresh(user_ids=user_ids)
    return reversals


@transaction.atomic
def reputation_spam_penalty(*, post: Question | Answer) -> ReputationEvent:
    """−100 to the author of a post removed as spam (the moderation service calls this, and
    `post_reputation_reverse`, when it removes the post)."""
    _post_lock(post)
    users_lock(user_ids=[post.author_id])
    event = ReputationEvent.objects.create(user_id=post.author_id, kind=Kind.SPAM_REMOVED,
                                           amount=rule("REPUTATION_SPAM_REMOVED"),
                                           **_post_keys(post))  # fmt: skip
    reputation_refresh(user_ids=[post.author_id])
    return event


@transaction.atomic
def reputation_edit_approved(*, revision: Revision) -> ReputationEvent | None:
    """+2 to the author of an approved suggested edit (the edit review service calls this once per
    approval). Nothing for editing one's own post."""
    post = revision.question or revision.answer
    if post is None or post.author_id == revision.author_id:
        return None
    users_lock(user_ids=[revision.author_id])
    event = ReputationEvent.objects.create(user_id=revision.author_id, kind=Kind.EDIT_APPROVED,
                                           amount=rule("REPUTATION_EDIT_APPROVED"),
                                           **_post_keys(post))  # fmt: skip
    reputation_refresh(user_ids=[revision.author_id])
    return event


def _clean_grant(amount, reason: str) -> tuple[int, str]:
    errors = {}
    limit = rule("REPUTATION_GRANT_MAX")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        errors["amount"] = _("Give a whole number other than 0.")
    elif abs(amount) > limit:
        errors["amount"] = _("At most %(n)d at a time.") % {"n": limit}
    reason = " ".join(str(reason or "").split())
    if not reason:
        errors["reason"] = _("Say why (it is shown in the user's reputation history).")
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = _("At most %(n)d characters.") % {"n": REASON_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)
    return amount, reason


@transaction.atomic
def reputation_grant(*, actor, user, amount: int, reason: str) -> ReputationEvent:
    """A bonus (or, with a negative amount, a correction) written to the ledger: for seeding
    trusted members and migrating reputation from another site. `actor` is the moderator doing it
    from the admin (recorded in the moderation log), or None for `manage.py grant_reputation`."""
    if actor is not None and not permissions.is_moderator(actor):
        raise PermissionDenied(_("Only moderators can grant reputation."))
    amount, reason = _clean_grant(amount, reason)
    users_lock(user_ids=[user.pk])
    event = ReputationEvent.objects.create(user_id=user.pk, kind=Kind.BONUS, amount=amount,
                                           reason=reason)  # fmt: skip
    reputation_refresh(user_ids=[user.pk])
    if actor is not None:
        ModerationAction.objects.create(actor=actor, action="reputation_grant", target_user=user,
                                        reason=reason, is_public=False,
                                        details={"amount": amount, "event": event.pk})  # fmt: skip
    user.refresh_from_db(fields=["reputation"])
    return event


# --- Reconciliation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    what: str  # "question score", "answer score", "reputation", "reversal"
    pk: int
    stored: int
    computed: int

    def __str__(self) -> str:
        return f"{self.what} of {self.pk}: stored {self.stored}, rows give {self.computed}"


def _score_of_rows(model):
    key = "question_id" if model is Question else "answer_id"
    return Coalesce(
        Subquery(
            Vote.objects.filter(**{key: OuterRef("pk")})
            .order_by()
            .values(key)
            .annotate(total=Sum("value"))
            .values("total"),
            output_field=IntegerField(),
        ),
        0,
    )


def reputation_differences() -> list[Difference]:
    """Every stored score and reputation that differs from what the rows give, and every reversal
    that does not exactly undo its event. There should be none."""
    differences = []
    for model, what in ((Question, "question score"), (Answer, "answer score")):
        rows = model.objects.annotate(computed=_score_of_rows(model)).exclude(score=F("computed"))
        differences += [
            Difference(what, pk, stored, computed)
            for pk, stored, computed in rows.values_list("pk", "score", "computed")
        ]
    users = User.objects.annotate(computed=reputation_of_rows()).exclude(reputation=F("computed"))
    differences += [
        Difference("reputation", pk, stored, computed)
        for pk, stored, computed in users.values_list("pk", "reputation", "computed")
    ]
    broken = ReputationEvent.objects.filter(reverses__isnull=False).exclude(
        amount=-F("reverses__amount"), user_id=F("reverses__user_id")
    )
    differences += [
        Difference("reversal", pk, amount, -original)
        for pk, amount, original in broken.values_list("pk", "amount", "reverses__amount")
    ]
    return sorted(differences, key=lambda d: (d.what, d.pk))


@transaction.atomic
def reputation_reconcile(*, fix: bool = False) -> list[Difference]:
    """Recompute every score and reputation from the rows and return the differences found;
    with `fix`, store the recomputed values (under the usual locks)."""
    differences = reputation_differences()
    if fix:
        for pk in [d.pk for d in differences if d.what == "question score"]:
            posts_lock(question_id=pk)
            Question.objects.filter(pk=pk).update(score=_score_of_rows(Question))
        answer_ids = [d.pk for d in differences if d.what == "answer score"]
        posts_lock(answer_ids=answer_ids)
        Answer.objects.filter(pk__in=answer_ids).update(score=_score_of_rows(Answer))
        user_ids = [d.pk for d in differences if d.what == "reputation"]
        users_lock(user_ids=user_ids)
        reputation_refresh(user_ids=user_ids)
    return differences
