"""?fields= keeps only the named fields (dotted names reach into nested objects); unknown
names are a 400 in the error shape; ?include=comments adds comments to a question's detail."""

import pytest
from django.core.cache import cache

from kb.services.comments import comment_create
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def thread():
    question = question_make(tags=["llm"])
    answer = answer_make(question=question)
    commenter = UserFactory(reputation=100)
    comment_create(actor=commenter, post=question, body="问题的评论:好问题。")
    comment_create(actor=commenter, post=answer, body="回答的评论:说得好。")
    return question, answer


def test_fields_on_question_detail_reach_into_answers(client, thread):
    question, answer = thread
    body = client.get(
        f"/api/v1/questions/{question.pk}/",
        {"fields": "id,title,score,answers.body,answers.author.username"},
    ).json()
    assert set(body) == {"id", "title", "score", "answers"}
    author = {"username": answer.author.username}
    assert body["answers"] == [{"body": answer.body, "author": author}]


def test_the_issues_example_names_answers_body_markdown(client, thread):
    question, answer = thread
    response = client.get(
        f"/api/v1/questions/{question.pk}/", {"fields": "id,title,score,answers.body_markdown"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": question.pk,
        "title": question.title,
        "score": question.score,
        "answers": [{"body_markdown": answer.body}],
    }


def test_body_markdown_sits_beside_body_on_questions_and_answers(client, thread):
    question, answer = thread
    detail = client.get(f"/api/v1/questions/{question.pk}/").json()
    assert detail["body_markdown"] == detail["body"] == question.body
    assert detail["answers"][0]["body_markdown"] == answer.body
    one = client.get(f"/api/v1/answers/{answer.pk}/", {"fields": "body_markdown"}).json()
    assert one == {"body_markdown": answer.body}
    listed = client.get(
        f"/api/v1/questions/{question.pk}/answers/", {"fields": "id,body_markdown"}
    ).json()
    assert listed["results"] == [{"id": answer.pk, "body_markdown": answer.body}]


@pytest.mark.parametrize(
    ("url", "fields", "keys"),
    [
        ("/api/v1/questions/", "id,tags", {"id", "tags"}),
        ("/api/v1/questions/{q}/answers/", "id,score", {"id", "score"}),
        ("/api/v1/answers/{a}/", "id,html_url", {"id", "html_url"}),
        ("/api/v1/tags/", "name", {"name"}),
        ("/api/v1/tags/llm/", "name,question_count", {"name", "question_count"}),
        ("/api/v1/users/{u}/", "username,reputation", {"username", "reputation"}),
        ("/api/v1/answers/{a}/comments/", "id,author.reputation", {"id", "author"}),
    ],
)
def test_fields_on_every_read(client, thread, url, fields, keys, django_assert_max_num_queries):
    question, answer = thread
    url = url.format(q=question.pk, a=answer.pk, u=question.author.username)
    with django_assert_max_num_queries(6):
        body = client.get(url, {"fields": fields}).json()
    rows = body.get("results", [body])
    assert rows and all(set(row) == keys for row in rows)


@pytest.mark.parametrize("fields", ["id,nope", "answers.nope", "title.x", "", "author.email"])
def test_unknown_fields_are_400(client, thread, fields):
    question, _ = thread
    response = client.get(f"/api/v1/questions/{question.pk}/", {"fields": fields})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"fields"}


def test_include_comments(client, thread, django_assert_num_queries):
    question, answer = thread
    url = f"/api/v1/questions/{question.pk}/"
    plain = client.get(url).json()
    assert "comments" not in plain and "comments" not in plain["answers"][0]
    with django_assert_num_queries(4):  # validator, question, answers, comments
        body = client.get(url, {"include": "answers,comments"}).json()
    assert [c["body"] for c in body["comments"]] == ["问题的评论:好问题。"]
    assert [c["body"] for c in body["answers"][0]["comments"]] == ["回答的评论:说得好。"]
    sparse = client.get(url, {"include": "comments", "fields": "id,answers.comments.body"}).json()
    comments = [{"body": "回答的评论:说得好。"}]
    assert sparse == {"id": question.pk, "answers": [{"comments": comments}]}
    bad = client.get(url, {"include": "votes"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"include"}
