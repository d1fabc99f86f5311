"""Destructive tools ask first: a GET of the delete (or merge) address is a page with the same
form to confirm; on the question page the same form waits in a dialog that static/kb/confirm.js
opens. Both POST the same form."""

import re

import pytest
from django.test import Client

from kb.models import Answer, Question
from tests.factories import answer_make, moderator_create, question_make
from tests.kb.moderation_support import member

pytestmark = pytest.mark.django_db

BODY = "回答：RMSNorm 去掉了均值中心化，只按均方根缩放，计算更省。"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def answer():
    return answer_make(question=question_make(), author=member(), body=BODY)


def test_the_author_gets_a_confirmation_page_and_nothing_is_deleted_by_the_get(
    answer, django_assert_max_num_queries
):
    client = logged_in(answer.author)
    url = f"/moderation/answer/{answer.pk}/delete/"
    # session, user, the answer with its question, moderator check, the question's other answers
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'<form method="post" action="{url}"', html)
    assert not Answer.objects.get(pk=answer.pk).is_deleted
    assert client.post(url).status_code == 302
    assert Answer.objects.get(pk=answer.pk).is_deleted


def test_someone_else_is_refused_on_the_confirmation_page_with_the_rule_code(answer):
    response = logged_in(member()).get(f"/moderation/answer/{answer.pk}/delete/")
    assert response.status_code == 403
    assert 'data-refusal-code="not_author"' in response.content.decode()


def test_a_visitor_is_sent_to_log_in(answer):
    response = Client().get(f"/moderation/answer/{answer.pk}/delete/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_only_destructive_tools_have_a_confirmation_page(answer):
    response = logged_in(moderator_create()).get(f"/moderation/answer/{answer.pk}/lock/")
    assert response.status_code == 405


def test_the_question_page_holds_the_form_in_a_dialog_opened_by_a_static_script(answer):
    html = logged_in(answer.author).get(f"/questions/{answer.question_id}/").content.decode()
    url = f"/moderation/answer/{answer.pk}/delete/"
    link = re.search(rf'<a class="link-button" href="{url}" data-confirm-dialog="([^"]+)"', html)
    assert link, "the delete control is a link to the confirmation page"
    dialog = re.search(rf'<dialog id="{link.group(1)}".*?</dialog>', html, re.S).group(0)
    assert f'<form method="post" action="{url}"' in dialog
    assert 'formmethod="dialog"' in dialog  # cancel closes it without a script
    assert '<script src="/static/kb/confirm.js' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", html)


def test_a_moderator_confirms_a_delete_with_its_reason_and_spam_choice(answer):
    client = logged_in(moderator_create())
    html = client.get(f"/moderation/answer/{answer.pk}/delete/").content.decode()
    assert 'name="reason"' in html and 'name="spam"' in html
    client.post(f"/moderation/answer/{answer.pk}/delete/", {"reason": "广告"})
    assert Answer.objects.get(pk=answer.pk).is_deleted


def test_merging_is_confirmed_on_its_own_page(answer):
    other = question_make()
    client = logged_in(moderator_create())
    url = f"/moderation/question/{answer.question_id}/merge/"
    html = client.get(url, {"into": other.pk}).content.decode()
    assert f'value="{other.pk}"' in html and f'<form method="post" action="{url}"' in html
    assert Question.objects.get(pk=answer.question_id).duplicate_of_id is None
    refused = logged_in(member()).get(url, {"into": other.pk})
    assert refused.status_code == 403
    assert 'data-refusal-code="not_moderator"' in refused.content.decode()


def test_a_suspended_member_is_told_of_the_suspension_not_asked_to_log_in(answer):
    from datetime import timedelta

    from django.utils import timezone

    suspended = member(500)
    suspended.suspended_until = timezone.now() + timedelta(days=2)
    suspended.save(update_fields=["suspended_until"])
    html = logged_in(suspended).get(f"/questions/{answer.question_id}/").content.decode()
    buttons = re.findall(r'<button[^>]*class="votes__button[^"]*"[^>]*>', html)
    assert buttons and all('aria-disabled="true"' in b for b in buttons)
    assert all("你的账号已被暂停" in b for b in buttons)
    assert 'title="登录后投票"' not in html
