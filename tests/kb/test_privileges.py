"""Privileges are what the profile says (issue 12): comment everywhere at 50 (always on one's own
posts and on answers to one's question), flag at 15, create a new tag at 300; delete and undelete
controls shown exactly when the service allows; a suspended member told so. Real thresholds from
config/settings.py (the `real_privileges` mark)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from kb.models import Comment, Flag, Question, Tag, TagAlias
from kb.services.moderation import post_delete
from kb.services.reputation import reputation_grant
from tests.factories import TagFactory, UserFactory, answer_make, question_make
from tests.kb.moderation_support import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.real_privileges]


@pytest.fixture(autouse=True)
def existing_tag(db):
    return TagFactory(name="llm")  # question_make's tag, so new members may ask with it


def member(reputation: int = 1, **kwargs):
    user = UserFactory(**kwargs)
    if reputation > 1:
        reputation_grant(actor=None, user=user, amount=reputation, reason="test seed")
        user.refresh_from_db()
    assert user.reputation == reputation
    return user


def comment_on(actor, path: str):
    return client_for(actor).post(f"/api/v1/{path}/comments/", {"body": "补充一点: 见原论文。"})


@pytest.mark.parametrize(("reputation", "status"), [(49, 403), (50, 201)])
def test_commenting_on_others_posts_needs_50(reputation, status):
    question = question_make()
    response = comment_on(member(reputation), f"questions/{question.pk}")
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "needs_privilege"
        assert "50" in response.json()["error"]["message"]
    assert Comment.objects.count() == (1 if status == 201 else 0)


def test_a_new_member_comments_on_own_posts_and_answers_to_own_question():
    asker, answerer = member(1), member(1)
    question = question_make(author=asker)
    answer = answer_make(question=question, author=answerer)
    assert comment_on(asker, f"questions/{question.pk}").status_code == 201
    assert comment_on(asker, f"answers/{answer.pk}").status_code == 201  # answer to my question
    assert comment_on(answerer, f"answers/{answer.pk}").status_code == 201  # my own answer
    refused = comment_on(answerer, f"questions/{question.pk}")  # someone else's question
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "needs_privilege"


def test_the_comment_form_shows_exactly_where_commenting_is_allowed(client):
    newcomer = member(1)
    question = question_make()
    own = question_make(author=newcomer)
    client.force_login(newcomer)
    assert 'name="body"' not in _comment_forms(client, question)
    assert 'name="body"' in _comment_forms(client, own)


def _comment_forms(client, question: Question) -> str:
    html = client.get(question.get_absolute_url()).content.decode()
    return "".join(part.split("</form>")[0] for part in html.split('class="comment-form')[1:])


@pytest.mark.parametrize(("reputation", "status"), [(14, 403), (15, 201)])
def test_flagging_needs_15(reputation, status):
    question = question_make()
    response = client_for(member(reputation)).post(
        f"/api/v1/questions/{question.pk}/flags/", {"reason": "spam"}
    )
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"]["code"] == "needs_privilege"
    assert Flag.objects.count() == (1 if status == 201 else 0)


def ask(actor, tags: list[str]):
    return client_for(actor).post(
        "/api/v1/questions/",
        {"title": "混合专家模型的路由怎么训练?", "body": "MoE 的 gating 网络如何避免负载不均?",
         "tags": tags},
        format="json",
    )  # fmt: skip


def test_creating_a_tag_needs_300_and_the_error_suggests_the_nearest_tags_and_aliases():
    TagFactory(name="transformer")
    TagAlias.objects.create(tag=TagFactory(name="mixture-of-experts"), name="moe")
    response = ask(member(299), ["transformers"])
    assert response.status_code == 400, response.content
    message = " ".join(response.json()["error"]["fields"]["tags"])
    assert "300" in message and "transformer" in message
    assert not Tag.objects.filter(name="transformers").exists()
    assert Question.objects.count() == 0

    alias_hint = " ".join(ask(member(299), ["moe-gate"]).json()["error"]["fields"]["tags"])
    assert "moe" in alias_hint

    assert ask(member(299), ["transformer", "moe"]).status_code == 201  # existing tag and alias
    assert ask(member(300), ["transformers"]).status_code == 201
    assert Tag.objects.filter(name="transformers").exists()


def _delete_urls(client, question: Question) -> set[str]:
    html = client.get(question.get_absolute_url()).content.decode()
    return set(re.findall(r'action="([^"]*/(?:delete|undelete)/)"', html))


def test_the_delete_button_shows_exactly_when_the_service_allows(
    client, django_capture_on_commit_callbacks
):
    asker = member(1)
    question = question_make(author=asker)
    client.force_login(asker)
    own = _delete_urls(client, question)
    assert any(url.endswith("/delete/") for url in own)  # the author may delete ...
    with django_capture_on_commit_callbacks(execute=True):  # as a commit moves the page
        answer_make(question=question)
    refused = client_for(asker).post(f"/api/v1/questions/{question.pk}/delete/", {})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "answered_by_others"
    # ... and after someone else answers, the button is gone, as the API says.
    assert not any(url.endswith("/delete/") for url in _delete_urls(client, question))


def test_the_undelete_button_shows_only_to_whom_the_service_allows(client, moderator):
    asker = member(1)
    question = question_make(author=asker)
    post_delete(actor=moderator, post=question, reason="离题")
    client.force_login(asker)
    assert not any(url.endswith("/undelete/") for url in _delete_urls(client, question))
    refused = client_for(asker).post(f"/api/v1/questions/{question.pk}/undelete/", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_author"

    mine = question_make(author=asker)
    post_delete(actor=asker, post=mine)
    assert any(url.endswith("/undelete/") for url in _delete_urls(client, mine))
    assert client_for(asker).post(f"/api/v1/questions/{mine.pk}/undelete/", {}).status_code == 200


def test_a_suspended_member_is_told_of_the_suspension_not_to_log_in(client):
    suspended = member(200, suspended_until=timezone.now() + timedelta(days=3))
    answer = answer_make(question=question_make())
    client.force_login(suspended)
    html = client.get("/en" + answer.question.get_absolute_url()).content.decode()
    assert "suspended until" in html
    assert 'data-refusal="Log in to vote."' not in html
    response = client_for(suspended).post(f"/api/v1/answers/{answer.pk}/vote/", {"value": 1})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "suspended"
