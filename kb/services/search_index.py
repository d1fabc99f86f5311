"""Keep search vectors in step with content.

`search_index_post` runs inside the transaction that changes a post (kb.services.revisions calls it
from revision_make_current; deleting or restoring an answer must call it too), so a search never
sees content without its vector. A question's vector holds its answers (weight D) and an answer's
vector holds its question's title and tags, so indexing either re-segments the question and all
its answers together. The segmentation itself is kb/search.py.
"""

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef, Prefetch

from kb.models import Answer, AnswerSearch, Question, QuestionSearch, SearchWord, Tag
from kb.search import (
    ANSWERS,
    BODY,
    SEARCH_VERSION,
    TAGS,
    TITLE,
    assemble_document,
    dictionary_latin_words,
    plain_text,
    segment_section,
)

REINDEX_BATCH_SIZE = 200


def search_index_post(*, post: Question | Answer) -> None:
    """Re-index a post after its content changed (a new current revision, an answer deleted or
    restored): the question and all its answers."""
    question_id = post.pk if isinstance(post, Question) else post.question_id
    search_index_questions(question_ids=[question_id])


def search_index_questions(*, question_ids: Iterable[int]) -> int:
    """Segment these questions and their answers and store their vectors (six queries for any
    number of questions). Returns the number of rows written.

    A row is only written if it has not changed since it was read here (the question's
    last_activity_at, the answer's revision_count): a concurrent edit indexes its own content, and
    a slower reindex must not put the older text back."""
    return _store(_documents(question_ids))


@dataclass
class _Documents:
    question_rows: list[tuple] = field(default_factory=list)  # (id, vector, last_activity_at)
    answer_rows: list[tuple] = field(default_factory=list)  # (id, vector, revision_count)
    words: set[str] = field(default_factory=set)


def _documents(question_ids: Iterable[int]) -> _Documents:
    """Read questions with their tags and answers (three queries) and segment them."""
    ids = sorted(set(question_ids))
    documents = _Documents()
    if not ids:
        return documents
    questions = list(
        Question.objects.filter(pk__in=ids)
        .only("pk", "title", "body", "key_points", "last_activity_at")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name").only("name")))
    )
    answers_by_question: dict[int, list[Answer]] = {}
    for answer in (
        Answer.objects.filter(question_id__in=ids)
        .only("pk", "question_id", "body", "is_deleted", "revision_count")
        .order_by("question_id", "-score", "pk")
    ):
        answers_by_question.setdefault(answer.question_id, []).append(answer)

    question_rows, answer_rows, words = (
        documents.question_rows,
        documents.answer_rows,
        documents.words,
    )
    for question in questions:
        # Each field is segmented once: an answer's words go into its own document (C) and
        # into its question's (D).
        head = [(segment_section(question.title), TITLE)]
        head += [(segment_section(tag.name), TAGS) for tag in question.tags.all()]
        answers = [
            (answer, segment_section(plain_text(answer.body)))
            for answer in answers_by_question.get(question.pk, [])
        ]
        document = assemble_document(
            head
            + [(segment_section(plain_text(question.body)), BODY)]
            # Key points (kb.interview) weigh like the body.
            + [(segment_section(plain_text("\n".join(question.key_points))), BODY)]
            + [(section, ANSWERS) for answer, section in answers if not answer.is_deleted]
        )
        question_rows.append((question.pk, document.vector, question.last_activity_at))
        words |= document.latin_words
        for answer, section in answers:
            document = assemble_document(head + [(section, BODY)])
            answer_rows.append((answer.pk, document.vector, answer.revision_count))
    # An answer's English words are all in its question's document (or it is deleted: then
    # they stay out of the lexicon until it is restored).
    return documents


def _store(documents: _Documents) -> int:
    written = _write_vectors(Question, "last_activity_at", "timestamptz", documents.question_rows)
    written += _write_vectors(Answer, "revision_count", "integer", documents.answer_rows)
    search_words_add(words=documents.words)
    return written


def _write_vectors(model, guard: str, guard_type: str, rows: list[tuple]) -> int:
    """Upsert (post id, vector literal, guard value) rows into the post model's search table."""
    if not rows:
        return 0
    search_model = QuestionSearch if model is Question else AnswerSearch
    key = search_model._meta.pk.column
    values = ", ".join([f"(%s::bigint, %s::tsvector, %s::{guard_type})"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search_model._meta.db_table} ({key}, vector, search_version) "  # noqa: S608
            f"SELECT v.id, v.vector, %s FROM (VALUES {values}) AS v(id, vector, guard) "
            f"JOIN {model._meta.db_table} AS post ON post.id = v.id AND post.{guard} = v.guard "
            f"ON CONFLICT ({key}) DO UPDATE SET vector = EXCLUDED.vector, "
            "search_version = EXCLUDED.search_version",
            [SEARCH_VERSION] + [value for row in rows for value in row],
        )
        return cursor.rowcount


def search_words_add(*, words: Iterable[str]) -> None:
    """Remember English words that occur in indexed text, for typo correction. Sorted, so two
    transactions adding the same new words take their locks in the same order."""
    words = sorted(set(words))
    if not words:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SearchWord._meta.db_table} (word) "  # noqa: S608
            "SELECT word FROM unnest(%s::text[]) AS word ORDER BY word "
            "ON CONFLICT (word) DO NOTHING",
            [words],
        )


def stale_question_ids() -> list[int]:
    """Questions whose search document, or one of whose answers' documents, is missing or was
    made by another version of the segmenter, dictionary or stop list."""
    # NOT EXISTS (anti-joins), not NOT IN: PostgreSQL runs `NOT IN (subquery)` row by row once
    # the subquery's ids outgrow work_mem (at 1,000,000 posts it ran for minutes).
    fresh_question = QuestionSearch.objects.filter(
        question_id=OuterRef("pk"), search_version=SEARCH_VERSION
    )
    fresh_answer = AnswerSearch.objects.filter(
        answer_id=OuterRef("pk"), search_version=SEARCH_VERSION
    )
    stale_answer = Answer.objects.filter(question_id=OuterRef("pk")).filter(~Exists(fresh_answer))
    return list(
        Question.objects.filter(~Exists(fresh_question) | Exists(stale_answer))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def search_reindex(
    *,
    everything: bool = False,
    batch_size: int = REINDEX_BATCH_SIZE,
    processes: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-segment stale rows (or every row, rebuilding the word lexicon too), one transaction per
    batch of questions. With processes > 1, forked workers read and segment batches while this
    process writes them. Returns the number of rows written; `progress(done, total)` after each
    batch."""
    if everything:
        SearchWord.objects.all().delete()
        ids = list(Question.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = stale_question_ids()
    search_words_add(words=dictionary_latin_words())  # known English terms, for typo correction
    batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    pool = None
    if processes > 1 and len(batches) > 1:
        if connection.in_atomic_block:
            raise RuntimeError("Worker processes cannot be forked inside a transaction.")
        connections.close_all()  # the workers must not share this process's connection
        pool = multiprocessing.get_context("fork").Pool(processes)
    written = done = 0
    try:
        built = pool.imap(_documents, batches) if pool else map(_documents, batches)
        for batch, documents in zip(batches, built, strict=True):
            with transaction.atomic():
                written += _store(documents)
            done += len(batch)
            if progress:
                progress(done, len(ids))
    finally:
        if pool:
            pool.terminate()
    return written
