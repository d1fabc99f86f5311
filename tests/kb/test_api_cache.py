"""The API's question detail from the versioned cache (kb/views/page_cache.py, `anonymous_api`):
an anonymous repeat GET costs no query and keeps its ETag (and 304), ?fields= and ?include= are
stored apart, signed-in callers are never served a shared response, and after every kind of
write the next anonymous GET shows it. Writes go through the services with their on_commit
callbacks run as a commit runs them."""

import pytest
from rest_framework.test import APIClient

from accounts.services import profile_update
from kb.rules import rule
from kb.services.answers import answer_create
from kb.services.closing import question_close
from kb.services.comments import comment_create
from kb.services.edits import post_edit
from kb.services.flags import flag_create
from kb.services.moderation import post_delete
from kb.services.views import question_view_record, question_views_flush
from kb.services.votes import answer_accept, vote_cast
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

HIT = "X-Page-Cache"


@pytest.fixture
def world(db):
    author = UserFactory(username="zhangsan", display_name="张三")
    question = question_make(author=author, title="KV cache 为什么能加速解码?", body="原始正文")
    answer = answer_make(question=question, body="第一个回答的正文")
    return {"author": author, "question": question, "answer": answer, "mod": moderator_create()}


def url(world, query: str = "") -> str:
    return f"/api/v1/questions/{world['question'].pk}/{query}"


def get(client, path, **headers):
    response = client.get(path, **headers)
    assert response.status_code in (200, 304), (path, response.status_code, response.content)
    return response


def test_a_repeat_anonymous_get_is_a_hit_without_a_query(world, django_assert_num_queries):
    client = APIClient()
    first = get(client, url(world))
    assert first[HIT] == "miss"
    with django_assert_num_queries(0):
        again = get(client, url(world))
    assert again[HIT] == "hit"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    # Last-Modified is left out while the content changed within the current second (kb.conditional)
    assert again["ETag"] == first["ETag"]
    assert again.get("Last-Modified") == first.get("Last-Modified")
    assert "Accept" in again["Vary"] and "Cookie" in again["Vary"]


def test_a_hit_answers_304_to_its_etag_without_a_query(world, django_assert_num_queries):
    client = APIClient()
    etag = get(client, url(world))["ETag"]
    with django_assert_num_queries(0):
        response = get(client, url(world), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag
    with django_assert_num_queries(0):
        assert get(client, url(world), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_fields_and_include_are_stored_apart(world):
    client = APIClient()
    comment_create(actor=UserFactory(), post=world["answer"], body="一条评论")
    for query, keys in [
        ("?fields=id,title", {"id", "title"}),
        ("", None),
        ("?include=comments", None),
        ("?fields=id,answers.comments&include=comments", {"id", "answers"}),
    ]:
        for expected in ("miss", "hit"):
            response = get(client, url(world, query))
            assert response[HIT] == expected, query
            body = response.json()
            if keys is not None:
                assert set(body) == keys, query
            else:
                assert "body" in body and "answers" in body
            has_comments = "comments" in body["answers"][0] if "answers" in body else False
            assert has_comments == ("include=comments" in query), query


def test_a_bad_fields_parameter_is_still_a_400(world):
    client = APIClient()
    for _ in range(2):
        response = client.get(url(world, "?fields=nope"))
        assert response.status_code == 400 and "fields" in response.json()["error"]["fields"]


def test_signed_in_callers_never_get_the_shared_response(world, user):
    anonymous = APIClient()
    get(anonymous, url(world))
    assert get(anonymous, url(world))[HIT] == "hit"
    member = APIClient()
    member.force_authenticate(user)
    response = get(member, url(world))
    assert HIT not in response


def test_the_browsable_api_is_not_cached(world):
    client = APIClient()
    for _ in range(2):
        response = client.get(url(world), HTTP_ACCEPT="text/html")
        assert response.status_code == 200 and HIT not in response


# Each row: a write through its service; what the next anonymous GET must show (from its JSON).
def _edit(w):
    post_edit(actor=w["author"], post=w["question"], base_revision=1, body="改过的正文")
    return lambda body: body["body"] == "改过的正文"


def _answer(w):
    answer_create(actor=UserFactory(), question=w["question"], body="第二个回答:缓存键值")
    return lambda body: [a["body"] for a in body["answers"]][-1] == "第二个回答:缓存键值"


def _vote(w):
    vote_cast(actor=w["mod"], post=w["question"], value=1)
    return lambda body: body["score"] == 1


def _accept(w):
    answer_accept(actor=w["author"], answer=w["answer"])
    return lambda body: body["answers"][0]["is_accepted"] and body["has_accepted_answer"]


def _close(w):
    question_close(actor=w["mod"], question=w["question"], reason="off_topic")
    return lambda body: body["status"] == "closed"


def _delete_answer(w):
    post_delete(actor=w["mod"], post=w["answer"])
    return lambda body: body["answers"] == []


def _flag_hides(w):
    for _ in range(rule("FLAGS_TO_HIDE")):
        flag_create(actor=UserFactory(), target=w["answer"], reason="spam")
    return lambda body: body["answers"] == []


def _rename(w):
    profile_update(actor=w["author"], display_name="张三丰", bio="", preferred_language="")
    return lambda body: body["author"]["display_name"] == "张三丰"


def _reputation(w):
    # A vote on the answerer's answer to ANOTHER question: their card here shows the reputation.
    their_answer = answer_make(question=question_make(), author=w["answer"].author)
    vote_cast(actor=w["mod"], post=their_answer, value=1)
    gained = rule("REPUTATION_ANSWER_UPVOTED")
    return lambda body: body["answers"][0]["author"]["reputation"] == gained


def _views(w):
    question_view_record(question_id=w["question"].pk, visitor="someone")
    question_views_flush()
    return lambda body: body["view_count"] == 1


WRITES = {
    "edit": _edit,
    "answer": _answer,
    "vote": _vote,
    "accept": _accept,
    "close": _close,
    "delete": _delete_answer,
    "flag that hides": _flag_hides,
    "rename": _rename,
    "reputation": _reputation,
    "view count": _views,
}


@pytest.mark.parametrize("kind", WRITES)
def test_next_anonymous_get_shows_each_kind_of_write(
    kind, world, settings, django_capture_on_commit_callbacks
):
    settings.VIEW_FLUSH_EVERY = 10**6
    client = APIClient()
    get(client, url(world))
    before = get(client, url(world))
    assert before[HIT] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        shows = WRITES[kind](world)
    assert not shows(before.json()), "the check must see a change"
    response = get(client, url(world))
    assert response[HIT] == "miss", kind
    assert shows(response.json()), kind
    assert response["ETag"] != before["ETag"], kind


def test_a_comment_shows_on_the_next_get_with_comments(world, django_capture_on_commit_callbacks):
    client = APIClient()
    get(client, url(world, "?include=comments"))
    assert get(client, url(world, "?include=comments"))[HIT] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        comment_create(actor=UserFactory(), post=world["answer"], body="评论:那显存呢?")
    body = get(client, url(world, "?include=comments")).json()
    assert [c["body"] for c in body["answers"][0]["comments"]] == ["评论:那显存呢?"]


def test_an_old_etag_gets_the_new_body_after_a_write(world, django_capture_on_commit_callbacks):
    client = APIClient()
    etag = get(client, url(world))["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        post_edit(actor=world["author"], post=world["question"], base_revision=1, body="新正文")
    response = get(client, url(world), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response.json()["body"] == "新正文"
