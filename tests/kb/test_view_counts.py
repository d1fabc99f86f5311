"""Question view counts: one per visitor, question and hour; buffered in the cache and written in
batches (by the page every VIEW_FLUSH_EVERY newly viewed questions, or by flush_view_counts)."""

import io
import time

import pytest
from django.core.management import call_command
from django.test import Client

from kb.models import Question
from tests.factories import UserFactory, question_make

pytestmark = pytest.mark.django_db


def flush() -> None:
    call_command("flush_view_counts", stdout=io.StringIO())


def views_in_database(question) -> int:
    return Question.objects.values_list("view_count", flat=True).get(pk=question.pk)


def visitor(name: str) -> Client:
    return Client(headers={"user-agent": f"browser of {name}"})


def test_a_view_is_buffered_and_written_by_the_command():
    question = question_make()
    assert visitor("a").get(f"/questions/{question.pk}/").status_code == 200
    assert views_in_database(question) == 0  # reading a page writes nothing
    flush()
    assert views_in_database(question) == 1


def test_one_view_per_visitor_and_question_within_the_window():
    question, other = question_make(), question_make()
    reader = visitor("a")
    for _ in range(3):
        reader.get(f"/questions/{question.pk}/")
    reader.get(f"/questions/{other.pk}/")
    visitor("b").get(f"/questions/{question.pk}/")
    member = Client()
    member.force_login(UserFactory())
    member.get(f"/questions/{question.pk}/")
    flush()
    assert views_in_database(question) == 3
    assert views_in_database(other) == 1


def test_the_same_visitor_counts_again_after_the_window(settings):
    settings.MIANJING = {**settings.MIANJING, "VIEW_WINDOW_SECONDS": 1}
    question = question_make()
    reader = visitor("a")
    reader.get(f"/questions/{question.pk}/")
    time.sleep(1.2)
    reader.get(f"/questions/{question.pk}/")
    flush()
    assert views_in_database(question) == 2


def test_pages_flush_in_batches_without_the_command(settings):
    settings.MIANJING = {**settings.MIANJING, "VIEW_FLUSH_EVERY": 3}
    questions = [question_make() for _ in range(3)]
    reader = visitor("a")
    for question in questions[:2]:
        reader.get(f"/questions/{question.pk}/")
    assert [views_in_database(q) for q in questions] == [0, 0, 0]
    visitor("b").get(f"/questions/{questions[0].pk}/")  # not a newly viewed question: no flush
    assert [views_in_database(q) for q in questions] == [0, 0, 0]
    reader.get(f"/questions/{questions[2].pk}/")  # the third question viewed since the flush
    assert [views_in_database(q) for q in questions] == [2, 1, 1]


def test_views_after_a_flush_are_kept_for_the_next_one():
    question = question_make()
    visitor("a").get(f"/questions/{question.pk}/")
    flush()
    visitor("b").get(f"/questions/{question.pk}/")
    visitor("c").get(f"/questions/{question.pk}/")
    flush()
    flush()
    assert views_in_database(question) == 3


def test_a_hidden_question_is_not_counted():
    question = question_make()
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    assert visitor("a").get(f"/questions/{question.pk}/").status_code == 410  # gone (issue 21)
    flush()
    assert views_in_database(question) == 0


def test_views_are_shown_on_the_question_page_and_in_lists(client):
    question = question_make()
    Question.objects.filter(pk=question.pk).update(view_count=1234)
    assert "浏览 1234 次" in client.get(f"/questions/{question.pk}/").content.decode()
    listing = client.get("/en/").content.decode()
    assert '<span class="stat__number">1234</span>' in listing and "views" in listing
