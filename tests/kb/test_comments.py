from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation

from kb.models import Comment, CommentRevision, ModerationAction, Question
from kb.selectors.comments import comments_for_question_page
from kb.services.comments import comment_create, comment_delete, comment_edit
from tests.factories import UserFactory, answer_make, moderator_create, question_make

pytestmark = pytest.mark.django_db


def test_comment_is_rendered_markdown_lite_with_revision_one(user):
    question = question_make()
    comment = comment_create(actor=user, post=question, body="见 **RMSNorm** 论文 $y=x$")
    assert "<strong>RMSNorm</strong>" in comment.body_html and "<math" in comment.body_html
    assert list(comment.revisions.values_list("number", "body")) == [(1, comment.body)]


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "empty"), ("   ", "empty"), ("长" * 601, "at most"), ("有\x00", "NUL"),
     ("<script>x</script>", "not allowed")],
)  # fmt: skip
def test_bad_comments_are_refused(user, body, message):
    with translation.override("en"), pytest.raises(ValidationError, match=message):
        comment_create(actor=user, post=question_make(), body=body)
    assert not Comment.objects.exists()


def test_author_edits_within_five_minutes_then_not(user, other_user):
    comment = comment_create(actor=user, post=question_make(), body="第一版")
    with pytest.raises(PermissionDenied):
        comment_edit(actor=other_user, comment=comment, body="别人改")
    comment_edit(actor=user, comment=comment, body="第二版")
    assert list(comment.revisions.values_list("body", flat=True)) == ["第一版", "第二版"]
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    comment.refresh_from_db()
    with pytest.raises(PermissionDenied):
        comment_edit(actor=user, comment=comment, body="第三版")


def test_delete_by_author_or_moderator_only_hides(user, other_user, moderator):
    question = question_make()
    mine = comment_create(actor=user, post=question, body="我的评论")
    theirs = comment_create(actor=other_user, post=question, body="别人的评论")
    with pytest.raises(PermissionDenied):
        comment_delete(actor=user, comment=theirs)
    comment_delete(actor=user, comment=mine)
    comment_delete(actor=moderator, comment=theirs, reason="不友善")
    assert Comment.objects.filter(is_deleted=True).count() == 2, "hidden, not removed"
    action = ModerationAction.objects.get()
    assert (action.action, action.comment, action.reason) == ("comment_delete", theirs, "不友善")


def test_comment_revisions_are_append_only(user):
    comment = comment_create(actor=user, post=question_make(), body="原文")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        CommentRevision.objects.filter(comment=comment).update(body="篡改")


@pytest.mark.parametrize("status", [Question.Status.LOCKED, Question.Status.DELETED])
def test_no_comments_on_locked_or_deleted_questions(user, status):
    question = question_make()
    Question.objects.filter(pk=question.pk).update(status=status)
    question.refresh_from_db()
    with pytest.raises(PermissionDenied):
        comment_create(actor=user, post=question, body="评论")


def test_question_page_comments_come_in_one_query(user, django_assert_num_queries):
    question = question_make()
    answers = [answer_make(question=question) for _ in range(3)]
    comment_create(actor=user, post=question, body="问题评论")
    for answer in answers:
        comment_create(actor=UserFactory(), post=answer, body="回答评论")
    with django_assert_num_queries(1):
        grouped = comments_for_question_page(viewer=user, question=question)
        assert len(grouped["question"][question.pk]) == 1
        assert all(len(grouped["answer"][a.pk]) == 1 for a in answers)
        assert {c.author.username for cs in grouped["answer"].values() for c in cs}


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("user", 201)])
def test_comment_api_create(api_client, role, status):
    answer = answer_make(question=question_make())
    if role == "user":
        api_client.force_authenticate(UserFactory())
    response = api_client.post(f"/api/v1/answers/{answer.pk}/comments/", {"body": "有用的补充"})
    assert response.status_code == status
    assert Comment.objects.count() == (1 if status == 201 else 0)


def test_comment_api_list_edit_delete(api_client, user, other_user):
    question = question_make()
    api_client.force_authenticate(user)
    comment_id = api_client.post(f"/api/v1/questions/{question.pk}/comments/",
                                 {"body": "初稿"}).json()["id"]  # fmt: skip
    assert api_client.patch(f"/api/v1/comments/{comment_id}/", {"body": "改稿"}).status_code == 200
    api_client.force_authenticate(other_user)
    assert api_client.patch(f"/api/v1/comments/{comment_id}/", {"body": "x"}).status_code == 403
    assert api_client.delete(f"/api/v1/comments/{comment_id}/").status_code == 403
    listed = api_client.get(f"/api/v1/questions/{question.pk}/comments/").json()["results"]
    assert [c["body"] for c in listed] == ["改稿"]
    api_client.force_authenticate(user)
    assert api_client.delete(f"/api/v1/comments/{comment_id}/").status_code == 204
    api_client.force_authenticate(other_user)
    assert api_client.get(f"/api/v1/questions/{question.pk}/comments/").json()["results"] == []
    assert api_client.patch(f"/api/v1/comments/{comment_id}/", {"body": "x"}).status_code == 404


def test_moderator_sees_deleted_comments(api_client, user):
    question = question_make()
    comment = comment_create(actor=user, post=question, body="将被删除")
    comment_delete(actor=user, comment=comment)
    api_client.force_authenticate(moderator_create())
    listed = api_client.get(f"/api/v1/questions/{question.pk}/comments/").json()["results"]
    assert [c["is_deleted"] for c in listed] == [True]
