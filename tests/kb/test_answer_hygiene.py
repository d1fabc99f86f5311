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


# --- One-time form tokens (kb.form_tokens) ------------------------------------------------------


def _token_of(html: str) -> str:
    import re

    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def _logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_a_reused_answer_form_token_creates_nothing_new_and_lands_on_the_answer():
    question = question_make()
    client = _logged_in(UserFactory())
    token = _token_of(client.get(f"/questions/{question.pk}/").content.decode())
    first = client.post(f"/questions/{question.pk}/answers/", {"body": THIRTY, "form_token": token})
    answer = Answer.objects.get(question=question)
    assert first.status_code == 302 and first["Location"].endswith(f"#answer-{answer.pk}")
    # The form sent again, even with its text changed in between (Back, edit, submit).
    again = client.post(
        f"/questions/{question.pk}/answers/", {"body": THIRTY + "补充一句。", "form_token": token}
    )
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Answer.objects.filter(question=question).count() == 1
    # A fresh form (a new token) makes a new answer.
    fresh = _token_of(client.get(f"/questions/{question.pk}/").content.decode())
    assert fresh != token
    client.post(
        f"/questions/{question.pk}/answers/", {"body": THIRTY + "另一个。", "form_token": fresh}
    )
    assert Answer.objects.filter(question=question).count() == 2


@pytest.mark.real_answer_minimum
def test_a_refused_answer_frees_its_token_so_the_corrected_form_posts():
    question = question_make()
    client = _logged_in(UserFactory())
    token = _token_of(client.get(f"/questions/{question.pk}/").content.decode())
    refused = client.post(f"/questions/{question.pk}/answers/", {"body": "短", "form_token": token})
    assert refused.status_code == 200 and not Answer.objects.exists()
    fixed = client.post(f"/questions/{question.pk}/answers/", {"body": THIRTY, "form_token": token})
    assert fixed.status_code == 302 and Answer.objects.filter(question=question).count() == 1


def test_a_reused_ask_form_token_creates_one_question_and_lands_on_it():
    from kb.models import Question
    from tests.factories import TagFactory

    TagFactory(name="llm")
    client = _logged_in(UserFactory())
    token = _token_of(client.get("/questions/ask/").content.decode())
    data = {"title": "KV Cache 占多少显存?", "body": "按层数、头数和长度估算。", "tags": "llm",
            "form_token": token}  # fmt: skip
    first = client.post("/questions/ask/", data)
    assert first.status_code == 302
    again = client.post("/questions/ask/", {**data, "title": "KV Cache 到底占多少显存?"})
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Question.objects.count() == 1
