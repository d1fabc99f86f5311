"""Behaviour kept by the query rewrites the benchmarks led to (docs/benchmarks.md)."""

import pytest

from kb.selectors.comments import comments_for_question_page
from kb.services.comments import comment_create
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


def test_question_page_comments_are_its_own_and_its_answers_only(user):
    question, other_question = question_make(), question_make()
    answer, other_answer = answer_make(question=question), answer_make(question=other_question)
    mine = [
        comment_create(actor=user, post=question, body="问题评论"),
        comment_create(actor=UserFactory(), post=answer, body="回答评论"),
    ]
    comment_create(actor=user, post=other_question, body="别的问题")
    comment_create(actor=user, post=other_answer, body="别的回答")

    grouped = comments_for_question_page(viewer=user, question=question)

    found = [c for by_post in grouped.values() for comments in by_post.values() for c in comments]
    assert sorted(c.pk for c in found) == sorted(c.pk for c in mine)
    assert list(grouped["answer"]) == [answer.pk]


def test_question_page_comments_of_a_question_without_answers(user):
    question = question_make()
    comment = comment_create(actor=user, post=question, body="没有回答的问题")
    grouped = comments_for_question_page(viewer=user, question=question)
    assert grouped["question"][question.pk] == [comment]
    assert not grouped["answer"]
