"""Writes through the API: permission matrix, bad input, edit conflicts, rollback, tokens."""

import pytest
from django.core.cache import cache

from accounts.models import ApiToken
from kb.models import Answer, Question, Revision
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db

BODY = "第一段：MQA 让所有查询头共享一组 K/V。\n\n第二段：GQA 按组共享。\n\n第三段：结论。"
NEW_QUESTION = {"title": "MQA 和 GQA 的区别是什么？", "body": BODY, "tags": ["attention", "llm"]}


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()


def as_role(api_client, role: str, author):
    """Log the client in as anonymous / a logged-in stranger / the post's author / a moderator."""
    users = {"anonymous": None, "user": UserFactory(), "author": author,
             "moderator": moderator_create()}  # fmt: skip
    if users[role] is not None:
        api_client.force_authenticate(users[role])
    return api_client


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("user", 201), ("moderator", 201)]
)
def test_ask_permission_matrix(api_client, role, status):
    response = as_role(api_client, role, None).post("/api/v1/questions/", NEW_QUESTION)
    assert response.status_code == status
    assert Question.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = response.json()
        assert body["revision_count"] == 1 and body["tags"] == ["attention", "llm"]


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("user", 201), ("author", 201),
                                              ("moderator", 201)])  # fmt: skip
def test_answer_permission_matrix(api_client, role, status):
    author = UserFactory()
    question = question_make(author=author)
    client = as_role(api_client, role, author)
    response = client.post(f"/api/v1/questions/{question.pk}/answers/", {"body": BODY})
    assert response.status_code == status
    assert Answer.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("role", "status", "state"),
    [("anonymous", 401, None), ("user", 200, "pending"), ("author", 200, "saved"),
     ("moderator", 200, "saved")],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["question", "answer"])
def test_edit_permission_matrix(api_client, kind, role, status, state):
    author = UserFactory()
    question = question_make(author=author, body=BODY)
    post = question if kind == "question" else answer_make(question=question, author=author,
                                                             body=BODY)  # fmt: skip
    client = as_role(api_client, role, author)
    edit = {"body": BODY + "\n\n补充。", "summary": "补充", "base_revision": 1}
    response = client.patch(f"/api/v1/{kind}s/{post.pk}/", edit)
    assert response.status_code == status
    if state:
        assert response.json()["status"] == state
        assert response.json()["revision"]["number"] == 2
    post.refresh_from_db()
    assert post.body.endswith("补充。") == (state == "saved")


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("user", 403), ("author", 201),
                                              ("moderator", 201)])  # fmt: skip
def test_rollback_permission_matrix(api_client, role, status):
    author = UserFactory()
    answer = answer_make(question=question_make(), author=author, body=BODY)
    api_client.force_authenticate(author)
    api_client.patch(f"/api/v1/answers/{answer.pk}/", {"body": "破坏", "base_revision": 1})
    api_client.force_authenticate(None)
    response = as_role(api_client, role, author).post(f"/api/v1/answers/{answer.pk}/rollback/",
                                                      {"to": 1})  # fmt: skip
    assert response.status_code == status
    answer.refresh_from_db()
    assert (answer.body == BODY) == (status == 201)
    assert answer.revisions.count() == (3 if status == 201 else 2)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**NEW_QUESTION, "title": ""}, "title"),
        ({**NEW_QUESTION, "title": "短"}, "title"),
        ({**NEW_QUESTION, "title": "长" * 151}, "title"),
        ({**NEW_QUESTION, "body": ""}, "body"),
        ({**NEW_QUESTION, "body": "长" * 30001}, "body"),
        ({**NEW_QUESTION, "body": "正文\u0000"}, "body"),
        ({**NEW_QUESTION, "body": "<script>alert(1)</script>"}, "body"),
        ({**NEW_QUESTION, "body": "[点我](javascript:alert(1))"}, "body"),
        ({**NEW_QUESTION, "body": '<img src=x onerror="alert(1)">'}, "body"),
        ({**NEW_QUESTION, "tags": []}, "tags"),
        ({**NEW_QUESTION, "tags": ["a", "b", "c", "d", "e", "f"]}, "tags"),
        ({**NEW_QUESTION, "tags": "llm"}, "tags"),
        ({"title": NEW_QUESTION["title"]}, "body"),
    ],
)
def test_bad_questions_get_field_errors_and_store_nothing(api_client, user, payload, field):
    api_client.force_authenticate(user)
    error = error_of(api_client.post("/api/v1/questions/", payload, format="json"), 400)
    assert field in error["fields"] and error["code"] == "invalid"
    assert not Question.objects.exists() and not Revision.objects.exists()


def test_code_about_html_is_fine(api_client, user):
    api_client.force_authenticate(user)
    body = "XSS 的例子：`<script>alert(1)</script>`\n\n```html\n<iframe src=x></iframe>\n```"
    response = api_client.post("/api/v1/questions/", {**NEW_QUESTION, "body": body})
    assert response.status_code == 201
    assert "<script>" not in response.json()["body_html"]


@pytest.mark.parametrize(
    "raw",
    [b'{"title": "\xff\xfe bad utf-8", "body": "x", "tags": ["llm"]}', b"{not json", b"[1, 2]"],
)
def test_malformed_json_is_a_clear_400(api_client, user, raw):
    api_client.force_authenticate(user)
    response = api_client.generic("POST", "/api/v1/questions/", raw, "application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert not Question.objects.exists()


def test_edit_of_unknown_revision_is_400(api_client, user):
    question = question_make(author=user, body=BODY)
    api_client.force_authenticate(user)
    response = api_client.patch(
        f"/api/v1/questions/{question.pk}/", {"body": "新", "base_revision": 9}
    )
    assert "base_revision" in error_of(response, 400)["fields"]


def test_edit_without_base_revision_is_400(api_client, user):
    question = question_make(author=user, body=BODY)
    api_client.force_authenticate(user)
    response = api_client.patch(f"/api/v1/questions/{question.pk}/", {"body": "新内容"})
    assert "base_revision" in error_of(response, 400)["fields"]


@pytest.mark.parametrize("status", [Question.Status.LOCKED, Question.Status.DELETED])
def test_edit_of_locked_or_deleted_question_is_refused(api_client, user, status):
    question = question_make(author=user, body=BODY)
    Question.objects.filter(pk=question.pk).update(status=status)
    api_client.force_authenticate(user)
    response = api_client.patch(f"/api/v1/questions/{question.pk}/",
                                {"body": BODY + "!", "base_revision": 1})  # fmt: skip
    assert response.status_code == 403
    assert question.revisions.count() == 1


def test_answer_cannot_take_a_title(api_client, user):
    answer = answer_make(question=question_make(), author=user, body=BODY)
    api_client.force_authenticate(user)
    response = api_client.patch(f"/api/v1/answers/{answer.pk}/",
                                {"title": "答案标题", "base_revision": 1})  # fmt: skip
    assert "title" in error_of(response, 400)["fields"]


def test_concurrent_edits_merge_or_conflict_with_409(api_client, user):
    answer = answer_make(question=question_make(), author=user, body=BODY)
    api_client.force_authenticate(user)
    url = f"/api/v1/answers/{answer.pk}/"
    first = api_client.patch(
        url, {"body": BODY.replace("第一段", "第一段（甲）"), "base_revision": 1}
    )
    assert first.json()["status"] == "saved"
    merged = api_client.patch(url, {"body": BODY.replace("结论", "乙的结论"), "base_revision": 1})
    assert merged.json()["status"] == "merged"
    answer.refresh_from_db()
    assert "第一段（甲）" in answer.body and "乙的结论" in answer.body
    mine = BODY.replace("结论", "丙的结论")
    conflict = api_client.patch(url, {"body": mine, "base_revision": 1})
    error = error_of(conflict, 409)
    assert error["code"] == "edit_conflict" and error["current_revision"]["number"] == 3
    assert error["yours"]["body"] == mine and "<<<<<<<" in error["merge"]["body"]
    assert answer.revisions.count() == 3


def test_diff_endpoint(api_client, user):
    question = question_make(author=user, body=BODY, tags=["llm"])
    api_client.force_authenticate(user)
    api_client.patch(f"/api/v1/questions/{question.pk}/",
                     {"body": BODY.replace("结论", "新结论"), "tags": ["llm", "attention"],
                      "base_revision": 1})  # fmt: skip
    diff = api_client.get(f"/api/v1/questions/{question.pk}/diff/", {"from": 1, "to": 2}).json()
    assert '<ins class="diff-insert">新</ins>' in diff["body"]["inline_html"]
    assert diff["tags"]["added"] == ["attention"]
    assert any(row["kind"] == "replace" for row in diff["body"]["side_by_side"])


@pytest.mark.parametrize(("params", "status"), [({"from": 1, "to": 5}, 404), ({"from": 1}, 400),
                                                ({"from": "x", "to": 1}, 400)])  # fmt: skip
def test_diff_with_unknown_or_missing_revisions(api_client, params, status):
    question = question_make(body=BODY)
    response = api_client.get(f"/api/v1/questions/{question.pk}/diff/", params)
    assert response.status_code == status and "error" in response.json()


def test_session_auth_writes_need_csrf(user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/questions/", NEW_QUESTION, format="json")
    assert response.status_code == 403 and not Question.objects.exists()


def test_token_lifecycle(api_client, user):
    api_client.force_authenticate(user)
    created = api_client.post("/api/v1/me/tokens/", {"name": "notebook"})
    assert created.status_code == 201
    key, token_id = created.json()["token"], created.json()["id"]
    listed = api_client.get("/api/v1/me/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["notebook"] and "token" not in listed[0]
    assert api_client.delete(f"/api/v1/me/tokens/{token_id}/").status_code == 204
    assert ApiToken.objects.get(pk=token_id).revoked_at is not None, "revoked, not deleted"
    api_client.force_authenticate(None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_cannot_revoke_someone_elses_token(api_client, user, other_user):
    api_client.force_authenticate(other_user)
    token_id = api_client.post("/api/v1/me/tokens/", {"name": "x"}).json()["id"]
    api_client.force_authenticate(user)
    assert api_client.delete(f"/api/v1/me/tokens/{token_id}/").status_code == 404
    assert ApiToken.objects.get(pk=token_id).revoked_at is None
