"""Posts hidden by flags stop counting in their question's answer_count and their tags'
question_count, and count again when a moderator declines the flags."""

import pytest

from kb.models import Question, Tag
from kb.rules import rule
from kb.services.flags import flag_create, flags_resolve
from tests.factories import TagFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import member

pytestmark = pytest.mark.django_db


def _hide(target):
    for _ in range(int(rule("FLAGS_TO_HIDE"))):
        flag_create(actor=member(), target=target, reason="spam")
    target.refresh_from_db()
    assert target.hidden_by_flags


def test_an_answer_hidden_by_flags_stops_counting_and_counts_again_when_flags_are_declined():
    question = question_make()
    answer = answer_make(question=question)
    answer_make(question=question)
    assert Question.objects.get(pk=question.pk).answer_count == 2
    _hide(answer)
    assert Question.objects.get(pk=question.pk).answer_count == 1
    flags_resolve(actor=moderator_create(), target=answer, decision="declined")
    assert Question.objects.get(pk=question.pk).answer_count == 2


def test_a_question_hidden_by_flags_stops_counting_in_its_tags():
    TagFactory(name="rlhf")
    question = question_make(tags=("rlhf",))
    question_make(tags=("rlhf",))
    assert Tag.objects.get(name="rlhf").question_count == 2
    _hide(question)
    assert Tag.objects.get(name="rlhf").question_count == 1
    flags_resolve(actor=moderator_create(), target=question, decision="declined")
    assert Tag.objects.get(name="rlhf").question_count == 2
