"""kb/services/search_index.py: vectors follow content in the same transaction; the command."""

import pytest
from django.core.management import call_command
from django.db import connection

from kb.models import Answer, AnswerSearch, Question, QuestionSearch, SearchWord
from kb.search import SEARCH_VERSION
from kb.services.edits import post_edit
from kb.services.search_index import (
    _write_vectors,
    search_index_post,
    search_reindex,
    stale_question_ids,
)
from tests.factories import UserFactory, answer_make, question_make

pytestmark = pytest.mark.django_db


def lexemes(vector: str) -> dict[str, str]:
    """Ask Postgres itself: the vector's lexemes with their weights (marked title and tag
    lexemes have none)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lexeme, weights FROM unnest(%s::tsvector)", [vector])
        return {lexeme: "".join(weights or []) for lexeme, weights in cursor.fetchall()}


def question_vector(question: Question) -> dict[str, str]:
    return lexemes(QuestionSearch.objects.get(question=question).vector)


def answer_vector(answer: Answer) -> dict[str, str]:
    return lexemes(AnswerSearch.objects.get(answer=answer).vector)


def test_asking_indexes_title_tags_and_body_with_their_weights():
    question = question_make(
        title="RMSNorm和LayerNorm有什么区别", body="为什么**大模型**都用它?", tags=["normalization"]
    )
    found = question_vector(question)
    assert found["rmsnorm"] == "A" and found["layernorm"] == "A"
    assert found["normalization"] == "B"
    assert "^ rmsnorm" in found and "^ normalization" in found and "^ 大模型" not in found
    assert found["大模型"] == "C" and found["模型"] == "C"
    assert "什么" not in found and "区别" not in found  # stop words
    assert QuestionSearch.objects.get(question=question).search_version == SEARCH_VERSION


def test_an_answer_is_indexed_with_its_question_title_and_joins_the_question_document():
    question = question_make(title="LLaMA 的结构是怎样的", body="问一下", tags=["llama"])
    answer = answer_make(question=question, body="用了 SwiGLU 与旋转位置编码")
    assert answer_vector(answer)["swiglu"] == "C"
    assert answer_vector(answer)["结构"] == "A"
    assert answer_vector(answer)["llama"] == "AB"  # title and tag
    assert question_vector(question)["swiglu"] == "D"
    assert question_vector(question)["位置编码"] == "D"


def test_an_edit_reindexes_in_the_same_transaction_and_drops_old_words():
    author = UserFactory()
    question = question_make(author=author, title="旧标题:BERT 的结构", body="旧正文")
    answer = answer_make(question=question, body="回答正文")
    post_edit(actor=author, post=question, base_revision=1, title="新标题:GPT 的结构",
              body="新正文 FlashAttention", tags=["gpt"], summary="")  # fmt: skip
    found = question_vector(question)
    assert "gpt" in found and "flashattention" in found
    assert "bert" not in found and "旧正文" not in found
    assert "gpt" in answer_vector(answer)  # the answer carries its question's title


def test_deleted_answers_leave_the_question_document_when_reindexed():
    question = question_make(body="问题正文")
    answer = answer_make(question=question, body="独特词 Mamba")
    Answer.objects.filter(pk=answer.pk).update(is_deleted=True)
    answer.refresh_from_db()
    search_index_post(post=answer)
    assert "mamba" not in question_vector(question)
    assert "mamba" in answer_vector(answer)  # moderators can still find it with is:answer


def test_indexing_remembers_english_words_for_typo_correction():
    question_make(title="LayerNorm 的公式是什么", body="RMSNorm 和 BatchNorm")
    words = set(SearchWord.objects.values_list("word", flat=True))
    assert {"layernorm", "rmsnorm", "batchnorm"} <= words


def test_asking_costs_a_fixed_number_of_queries_for_the_index(django_assert_max_num_queries):
    author = UserFactory()
    question_make(author=author, tags=["llm"])  # tags and the system exist
    with django_assert_max_num_queries(25):
        question_make(author=author, tags=["llm"], body="正文 " * 2000)


def test_stale_documents_are_found_and_reindexed_by_the_command():
    fresh = question_make()
    stale = question_make()
    stale_answer = answer_make(question=fresh)
    QuestionSearch.objects.filter(question=stale).update(search_version=1)
    AnswerSearch.objects.filter(answer=stale_answer).delete()
    assert stale_question_ids() == sorted([fresh.pk, stale.pk])
    call_command("reindex_search", verbosity=0)
    assert stale_question_ids() == []
    assert AnswerSearch.objects.get(answer=stale_answer).search_version == SEARCH_VERSION


def test_reindex_all_rewrites_every_document_and_rebuilds_the_lexicon():
    question_make(title="Transformer 结构详解")
    SearchWord.objects.create(word="obsoleteword")
    QuestionSearch.objects.update(vector="")
    written = search_reindex(everything=True)
    assert written == 1
    assert "transformer" in lexemes(QuestionSearch.objects.get().vector)
    assert not SearchWord.objects.filter(word="obsoleteword").exists()


def test_reindex_with_worker_processes_writes_the_same_documents(transactional_db):
    for number in range(5):
        question = question_make(title=f"第 {number} 个关于 KV cache 的问题")
        answer_make(question=question, body=f"回答 {number}:PagedAttention")
    before = dict(QuestionSearch.objects.values_list("question_id", "vector"))
    QuestionSearch.objects.all().delete()
    AnswerSearch.objects.all().delete()
    written = search_reindex(everything=True, batch_size=2, processes=2)
    assert written == 10
    assert dict(QuestionSearch.objects.values_list("question_id", "vector")) == before
    assert stale_question_ids() == []


def test_reindex_does_not_overwrite_a_post_that_changed_meanwhile():
    author = UserFactory()
    question = question_make(author=author, title="并发编辑的问题标题")
    old_activity = question.last_activity_at
    post_edit(actor=author, post=question, base_revision=1, title="并发编辑之后的新标题",
              body=question.body, tags=["llm"], summary="")  # fmt: skip
    # A reindex that read the question before the edit carries the old last_activity_at:
    written = _write_vectors(Question, "last_activity_at", "timestamptz",
                             [(question.pk, "'旧':1A", old_activity)])  # fmt: skip
    assert written == 0
    found = question_vector(question)
    assert "之后" in found and "旧" not in found


def test_reindex_command_reports_what_it_did(capsys):
    question_make()
    call_command("reindex_search", "--all", "--batch-size", "1")
    assert "documents written" in capsys.readouterr().out
