"""Imports: matching against the knowledge base, running a plan, re-imports, provenance and
verification, undo, the correction queue and answer ranking."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kb.article_import import ArticleError
from kb.models import Answer, ArticleImport, ModerationAction, Question, Revision
from kb.rules import rule
from kb.selectors.imports import (
    MATCH_THRESHOLD,
    import_plan_read,
    question_match,
    title_similarity,
)
from kb.selectors.moderation import unverified_answer_list
from kb.selectors.questions import answer_list
from kb.services.edits import post_edit
from kb.services.imports import answer_verify, import_run, import_undo
from kb.services.reviews import edit_review
from kb.services.votes import answer_accept
from tests.factories import UserFactory, answer_make, moderator_create, question_make
from tests.kb.moderation_support import member

CORPUS = Path(__file__).resolve().parent / "articles" / "corpus"
COMMON = (CORPUS / "llm_vlm_common.txt").read_bytes()

# Title pairs the threshold was tuned on: (imported, existing, same question?).
PAIRS = [
    ("LayerNorm和BatchNorm的区别", "LayerNorm 与 BatchNorm 有什么区别？", True),
    ("RoPE的原理", "什么是 RoPE？", True),
    ("MHA、MQA和GQA的区别", "MQA、GQA 和 MHA 有什么区别？", True),
    ("Transformer网络结构介绍", "介绍一下 Transformer 的网络结构", True),
    ("ViT网络结构介绍", "ViT 的网络结构是怎样的？", True),
    ("DPO和PPO的区别", "DPO 和 PPO 有什么区别？", True),
    ("CLIP的训练方式", "CLIP 是如何进行训练的？", True),
    ("LoRA微调原理", "QLoRA 和 LoRA 有什么区别？", False),
    ("DPO和PPO的区别", "DPO 的原理是什么？", False),
    ("RoPE的原理", "ALiBi 位置编码的原理", False),
    ("ViT网络结构介绍", "Transformer网络结构介绍", False),
    ("LayerNorm和BatchNorm的区别", "RMSNorm 和 LayerNorm 的区别", False),
    ("CLIP的训练方式", "BLIP-2 的训练方式", False),
    ("KV Cache原理", "PagedAttention 原理", False),
    ("Self-Attention和Cross-Attention的区别", "Self-Attention 的计算复杂度", False),
    ("RLHF流程介绍", "RLHF 中奖励模型怎么训练？", False),
    ("什么是 LoRA？", "LoRA 有哪些缺点？", False),
]


@pytest.mark.parametrize(("imported", "existing", "same"), PAIRS)
def test_title_similarity_against_the_threshold(imported, existing, same):
    assert (title_similarity(imported, existing) >= MATCH_THRESHOLD) is same


@pytest.fixture
def importer(db):
    return member(rule("PRIVILEGE_IMPORT"))


@pytest.fixture
def knowledge_base(db):
    """Existing questions: three the article duplicates in other words, three decoys."""
    author = UserFactory()
    titles = {
        "ln": "LayerNorm 与 BatchNorm 有什么区别？",
        "dpo": "DPO 和 PPO 有什么区别？",
        "vit": "ViT 的网络结构是怎样的？",
        "rms": "RMSNorm 和 LayerNorm 的区别",
        "blip": "BLIP-2 的训练方式是什么",
        "qlora": "QLoRA 和 LoRA 有什么区别？",
    }
    return {key: question_make(author=author, title=title) for key, title in titles.items()}


def test_the_plan_matches_the_article_against_the_knowledge_base(importer, knowledge_base):
    plan = import_plan_read(viewer=importer, data=COMMON, source_name="common.txt")
    matched = {e.title: (e.target_id, e.action) for e in plan.entries if e.target_id}
    assert matched == {
        "LayerNorm和BatchNorm的区别": (knowledge_base["ln"].pk, "add"),
        "DPO和PPO的区别": (knowledge_base["dpo"].pk, "add"),
        "ViT网络结构介绍": (knowledge_base["vit"].pk, "add"),
    }
    assert plan.counts == {"new": 13, "add": 3, "skip": 0}
    assert all(e.score >= MATCH_THRESHOLD for e in plan.entries if e.target_id)


def test_a_deleted_or_hidden_question_is_never_a_match(importer, knowledge_base, moderator):
    from kb.services.moderation import post_delete

    post_delete(actor=moderator, post=knowledge_base["ln"], reason="")
    assert question_match(viewer=importer, title="LayerNorm和BatchNorm的区别") is None


def test_running_the_plan_creates_new_questions_and_adds_answers_to_matches(
    importer, knowledge_base
):
    plan = import_plan_read(viewer=importer, data=COMMON, source_name="common.txt")
    result = import_run(
        actor=importer, plan=plan, source_url="https://blog.example.com/p/1", license="CC BY-SA 4.0"
    )
    imported = result.article_import
    assert len(result.created) == 13 and len(result.added) == 3
    assert {a.question_id for a in result.added} == {
        knowledge_base[k].pk for k in ("ln", "dpo", "vit")
    }
    answers = Answer.objects.filter(imported_from=imported)
    assert answers.count() == 16
    assert set(answers.values_list("verification", flat=True)) == {"unverified"}
    assert (imported.source_title, imported.source_url, imported.license, imported.actor) == (
        "LLM和VLM算法常见面试题",
        "https://blog.example.com/p/1",
        "CC BY-SA 4.0",
        importer,
    )
    # Through the services: every created post has its revision 1.
    assert Revision.objects.filter(answer__in=answers, number=1).count() == 16
    log = ModerationAction.objects.get(action="article_import")
    assert log.actor == importer and log.details["import"] == imported.pk


def test_a_second_run_of_the_same_import_creates_nothing(importer, knowledge_base):
    import_run(actor=importer, plan=import_plan_read(viewer=importer, data=COMMON), license="")
    counts = (Question.objects.count(), Answer.objects.count(), ArticleImport.objects.count())
    again = import_plan_read(viewer=importer, data=COMMON)
    assert again.counts == {"new": 0, "add": 0, "skip": 16}
    assert all(entry.already_there for entry in again.entries)
    result = import_run(actor=importer, plan=again)
    assert result.article_import is None and result.created == [] and result.added == []
    assert (Question.objects.count(), Answer.objects.count(), ArticleImport.objects.count()) == (
        counts
    )


def test_skip_and_add_choices_are_followed(importer, knowledge_base):
    plan = import_plan_read(viewer=importer, data=COMMON)
    for entry in plan.entries:
        if entry.target_id == knowledge_base["ln"].pk:
            entry.action = "skip"
        elif entry.title == "RoPE的原理":
            entry.action, entry.target_id = "add", knowledge_base["qlora"].pk
    result = import_run(actor=importer, plan=plan)
    assert "LayerNorm和BatchNorm的区别" in result.skipped
    assert not Answer.objects.filter(question=knowledge_base["ln"], imported_from__isnull=False)
    assert Answer.objects.filter(question=knowledge_base["qlora"], imported_from__isnull=False)


def test_a_refused_entry_rolls_back_the_whole_import(importer, knowledge_base):
    plan = import_plan_read(viewer=importer, data=COMMON)
    plan.entries[-1].answer = "长" * 40_000
    counts = (Question.objects.count(), Answer.objects.count(), ArticleImport.objects.count())
    with pytest.raises(ValidationError) as error:
        import_run(actor=importer, plan=plan)
    assert "多模态大模型为什么会产生幻觉?" in str(error.value)
    assert (Question.objects.count(), Answer.objects.count(), ArticleImport.objects.count()) == (
        counts
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01binary", "binary"),
        ("今天面试聊得不错。\n面试官人很好。\n".encode(), "no questions found"),
        (b"x" * (10 * 1024 * 1024), "the limit is 2 MB"),
    ],
    ids=["empty", "binary", "no-questions", "10-MB"],
)
def test_bad_files_are_refused_before_anything_is_planned(importer, data, message):
    with pytest.raises(ArticleError, match=message):
        import_plan_read(viewer=importer, data=data)


def test_only_members_with_the_import_privilege_may_import(db, knowledge_base):
    plan_reader = member(rule("PRIVILEGE_IMPORT"))
    plan = import_plan_read(viewer=plan_reader, data=COMMON)
    for actor in (member(rule("PRIVILEGE_IMPORT") - 1), UserFactory()):
        with pytest.raises(PermissionDenied):
            import_run(actor=actor, plan=plan)
    assert import_run(actor=moderator_create(), plan=plan).created


def test_a_bad_source_url_is_refused(importer):
    plan = import_plan_read(viewer=importer, data=COMMON)
    with pytest.raises(ValidationError) as error:
        import_run(actor=importer, plan=plan, source_url="javascript:alert(1)")
    assert "source_url" in error.value.message_dict


# --- unverified -------------------------------------------------------------------------------


@pytest.fixture
def imported(importer, knowledge_base):
    return import_run(actor=importer, plan=import_plan_read(viewer=importer, data=COMMON))


def test_a_reviewer_verifies_an_imported_answer_and_it_is_logged(imported, importer):
    answer = imported.added[0]
    reviewer = member(rule("PRIVILEGE_REVIEW_EDITS"))
    for refused in (importer, member(rule("PRIVILEGE_REVIEW_EDITS") - 1)):
        with pytest.raises(PermissionDenied):
            answer_verify(actor=refused, answer=answer)
    answer_verify(actor=reviewer, answer=answer)
    answer.refresh_from_db()
    assert (answer.verification, answer.verified_by) == ("verified", reviewer)
    assert ModerationAction.objects.filter(action="answer_verify", answer=answer).exists()
    with pytest.raises(PermissionDenied):  # once
        answer_verify(actor=reviewer, answer=answer)


def _edit(actor, answer):
    answer.refresh_from_db()
    return post_edit(
        actor=actor, post=answer, base_revision=answer.revision_count, body=answer.body + "\n\n改。"
    )


def test_another_members_direct_edit_verifies_an_imported_answer(imported, importer):
    answer = imported.added[0]
    _edit(importer, answer)
    answer.refresh_from_db()
    assert answer.verification == "unverified"  # the importer's own edit proves nothing
    editor = member(rule("PRIVILEGE_EDIT_DIRECTLY"))
    _edit(editor, answer)
    answer.refresh_from_db()
    assert (answer.verification, answer.verified_by) == ("verified", editor)


def test_an_approved_suggested_edit_verifies_an_imported_answer(imported):
    answer = imported.added[0]
    suggestion = _edit(UserFactory(), answer)
    assert suggestion.pending
    answer.refresh_from_db()
    assert answer.verification == "unverified"
    moderator = moderator_create()
    edit_review(actor=moderator, revision=suggestion.revision, decision="approve")
    answer.refresh_from_db()
    assert (answer.verification, answer.verified_by) == ("verified", moderator)


def test_an_unverified_answer_cannot_be_accepted(imported, importer):
    answer = Answer.objects.get(pk=imported.article_import.answer_ids[0])
    assert answer.question.author == importer
    with pytest.raises(PermissionDenied):
        answer_accept(actor=importer, answer=answer)


def test_unverified_answers_rank_below_verified_answers_of_equal_score(imported, knowledge_base):
    question = knowledge_base["ln"]
    later = answer_make(question=question)  # verified, written after the import, same score 0
    ranked = list(answer_list(viewer=UserFactory(), question=question))
    assert [a.verification for a in ranked] == ["verified", "unverified"]
    assert ranked[0] == later


def test_unverified_answers_are_in_the_correction_queue_until_verified(imported, importer):
    editor = member(rule("PRIVILEGE_EDIT_DIRECTLY"))
    queue = list(unverified_answer_list(viewer=editor))
    assert len(queue) == 16
    assert list(unverified_answer_list(viewer=member(rule("PRIVILEGE_EDIT_DIRECTLY") - 1))) == []
    answer_verify(actor=editor, answer=queue[0])
    assert queue[0] not in list(unverified_answer_list(viewer=editor))


# --- undo -------------------------------------------------------------------------------------


def test_undo_soft_deletes_everything_the_import_created_once(imported, importer, knowledge_base):
    article_import = imported.article_import
    with pytest.raises(PermissionDenied):
        import_undo(actor=member(rule("PRIVILEGE_IMPORT")), article_import=article_import)
    import_undo(actor=importer, article_import=article_import)
    created = Question.objects.filter(pk__in=article_import.question_ids)
    assert set(created.values_list("status", flat=True)) == {"deleted"}
    answers = Answer.objects.filter(pk__in=article_import.answer_ids)
    assert set(answers.values_list("is_deleted", flat=True)) == {True}
    assert Question.objects.get(pk=knowledge_base["ln"].pk).status == "open"  # theirs stays
    assert ModerationAction.objects.filter(action="post_delete").count() == 13 + 16
    assert ModerationAction.objects.filter(action="article_import_undo").count() == 1
    with pytest.raises(PermissionDenied):
        import_undo(actor=importer, article_import=article_import)
    # Undone, the article can be imported again.
    again = import_plan_read(viewer=importer, data=COMMON)
    assert again.counts["skip"] == 0
