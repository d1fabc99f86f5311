"""Writes for practice mode: grading a question, importing a visitor's browser schedule at sign-up
or login, and the stateless scheduling step a visitor's browser asks for."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from kb import permissions
from kb.models import Question
from practice import scheduling
from practice.models import GRADE_NAMES, CardState, Grade, PracticeCard, PracticeReview
from practice.scheduling import Memory

IMPORT_MAX_CARDS = 2000
IMPORT_MAX_REVIEWS = 200  # per card


def grade_parse(value) -> Grade:
    """ "again" | "hard" | "good" | "easy" (or 1–4, as the keys) → Grade; else ValidationError."""
    if isinstance(value, str) and value.strip().lower() in GRADE_NAMES:
        return GRADE_NAMES[value.strip().lower()]
    if isinstance(value, str) and value.strip() in {"1", "2", "3", "4"}:
        return Grade(int(value))
    raise ValidationError({"grade": _("Grade with again, hard, good or easy.")})


def _check_may_practise(actor) -> None:
    permissions.refuse(permissions.practice_refusal(actor))


def _practisable(actor, question_id) -> Question:
    question = (
        Question.objects.filter(pk=question_id).first()
        if isinstance(question_id, int) and not isinstance(question_id, bool)
        else None
    )
    if question is None or not permissions.can_practise_question(actor, question):
        raise ValidationError({"question": _("No such question to practise.")})
    return question


def practice_due_refresh(*, user: User) -> None:
    """Keep the user's earliest due time (read by the header's "due today" count)."""
    earliest = PracticeCard.objects.filter(user=user).aggregate(at=Min("due"))["at"]
    User.objects.filter(pk=user.pk).update(practice_due_at=earliest)
    user.practice_due_at = earliest


@transaction.atomic
def practice_review(*, actor, question_id: int, grade, now: datetime) -> PracticeCard:
    """Grade one's recall of a question: the card's next due time comes from FSRS."""
    _check_may_practise(actor)
    question = _practisable(actor, question_id)
    grade = grade_parse(grade) if not isinstance(grade, Grade) else grade
    card, _created = PracticeCard.objects.select_for_update().get_or_create(
        user=actor, question=question, defaults={"due": now}
    )
    before = card.state
    memory = scheduling.review(scheduling.memory_of(card), grade, now)
    for name, value in memory.as_fields().items():
        setattr(card, name, value)
    card.review_count += 1
    if grade == Grade.AGAIN and before == CardState.REVIEW:
        card.lapse_count += 1
    card.save()
    PracticeReview.objects.create(card=card, grade=grade, state_before=before, reviewed_at=now)
    practice_due_refresh(user=actor)
    return card


# --- A visitor's schedule, kept in the browser ---------------------------------------------


def _float_or_none(value, name: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError({name: _("Out of range.")})
    return float(value)


def _time(value, name: str, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError({name: _("Give an ISO 8601 time with a time zone.")})
    return parsed


def memory_parse(data) -> Memory:
    """A card state sent by a browser, checked field by field."""
    if data is None:
        return Memory()
    if not isinstance(data, dict):
        raise ValidationError({"card": _("Give the card as an object.")})
    state = data.get("state", CardState.LEARNING)
    if state not in CardState.values or isinstance(state, bool):
        raise ValidationError({"state": _("Unknown card state.")})
    step = data.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        raise ValidationError({"step": _("Out of range.")})
    return Memory(
        state=state,
        step=step,
        stability=_float_or_none(data.get("stability"), "stability", 0.001, 100_000),
        difficulty=_float_or_none(data.get("difficulty"), "difficulty", 1, 10),
        due=_time(data.get("due"), "due", required=False),
        last_review=_time(data.get("last_review"), "last_review", required=False),
    )


def practice_schedule(*, card, grade, now: datetime) -> Memory:
    """The scheduling step alone, for a visitor's browser: no account, nothing stored."""
    return scheduling.review(memory_parse(card), grade_parse(grade), now)


@dataclass(frozen=True)
class ImportResult:
    imported: int
    kept: int  # the account's own card was as recent or newer


@transaction.atomic
def practice_import(*, actor, cards, now: datetime) -> ImportResult:
    """Bring a visitor's browser schedule into their account (at sign-up or login): each card
    with its reviews, unless the account's card for that question was reviewed as late or later.
    Questions that cannot be practised (deleted meanwhile) are skipped."""
    _check_may_practise(actor)
    if not isinstance(cards, list) or len(cards) > IMPORT_MAX_CARDS:
        raise ValidationError({"cards": _("Give a list of at most %(n)d cards.")
                               % {"n": IMPORT_MAX_CARDS}})  # fmt: skip
    parsed = []
    for item in cards:
        if not isinstance(item, dict):
            raise ValidationError({"cards": _("Each card is an object.")})
        memory = memory_parse(item)
        if memory.due is None or memory.last_review is None:
            raise ValidationError({"due": _("A practised card has a due time and a last review.")})
        reviews = item.get("reviews", [])
        if not isinstance(reviews, list) or len(reviews) > IMPORT_MAX_REVIEWS:
            raise ValidationError({"reviews": _("Too many reviews.")})
        logs = []
        for review in reviews:
            if not isinstance(review, dict):
                raise ValidationError({"reviews": _("Each review is an object.")})
            before = review.get("state_before", CardState.LEARNING)
            if before not in CardState.values:
                raise ValidationError({"reviews": _("Unknown card state.")})
            logs.append((grade_parse(str(review.get("grade", ""))), before,
                         _time(review.get("at"), "reviews", required=True)))  # fmt: skip
        parsed.append((item.get("question"), memory, logs))
    ids = [q for q, _m, _l in parsed if isinstance(q, int) and not isinstance(q, bool)]
    questions = {q.pk: q for q in Question.objects.filter(pk__in=ids)}
    existing = {
        c.question_id: c
        for c in PracticeCard.objects.select_for_update().filter(user=actor, question_id__in=ids)
    }
    imported = kept = 0
    for question_id, memory, logs in parsed:
        question = questions.get(question_id)
        if question is None or not permissions.can_practise_question(actor, question):
            continue
        card = existing.get(question_id)
        if card and card.last_review and card.last_review >= memory.last_review:
            kept += 1
            continue
        if card is None:
            card = PracticeCard(user=actor, question=question)
        for name, value in memory.as_fields().items():
            setattr(card, name, value)
        card.review_count += len(logs)
        card.save()
        PracticeReview.objects.bulk_create(
            PracticeReview(card=card, grade=g, state_before=b, reviewed_at=at) for g, b, at in logs
        )
        imported += 1
    practice_due_refresh(user=actor)
    return ImportResult(imported=imported, kept=kept)
