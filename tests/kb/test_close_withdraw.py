"""A close (or reopen) vote can be withdrawn by its voter before the question is decided: in the
service, with a button on the question page, and with DELETE on the API's close/reopen URL."""

import pytest
from django.test import Client

from kb.models import CloseVote, Question
from kb.permissions import Refused
from kb.services.closing import close_vote_withdraw, question_close
from tests.factories import moderator_create, question_make
from tests.kb.moderation_support import client_for, closer, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def question():
    return question_make()


def test_the_voter_withdraws_a_close_vote_and_it_no_longer_counts(question):
    first, second, third = closer(), closer(), closer()
    question_close(actor=first, question=question, reason="off_topic")
    question_close(actor=second, question=question, reason="off_topic")
    result = close_vote_withdraw(actor=first, question=question)
    assert result.votes == 1 and not result.decided
    assert CloseVote.objects.filter(question=question, is_active=True).get().user == second
    # Two more votes are needed again: the third alone does not close it.
    assert not question_close(actor=third, question=question, reason="off_topic").decided
    assert Question.objects.get(pk=question.pk).status == "open"


def test_someone_without_a_vote_has_nothing_to_withdraw(question):
    question_close(actor=closer(), question=question, reason="off_topic")
    with pytest.raises(Refused) as refused:
        close_vote_withdraw(actor=closer(), question=question)
    assert refused.value.code == "no_vote"
    assert CloseVote.objects.filter(question=question, is_active=True).count() == 1


def test_a_vote_cannot_be_withdrawn_once_the_question_is_closed(question):
    voters = [closer() for _ in range(3)]
    for voter in voters:
        question_close(actor=voter, question=question, reason="off_topic")
    assert Question.objects.get(pk=question.pk).status == "closed"
    with pytest.raises(Refused) as refused:
        close_vote_withdraw(actor=voters[0], question=question)
    assert refused.value.code == "no_vote"
    assert Question.objects.get(pk=question.pk).status == "closed"


def test_a_suspended_voter_cannot_withdraw(question):
    from datetime import timedelta

    from django.utils import timezone

    voter = closer()
    question_close(actor=voter, question=question, reason="off_topic")
    voter.suspended_until = timezone.now() + timedelta(days=1)
    voter.save(update_fields=["suspended_until"])
    with pytest.raises(Refused) as refused:
        close_vote_withdraw(actor=voter, question=question)
    assert refused.value.code == "suspended"


def test_delete_on_the_api_close_url_withdraws_the_vote(question):
    voter = closer()
    question_close(actor=voter, question=question, reason="off_topic")
    response = client_for(voter).delete(f"/api/v1/questions/{question.pk}/close/")
    assert response.status_code == 200, response.content
    assert response.json()["votes"] == 0 and response.json()["status"] == "open"
    assert not CloseVote.objects.filter(question=question, is_active=True).exists()
    again = client_for(voter).delete(f"/api/v1/questions/{question.pk}/close/")
    assert error_of(again, 403)["code"] == "no_vote"
    assert client_for(None).delete(f"/api/v1/questions/{question.pk}/close/").status_code == 401


def test_delete_on_the_api_reopen_url_withdraws_a_reopen_vote(question):
    question_close(actor=moderator_create(), question=question, reason="off_topic")
    voter = closer()
    client_for(voter).post(f"/api/v1/questions/{question.pk}/reopen/")
    assert CloseVote.objects.filter(question=question, kind="reopen", is_active=True).exists()
    response = client_for(voter).delete(f"/api/v1/questions/{question.pk}/reopen/")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert not CloseVote.objects.filter(question=question, is_active=True).exists()


def test_the_page_offers_the_voter_a_withdraw_button_that_works(
    question, settings, django_assert_num_queries
):
    settings.MEMBER_PAGE_CACHE_ENABLED = False  # the render's cost (tests/kb/test_member_pages.py)
    voter = closer()
    question_close(actor=voter, question=question, reason="off_topic")
    client = Client()
    client.force_login(voter)
    url = f"/moderation/question/{question.pk}/withdraw_close_vote/"
    client.get(f"/questions/{question.pk}/")  # the related questions are cached after this
    # A member's question page (tests/kb/test_pages.py) with the voter's close vote read once;
    # with no related questions and no answers, one query fewer than that test's 11 + 1.
    with django_assert_num_queries(11):
        page = client.get(f"/questions/{question.pk}/").content.decode()
    assert f'action="{url}"' in page
    assert f'action="/moderation/question/{question.pk}/close/"' not in page
    response = client.post(url)
    assert response.status_code == 302
    assert not CloseVote.objects.filter(question=question, is_active=True).exists()
    page = client.get(f"/questions/{question.pk}/").content.decode()
    assert f'action="{url}"' not in page
    assert f'action="/moderation/question/{question.pk}/close/"' in page


def test_others_see_no_withdraw_button_and_their_post_is_refused(question):
    question_close(actor=closer(), question=question, reason="off_topic")
    other = closer()
    client = Client()
    client.force_login(other)
    url = f"/moderation/question/{question.pk}/withdraw_close_vote/"
    assert f'action="{url}"' not in client.get(f"/questions/{question.pk}/").content.decode()
    response = client.post(url)
    assert response.status_code == 403
    assert 'data-refusal-code="no_vote"' in response.content.decode()
    assert CloseVote.objects.filter(question=question, is_active=True).count() == 1
