"""FSRS scheduling with a fixed clock: the intervals are the fsrs package's default parameters
(desired retention 0.9, learning steps 1 and 10 minutes, no fuzzing), pinned here."""

from datetime import UTC, datetime, timedelta

import pytest

from practice import scheduling
from practice.models import CardState, Grade
from practice.scheduling import Memory

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grade", "state", "wait"),
    [
        (Grade.AGAIN, CardState.LEARNING, timedelta(minutes=1)),
        (Grade.HARD, CardState.LEARNING, timedelta(minutes=5, seconds=30)),
        (Grade.GOOD, CardState.LEARNING, timedelta(minutes=10)),
        (Grade.EASY, CardState.REVIEW, timedelta(days=8)),
    ],
    ids=["again", "hard", "good", "easy"],
)
def test_a_new_card_is_scheduled_by_its_first_grade(grade, state, wait):
    memory = scheduling.review(Memory(), grade, NOW)
    assert memory.state == state
    assert memory.due == NOW + wait
    assert memory.last_review == NOW


def test_good_twice_graduates_a_card_and_good_again_lengthens_the_interval():
    first = scheduling.review(Memory(), Grade.GOOD, NOW)
    second = scheduling.review(first, Grade.GOOD, first.due)
    assert second.state == CardState.REVIEW
    interval = second.due - first.due
    assert interval == timedelta(days=2)
    third = scheduling.review(second, Grade.GOOD, second.due)
    assert third.due - second.due > interval * 2


def test_again_on_a_learned_card_sends_it_to_relearning_for_ten_minutes():
    learned = scheduling.review(Memory(), Grade.EASY, NOW)
    later = learned.due
    lapsed = scheduling.review(learned, Grade.AGAIN, later)
    assert lapsed.state == CardState.RELEARNING
    assert lapsed.due == later + timedelta(minutes=10)
    assert lapsed.stability < learned.stability


def test_retrievability_falls_with_time_and_is_ninety_percent_when_due():
    learned = scheduling.review(Memory(), Grade.EASY, NOW)
    assert scheduling.retrievability(learned, NOW) == pytest.approx(1.0)
    assert scheduling.retrievability(learned, learned.due) == pytest.approx(0.9, abs=0.01)
    assert scheduling.retrievability(Memory(), NOW) == 0.0
