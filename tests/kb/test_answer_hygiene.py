"""Answer hygiene (issue 12): an answer needs 30 characters of text, Markdown not counted; the
same answer sent again (Back and resubmit, a double click) creates nothing new and lands on the
answer already made."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kb.models import Answer
from tests.factories import UserFactory, question_make
from tests.kb.moderation_support import client_for

pytestmark = pytest.mark.django_db

THIRTY = "RMSNorm 去掉了均值中心化,只按均方根缩放,计算更省也更稳定。"  # 33 characters of text


def post_answer(actor, question, body: str):
    return client_for(actor).post(f"/api/v1/questions/{question.pk}/answers/", {"body": body})


@pytest.mark.real_answer_minimum
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("太短了。", 400),
        ("x" * 29, 400),
        (
            "**"
            + "粗" * 10
            + "**\n\n"
            + "---\n\n" * 10
            + "[链接](https://example.com/"
            + "a" * 40
            + ")",
            400,
        ),  # mostly syntax
        ("x" * 30, 201),
        (THIRTY, 201),
        ("```python\nprint('a' * 12)\n```\n\n见 $y = x^2$ 的推导。", 201),  # code counts as text
    ],
)
def test_an_answer_needs_30_characters_of_text_not_counting_markdown(body, status):
    response = post_answer(UserFactory(), question_make(), body)
    assert response.status_code == status, response.content
    if status == 400:
        assert "30" in " ".join(response.json()["error"]["fields"]["body"])
    assert Answer.objects.count() == (1 if status == 201 else 0)


def test_the_same_answer_sent_twice_through_the_api_is_stored_once():
    member, question = UserFactory(), question_make()
    first = post_answer(member, question, THIRTY)
    again = post_answer(member, question, THIRTY)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Answer.objects.count() == 1
    question.refresh_from_db()
    assert question.answer_count == 1


def test_back_and_resubmit_on_the_page_lands_on_the_existing_answer(client):
    member, question = UserFactory(), question_make()
    client.force_login(member)
    url = f"/questions/{question.pk}/answers/"
    first = client.post(url, {"body": THIRTY})
    again = client.post(url, {"body": THIRTY})
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Answer.objects.count() == 1


def test_a_different_body_another_member_or_ten_minutes_later_make_new_answers():
    member, question = UserFactory(), question_make()
    first = post_answer(member, question, THIRTY).json()["id"]
    assert post_answer(member, question, THIRTY + "补充。").json()["id"] != first
    assert post_answer(UserFactory(), question, THIRTY).json()["id"] != first
    Answer.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(minutes=11))
    assert post_answer(member, question, THIRTY).json()["id"] != first
    assert Answer.objects.count() == 4
