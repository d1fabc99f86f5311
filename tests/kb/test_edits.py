import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kb.diff import inline_diff_html, side_by_side_rows, tokenize
from kb.models import Question, Revision
from kb.services.edits import EditConflict, post_edit, revision_rollback
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db

BODY = (
    "第一段：RMSNorm 去掉了均值中心化。\n\n第二段：公式 $y = x / \\mathrm{RMS}(x)$。"
    "\n\n第三段：结论。"
)


def test_author_edit_is_saved_as_a_new_approved_revision(user):
    question = question_make(author=user, body=BODY, tags=["llm"])
    result = post_edit(actor=user, post=question, base_revision=1, body=BODY + "\n\n补充。",
                       tags=["llm", "normalization"], summary="补充")  # fmt: skip
    question.refresh_from_db()
    assert result.revision.number == 2 and not result.pending and not result.merged
    assert question.body.endswith("补充。") and question.revision_count == 2
    assert sorted(question.tags.values_list("name", flat=True)) == ["llm", "normalization"]


def test_someone_elses_edit_waits_as_pending(user, other_user):
    answer = answer_make(question=question_make(), author=user, body=BODY)
    result = post_edit(actor=other_user, post=answer, base_revision=1, body=BODY + "\n\n更正。")
    answer.refresh_from_db()
    assert result.pending and answer.body == BODY
    with translation.override("en"), pytest.raises(ValidationError, match="waiting for review"):
        post_edit(actor=UserFactory(), post=answer, base_revision=1, body=BODY + "\n\n又一个。")


def test_moderator_edits_directly(moderator, user):
    answer = answer_make(question=question_make(), author=user, body=BODY)
    assert not post_edit(actor=moderator, post=answer, base_revision=1, body=BODY + "!").pending


def test_edits_to_different_paragraphs_merge(user):
    question = question_make(author=user, body=BODY)
    post_edit(actor=user, post=question, base_revision=1,
              body=BODY.replace("第一段：", "第一段（改）："))  # fmt: skip
    result = post_edit(actor=user, post=question, base_revision=1,
                       body=BODY.replace("第三段：结论。", "第三段：新结论。"))  # fmt: skip
    question.refresh_from_db()
    assert result.merged and result.revision.number == 3
    assert "第一段（改）" in question.body and "新结论" in question.body
    assert result.revision.base_revision.number == 2


def test_overlapping_edits_conflict_and_store_nothing(user):
    question = question_make(author=user, body=BODY)
    post_edit(actor=user, post=question, base_revision=1, body=BODY.replace("结论", "甲的结论"))
    mine = BODY.replace("结论", "乙的结论")
    with pytest.raises(EditConflict) as conflict:
        post_edit(actor=user, post=question, base_revision=1, body=mine)
    assert conflict.value.current.number == 2
    assert conflict.value.yours.body == mine, "the user's text is kept"
    assert "<<<<<<<" in conflict.value.merged.body and conflict.value.conflicts == ["body"]
    assert question.revisions.count() == 2


def test_tag_edits_merge_as_sets(user):
    question = question_make(author=user, body=BODY, tags=["llm", "rag"])
    post_edit(actor=user, post=question, base_revision=1, body=BODY, tags=["llm", "rag", "bert"])
    post_edit(actor=user, post=question, base_revision=1, body=BODY + "\n\n新段落", tags=["llm"])
    assert sorted(question.tags.values_list("name", flat=True)) == ["bert", "llm"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": BODY}, "body"),  # nothing changed
        ({"body": ""}, "body"),
        ({"body": "x" * 30001}, "body"),
        ({"body": BODY + "!", "base_revision": 99}, "base_revision"),
        ({"body": BODY + "!", "title": "短"}, "title"),
        ({"body": BODY + "!", "tags": list("abcdef")}, "tags"),
        ({"body": BODY + "!", "summary": "长" * 301}, "summary"),
    ],
)
def test_bad_edits_are_refused_and_store_nothing(user, changes, field):
    question = question_make(author=user, body=BODY)
    arguments = {"actor": user, "post": question, "base_revision": 1, **changes}
    with pytest.raises(ValidationError) as error:
        post_edit(**arguments)
    assert field in error.value.message_dict
    assert question.revisions.count() == 1


@pytest.mark.parametrize("status", [Question.Status.DELETED, Question.Status.LOCKED])
def test_deleted_or_locked_posts_cannot_be_edited(user, status):
    question = question_make(author=user, body=BODY)
    Question.objects.filter(pk=question.pk).update(status=status)
    with pytest.raises(PermissionDenied):
        post_edit(actor=user, post=question, base_revision=1, body=BODY + "!")


def test_anonymous_cannot_edit():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        post_edit(actor=AnonymousUser(), post=question_make(), base_revision=1, body="新内容")


def test_rollback_writes_a_new_revision_equal_to_the_old_one(user):
    question = question_make(author=user, body=BODY, tags=["llm"])
    post_edit(actor=user, post=question, base_revision=1, body="被破坏的内容", tags=["rag"])
    revision = revision_rollback(actor=user, post=question, to=1)
    question.refresh_from_db()
    assert revision.number == 3 and revision.rollback_of.number == 1
    assert question.body == BODY and list(question.tags.values_list("name", flat=True)) == ["llm"]
    assert list(question.revisions.values_list("number", flat=True)) == [1, 2, 3]


def test_rollback_needs_direct_edit_right(user, other_user):
    question = question_make(author=user, body=BODY)
    post_edit(actor=user, post=question, base_revision=1, body=BODY + "!")
    with pytest.raises(PermissionDenied):
        revision_rollback(actor=other_user, post=question, to=1)


def test_rollback_to_pending_or_unknown_revision_is_refused(user, other_user):
    question = question_make(author=user, body=BODY)
    post_edit(actor=other_user, post=question, base_revision=1, body=BODY + "?")
    for number in (2, 7, 1):  # pending, unknown, current
        with pytest.raises(ValidationError):
            revision_rollback(actor=user, post=question, to=number)
    assert Revision.objects.filter(question=question).count() == 2


def test_tokens_rejoin_to_the_text_and_split_chinese_words():
    text = "RMSNorm去掉了均值中心化，公式 $y=x$ 很简单。"
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert "均值" in tokens and "$y=x$" in tokens


def test_inline_diff_marks_chinese_words_not_whole_lines():
    html = inline_diff_html("模型使用层归一化。", "模型使用均方根归一化。")
    assert '<del class="diff-delete">层</del>' in html or "diff-delete" in html
    assert html.startswith("模型使用") and html.endswith("归一化。")


def test_changed_formula_is_highlighted_as_math():
    html = inline_diff_html("损失 $L = -\\log p$ 。", "损失 $L = -\\log q$ 。")
    assert 'class="diff-delete diff-math"' in html and 'class="diff-insert diff-math"' in html


def test_side_by_side_pairs_changed_lines():
    rows = side_by_side_rows("甲\n乙\n丙", "甲\n乙改\n丙")
    assert [row.kind for row in rows] == ["equal", "replace", "equal"]
    assert "diff-insert" in rows[1].new_html
