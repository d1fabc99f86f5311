"""The API: /me/inbox/, /me/inbox/read/, /me/achievements/, /me/tags/, question follow and
bookmark. Permission walk: anonymous, another member, the owner."""

import pytest
from rest_framework.test import APIClient

from kb.services.moderation import post_delete
from notifications.models import Bookmark, Notification, QuestionFollow, TagPreference
from tests.factories import TagFactory, UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/me/inbox/", None),
        ("post", "/api/v1/me/inbox/read/", {"all": True}),
        ("get", "/api/v1/me/achievements/", None),
        ("get", "/api/v1/me/tags/", None),
        ("put", "/api/v1/me/tags/", {"watched": [], "ignored": []}),
        ("put", "/api/v1/questions/{pk}/follow/", None),
        ("delete", "/api/v1/questions/{pk}/follow/", None),
        ("put", "/api/v1/questions/{pk}/bookmark/", None),
        ("delete", "/api/v1/questions/{pk}/bookmark/", None),
    ],
)
def test_every_endpoint_refuses_anonymous_callers(method, path, body):
    question = question_make()
    response = getattr(client_for(None), method)(path.format(pk=question.pk), body, format="json")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert not QuestionFollow.objects.exclude(user=question.author).exists()


def test_the_inbox_is_ones_own_paged_and_filters_unread(django_assert_num_queries):
    question = question_make()
    answers = [answer_make(question=question) for _ in range(3)]
    answer_make(question=question_make())  # someone else's inbox
    client = client_for(question.author)
    with django_assert_num_queries(2):  # count, rows (+actor, question, revision)
        body = client.get("/api/v1/me/inbox/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert first["kind"] == "answer" and first["unread"] is True
    assert first["url"].endswith(f"#answer-{answers[-1].pk}")
    Notification.objects.filter(answer=answers[0]).update(read_at="2026-01-01T00:00Z")
    assert client.get("/api/v1/me/inbox/?unread=1").json()["count"] == 2
    assert client_for(UserFactory()).get("/api/v1/me/inbox/").json()["count"] == 0


def test_marking_read_by_ids_refuses_others_ids_and_marks_nothing():
    question, other = question_make(), question_make()
    answer_make(question=question)
    answer_make(question=other)
    mine = Notification.objects.get(recipient=question.author)
    theirs = Notification.objects.get(recipient=other.author)
    client = client_for(question.author)
    response = client.post("/api/v1/me/inbox/read/", {"ids": [mine.pk, theirs.pk]}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Notification.objects.filter(read_at__isnull=False).count() == 0
    response = client.post("/api/v1/me/inbox/read/", {"ids": [mine.pk]}, format="json")
    assert response.json() == {"marked": 1, "unread": 0}


@pytest.mark.parametrize(
    "body", [{}, {"ids": []}, {"ids": "1"}, {"ids": ["x"]}, {"all": "maybe"}, {"ids": [1] * 501}]
)
def test_bad_read_requests_get_a_field_error(body):
    response = client_for(UserFactory()).post("/api/v1/me/inbox/read/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_mark_all_read():
    question = question_make()
    answer_make(question=question)
    answer_make(question=question)
    response = client_for(question.author).post(
        "/api/v1/me/inbox/read/", {"all": True}, format="json"
    )
    assert response.json() == {"marked": 2, "unread": 0}


def test_achievements_are_grouped_per_day_and_post():
    from kb.services.votes import vote_cast
    from tests.kb.moderation_support import member

    question = question_make()
    for voter in (member(20), member(20)):
        vote_cast(actor=voter, post=question, value=1)
    body = client_for(question.author).get("/api/v1/me/achievements/").json()
    assert body["count"] == 1
    (group,) = body["results"]
    assert (group["question_id"], group["amount"], group["events"]) == (question.pk, 20, 2)
    assert group["kinds"] == ["question_upvoted"]


def test_follow_and_bookmark_put_and_delete():
    question = question_make()
    member = UserFactory()
    client = client_for(member)
    url = f"/api/v1/questions/{question.pk}/"
    assert client.put(url + "follow/").json() == {
        "question_id": question.pk, "following": True, "bookmarked": False,
    }  # fmt: skip
    assert client.put(url + "bookmark/").json()["bookmarked"] is True
    assert client.put(url + "bookmark/").status_code == 200  # idempotent
    assert Bookmark.objects.filter(user=member).count() == 1
    assert client.delete(url + "follow/").json()["following"] is False
    assert client.delete(url + "bookmark/").json()["bookmarked"] is False
    assert not QuestionFollow.objects.filter(user=member, active=True).exists()


@pytest.mark.parametrize("verb", ["put", "delete"])
@pytest.mark.parametrize("what", ["follow", "bookmark"])
def test_deleted_or_missing_questions_are_404(verb, what):
    question = question_make()
    post_delete(actor=moderator_create(), post=question, reason="spam")
    for client in (client_for(question.author), client_for(UserFactory())):
        response = getattr(client, verb)(f"/api/v1/questions/{question.pk}/{what}/")
        assert response.status_code == 404
    assert getattr(client, verb)(f"/api/v1/questions/999999/{what}/").status_code == 404


def test_tags_get_and_put():
    TagFactory(name="rlhf")
    TagFactory(name="cnn")
    member = UserFactory()
    client = client_for(member)
    assert client.get("/api/v1/me/tags/").json() == {
        "watched": [], "ignored": [], "hide_ignored": False,
    }  # fmt: skip
    response = client.put(
        "/api/v1/me/tags/",
        {"watched": ["RLHF"], "ignored": ["cnn"], "hide_ignored": True},
        format="json",
    )
    assert response.json() == {"watched": ["rlhf"], "ignored": ["cnn"], "hide_ignored": True}
    assert TagPreference.objects.filter(user=member).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"watched": ["nosuchtag"], "ignored": []}, "watched"),
        ({"watched": ["rlhf"], "ignored": ["rlhf"]}, "ignored"),
        ({"watched": "rlhf", "ignored": []}, "watched"),
        ({"ignored": []}, "watched"),
    ],
)
def test_bad_tag_lists_are_refused_and_keep_the_old_ones(body, field):
    tag = TagFactory(name="rlhf")
    member = UserFactory()
    TagPreference.objects.create(user=member, tag=tag, kind="watched")
    response = client_for(member).put("/api/v1/me/tags/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert TagPreference.objects.get(user=member).kind == "watched"


def test_the_endpoints_are_in_the_openapi_schema():
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/me/inbox/", "/api/v1/me/inbox/read/", "/api/v1/me/achievements/",
                 "/api/v1/me/tags/", "/api/v1/questions/{id}/follow/",
                 "/api/v1/questions/{id}/bookmark/"):  # fmt: skip
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/questions/{id}/follow/"]) >= {"put", "delete"}
