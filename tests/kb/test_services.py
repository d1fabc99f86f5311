import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kb.models import Question, Tag
from kb.services.answers import answer_create
from kb.services.questions import question_create
from kb.services.tags import tag_upsert
from tests.factories import answer_make, question_make

pytestmark = pytest.mark.django_db


def test_question_create_writes_revision_one_and_renders_html(user):
    question = question_create(
        actor=user, title="RMSNorm 和 LayerNorm 有什么区别?", body="公式 $y=x$", tags=["llm"]
    )
    revision = question.revisions.get()
    assert revision.number == 1 and revision.author == user and revision.status == "approved"
    assert "<math" in question.body_html
    assert question.renderer_version > 0


@pytest.mark.parametrize(
    ("title", "body", "tags", "field"),
    [
        ("短", "正文", ["llm"], "title"),
        ("长" * 151, "正文", ["llm"], "title"),
        ("足够长的标题问题", "   ", ["llm"], "body"),
        ("足够长的标题问题", "x" * 30001, ["llm"], "body"),
        ("足够长的标题问题", "含有\x00空字符", ["llm"], "body"),
        ("足够长的标题问题", "正文", [], "tags"),
        ("足够长的标题问题", "正文", ["a", "b", "c", "d", "e", "f"], "tags"),
    ],
)
def test_question_create_rejects_bad_input_and_stores_nothing(user, title, body, tags, field):
    with pytest.raises(ValidationError) as error:
        question_create(actor=user, title=title, body=body, tags=tags)
    assert field in error.value.message_dict
    assert not Question.objects.exists()
    assert not Tag.objects.exists()


def test_anonymous_cannot_ask():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        question_create(
            actor=AnonymousUser(), title="一个足够长的标题问题", body="正文", tags=["llm"]
        )


def test_tag_alias_resolves_to_its_tag(user):
    tag_upsert(name="normalization", description="归一化", aliases=["层归一化", "LayerNorm"])
    question = question_make(author=user, tags=["层归一化"])
    assert list(question.tags.values_list("name", flat=True)) == ["normalization"]


def test_tag_counts_follow_questions(user):
    question_make(author=user, tags=["llm", "rag"])
    question_make(author=user, tags=["llm"])
    assert Tag.objects.get(name="llm").question_count == 2
    assert Tag.objects.get(name="rag").question_count == 1


def test_answer_create_counts_and_revision(user, other_user):
    question = question_make(author=user)
    answer = answer_make(question=question, author=other_user)
    question.refresh_from_db()
    assert question.answer_count == 1
    assert answer.revisions.get().number == 1


def test_closed_question_cannot_be_answered(user):
    question = question_make(author=user)
    Question.objects.filter(pk=question.pk).update(status=Question.Status.CLOSED)
    with pytest.raises(PermissionDenied):
        answer_create(actor=user, question=question, body="答案")
