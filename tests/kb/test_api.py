import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from kb.models import Answer, Question
from kb.services.tags import tag_upsert
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def assert_error_shape(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_question_list_is_paginated(api_client, user):
    for _ in range(3):
        question_make(author=user)
    response = api_client.get("/api/v1/questions/", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert body["next"] and body["previous"] is None
    first = body["results"][0]
    assert {"id", "title", "tags", "author", "score", "answer_count", "has_accepted_answer"} <= set(
        first
    )


def test_page_size_is_capped_at_100(api_client, user):
    question_make(author=user)
    response = api_client.get("/api/v1/questions/", {"page_size": 1000})
    assert response.status_code == 200 and response.json()["count"] == 1


def test_question_list_query_count_does_not_grow_with_rows(api_client, django_assert_num_queries):
    question_make(tags=["llm", "rag"])
    with CaptureQueriesContext(connection) as one:
        api_client.get("/api/v1/questions/")
    for _ in range(49):
        question_make(tags=["llm", "attention", "rag"])
    with django_assert_num_queries(len(one)):
        response = api_client.get("/api/v1/questions/", {"page_size": 50})
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize(
    ("params", "expected_titles"),
    [
        ({"tag": "rag"}, {"RAG 的流程是什么"}),
        ({"tag": "检索增强生成"}, {"RAG 的流程是什么"}),
        ({"tag": "llm,rag"}, {"RAG 的流程是什么"}),
        ({"author": "alice"}, {"RAG 的流程是什么", "CLIP 的损失函数"}),
        ({"answered": "true"}, {"CLIP 的损失函数"}),
        ({"answered": "false"}, {"RAG 的流程是什么", "LLaMA 的网络结构"}),
        ({"has_accepted": "true"}, set()),
        ({"status": "closed"}, {"LLaMA 的网络结构"}),
        ({"created_after": "2000-01-01T00:00:00Z"}, {"RAG 的流程是什么", "CLIP 的损失函数",
                                                     "LLaMA 的网络结构"}),
        ({"created_before": "2000-01-01T00:00:00Z"}, set()),
    ],
)  # fmt: skip
def test_question_list_filters(api_client, params, expected_titles):
    tag_upsert(name="rag", description="检索增强生成", aliases=["检索增强生成"])
    alice = UserFactory(username="alice")
    question_make(author=alice, title="RAG 的流程是什么", tags=["rag", "llm"])
    clip = question_make(author=alice, title="CLIP 的损失函数", tags=["clip"])
    answer_make(question=clip)
    llama = question_make(title="LLaMA 的网络结构", tags=["llama"])
    Question.objects.filter(pk=llama.pk).update(status=Question.Status.CLOSED)
    response = api_client.get("/api/v1/questions/", params)
    assert response.status_code == 200
    assert {row["title"] for row in response.json()["results"]} == expected_titles


def test_question_list_ordering(api_client):
    low = question_make(title="分数低的问题")
    high = question_make(title="分数高的问题")
    Question.objects.filter(pk=high.pk).update(score=5)
    Question.objects.filter(pk=low.pk).update(score=-1)
    response = api_client.get("/api/v1/questions/", {"ordering": "-score"})
    assert [row["id"] for row in response.json()["results"]] == [high.pk, low.pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "nonsense"}, {"created_after": "not-a-date"}, {"ordering": "password"},
     {"has_accepted": "maybe"}, {"page": "9999"}, {"page": "abc"}],
)  # fmt: skip
def test_bad_list_parameters_get_a_clear_4xx(api_client, params):
    question_make()
    response = api_client.get("/api/v1/questions/", params)
    assert 400 <= response.status_code < 500
    assert_error_shape(response, response.status_code)


def test_question_detail_orders_answers_accepted_first_then_score(api_client):
    question = question_make()
    old, accepted, best = (answer_make(question=question) for _ in range(3))
    Answer.objects.filter(pk=best.pk).update(score=10)
    Question.objects.filter(pk=question.pk).update(accepted_answer=accepted)
    body = api_client.get(f"/api/v1/questions/{question.pk}/").json()
    assert [a["id"] for a in body["answers"]] == [accepted.pk, best.pk, old.pk]
    assert body["answers"][0]["is_accepted"] is True
    assert "<math" in body["answers"][1]["body_html"]


@pytest.mark.usefixtures("page_cache_off")  # the render itself; hits: test_api_cache.py
def test_question_detail_query_count_is_fixed(api_client, django_assert_num_queries):
    question = question_make(tags=["llm"])
    answer_make(question=question)
    with CaptureQueriesContext(connection) as one:
        api_client.get(f"/api/v1/questions/{question.pk}/")
    for _ in range(29):
        answer_make(question=question)
    with django_assert_num_queries(len(one)):
        body = api_client.get(f"/api/v1/questions/{question.pk}/").json()
    assert len(body["answers"]) == 30


def test_deleted_question_is_hidden_from_others_but_not_its_author(api_client, user):
    question = question_make(author=user)
    Question.objects.filter(pk=question.pk).update(status=Question.Status.DELETED)
    assert_error_shape(api_client.get(f"/api/v1/questions/{question.pk}/"), 404, "not_found")
    api_client.force_authenticate(user)
    assert api_client.get(f"/api/v1/questions/{question.pk}/").status_code == 200


def test_deleted_answer_is_hidden(api_client):
    answer = answer_make(question=question_make())
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    assert_error_shape(api_client.get(f"/api/v1/answers/{answer.pk}/"), 404)


def test_answers_endpoint_and_answer_detail(api_client):
    question = question_make()
    answer = answer_make(question=question)
    listing = api_client.get(f"/api/v1/questions/{question.pk}/answers/").json()
    assert [a["id"] for a in listing["results"]] == [answer.pk]
    detail = api_client.get(f"/api/v1/answers/{answer.pk}/").json()
    assert detail["question_id"] == question.pk and detail["body"] == answer.body


def test_revisions_of_question_and_answer(api_client):
    question = question_make()
    answer = answer_make(question=question)
    revisions = api_client.get(f"/api/v1/questions/{question.pk}/revisions/").json()
    assert [r["number"] for r in revisions["results"]] == [1]
    assert revisions["results"][0]["status"] == "approved"
    one = api_client.get(f"/api/v1/answers/{answer.pk}/revisions/1/").json()
    assert one["body"] == answer.body
    assert_error_shape(api_client.get(f"/api/v1/answers/{answer.pk}/revisions/2/"), 404)


def test_tags_list_and_detail_by_alias(api_client):
    tag_upsert(name="normalization", description="归一化", aliases=["层归一化", "LayerNorm"])
    question_make(tags=["normalization"])
    tags = api_client.get("/api/v1/tags/").json()["results"]
    assert tags[0]["name"] == "normalization" and tags[0]["question_count"] == 1
    detail = api_client.get("/api/v1/tags/层归一化/").json()
    assert detail["name"] == "normalization" and "LayerNorm" in detail["aliases"]
    assert_error_shape(api_client.get("/api/v1/tags/nope/"), 404)


def test_user_detail_with_chinese_username(api_client):
    user = UserFactory(username="张三", display_name="张三")
    question_make(author=user)
    body = api_client.get("/api/v1/users/张三/").json()
    assert body["username"] == "张三" and body["question_count"] == 1
    assert "email" not in body


def test_me_needs_authentication(api_client):
    assert_error_shape(api_client.get("/api/v1/me/"), 401)


@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_token_from_password_authenticates_me(api_client, keyword):
    UserFactory(username="bob")
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": "bob", "password": "correct horse battery staple", "name": "laptop"},
        format="json",
    )
    assert response.status_code == 201
    key = response.json()["token"]
    assert not ApiToken.objects.filter(key_hash=key).exists(), "only the hash is stored"
    api_client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    me = api_client.get("/api/v1/me/").json()
    assert me["username"] == "bob" and me["email"] == "bob@example.com"


def test_revoked_token_is_refused(api_client, user):
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user, name="old", key_hash=ApiToken.hash_key(key), prefix=key[:8],
        revoked_at=timezone.now(),
    )  # fmt: skip
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_error_shape(api_client.get("/api/v1/me/"), 401)


def test_wrong_password_gets_a_clear_400(api_client):
    UserFactory(username="carol")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "carol", "password": "wrong"}, format="json"
    )
    assert_error_shape(response, 400, "invalid_credentials")
    assert not ApiToken.objects.exists()


def test_missing_fields_get_field_errors(api_client):
    error = assert_error_shape(api_client.post("/api/v1/auth/token/", {}, format="json"), 400)
    assert set(error["fields"]) == {"username", "password"}


def test_token_endpoint_is_throttled_with_retry_after(api_client):
    for _ in range(10):
        api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    response = api_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"})
    error = assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0 and error["message"]


def test_unknown_api_url_and_method_use_the_error_shape(api_client, user):
    assert_error_shape(api_client.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error_shape(api_client.delete("/api/v1/tags/"), 401, "not_authenticated")
    api_client.force_authenticate(user)
    assert_error_shape(api_client.delete("/api/v1/tags/"), 405, "method_not_allowed")


def test_schema_and_local_docs(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/questions/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html and "cdn" not in html.lower()
