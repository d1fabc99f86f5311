"""The spaced-repetition algorithm: FSRS from the maintained `fsrs` package (default parameters,
desired retention 0.9). Fuzzing is off, so an interval depends only on the card and the grade
(a test with a fixed clock can pin it). This module converts between our rows and fsrs cards and
holds no database access."""

from dataclasses import dataclass
from datetime import datetime

import fsrs

from practice.models import CardState, Grade

SCHEDULER = fsrs.Scheduler(desired_retention=0.9, enable_fuzzing=False)


@dataclass(frozen=True)
class Memory:
    """A card's scheduling state, as stored on PracticeCard or in the browser."""

    state: int = CardState.LEARNING
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None

    def as_fields(self) -> dict:
        return {
            "state": self.state,
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due,
            "last_review": self.last_review,
        }


def memory_of(card) -> Memory:
    return Memory(
        state=card.state,
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def review(memory: Memory, grade: Grade, now: datetime) -> Memory:
    """The memory after grading at `now`."""
    card = fsrs.Card(
        card_id=1,
        state=fsrs.State(memory.state),
        step=memory.step,
        stability=memory.stability,
        difficulty=memory.difficulty,
        due=memory.due or now,
        last_review=memory.last_review,
    )
    card, _log = SCHEDULER.review_card(card, fsrs.Rating(int(grade)), review_datetime=now)
    return Memory(
        state=int(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def retrievability(memory: Memory, now: datetime) -> float:
    """The chance of recalling the card at `now` (0 for a card never reviewed)."""
    if memory.last_review is None or memory.stability is None:
        return 0.0
    card = fsrs.Card(card_id=1, state=fsrs.State(memory.state), step=memory.step,
                     stability=memory.stability, difficulty=memory.difficulty, due=memory.due,
                     last_review=memory.last_review)  # fmt: skip
    return SCHEDULER.get_card_retrievability(card, current_datetime=now)
