"""bench.search's data-set options: --posts in questions, and --copies repeating the generated
questions, answers and tags under new ids with every reference shifted to its own copy."""

import pytest

from bench import generate
from bench import search as bench_search
from kb.models import Answer, Question
from tests.factories import question_make

TINY = generate.Plan(questions=6, users=20, tags=30, seed=7)


def test_posts_are_counted_as_questions_with_their_three_answers():
    options = bench_search.parse_arguments(["--posts", "1000000", "--copies", "20"])
    assert (options.questions, options.copies) == (250_000, 20)


@pytest.mark.parametrize("arguments", [["--posts", "3"], ["--questions", "10", "--copies", "3"]])
def test_impossible_data_sets_are_refused(arguments):
    with pytest.raises(SystemExit):
        bench_search.parse_arguments(arguments)


def test_copies_repeat_posts_with_their_own_answers_and_tags(db):
    generate.generate(TINY, search_index=False)
    originals = {
        q.pk: (q.title, q.accepted_answer_id, sorted(q.tags.values_list("name", flat=True)))
        for q in Question.objects.all()
    }
    answers = {a.pk: (a.question_id, a.body) for a in Answer.objects.all()}
    bench_search._copy_posts(3)
    assert Question.objects.count() == 3 * TINY.questions
    assert Answer.objects.count() == 3 * len(answers)
    for copy in (1, 2):
        for pk, (title, accepted, tags) in originals.items():
            question = Question.objects.get(pk=pk + copy * TINY.questions)
            assert question.title == title
            assert sorted(question.tags.values_list("name", flat=True)) == tags
            if accepted is None:
                assert question.accepted_answer_id is None
            else:  # the copy's accepted answer is the copied answer, on the copied question
                assert question.accepted_answer_id == accepted + copy * len(answers)
                assert question.accepted_answer.question_id == question.pk
        for pk, (question_id, body) in answers.items():
            answer = Answer.objects.get(pk=pk + copy * len(answers))
            assert (answer.question_id, answer.body) == (question_id + copy * TINY.questions, body)
    # the sequences moved past the copies: the next question made gets a fresh id
    assert question_make().pk == 3 * TINY.questions + 1


def test_copy_index_needs_copies():
    with pytest.raises(SystemExit):
        bench_search.parse_arguments(["--questions", "8", "--copy-index"])


def test_copied_search_rows_equal_a_fresh_segmentation(transactional_db):
    """--copy-index leaves the index search_reindex would have built: every copied question and
    answer has the vector a fresh segmentation gives."""
    from django.db import connection

    from kb.services.search_index import _documents, stale_question_ids

    generate.generate(TINY, search_index=False)
    bench_search._copy_posts(3)
    options = bench_search.parse_arguments(
        [
            "--questions",
            str(3 * TINY.questions),
            "--copies",
            "3",
            "--copy-index",
            "--processes",
            "2",
        ]
    )
    index = bench_search._index_by_copying(options, progress=lambda done, total: None)
    assert index["segmented_posts"] == TINY.questions * 4
    assert stale_question_ids() == []
    fresh = _documents(range(TINY.questions + 1, 3 * TINY.questions + 1))
    with connection.cursor() as cursor:
        for table, key, rows in [
            ("kb_questionsearch", "question_id", fresh.question_rows),
            ("kb_answersearch", "answer_id", fresh.answer_rows),
        ]:
            for pk, vector, _guard in rows:
                sql = f"SELECT vector = %s::tsvector FROM {table} WHERE {key} = %s"  # noqa: S608
                cursor.execute(sql, [vector, pk])
                assert cursor.fetchone() == (True,), (table, pk)
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%%search_vector'")
        assert cursor.fetchone() == (2,)  # the GIN indexes are back
