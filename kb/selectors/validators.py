"""Validators for conditional requests: what a response's ETag and Last-Modified are made of.

Each function reads, in one query, the stored state a response is rendered from (the rows
themselves as `row::text`, so every column counts: revision numbers, status, flags, scores, view
counts, the authors' names and reputation) and returns a fingerprint and the newest timestamp. It
never renders and never hashes a rendered body. Rows hidden from the viewer are part of the
fingerprint too; the viewer is added by kb.conditional, so what a viewer may see is decided by
(rows, viewer) and a change of either changes the ETag. None when the object does not exist (the
ordinary path then answers 404)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from kb.models import Question


@dataclass(frozen=True)
class Validator:
    fingerprint: str
    last_modified: datetime | None


def _one(sql: str, params: list) -> Validator | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return Validator(fingerprint=row[0], last_modified=row[1])


_AUTHOR = "concat_ws(';', {u}.username, {u}.display_name, {u}.reputation, {u}.is_active)"

# Everything shown under a question: the question, its tags, answers, comments, revisions and
# their authors. One query, a few index scans on question_id.
_THREAD_SQL = f"""
SELECT md5(concat_ws('|',
    q::text, {_AUTHOR.format(u="u")},
    (SELECT string_agg(t.name, ',' ORDER BY t.name) FROM kb_question_tags qt
       JOIN kb_tag t ON t.id = qt.tag_id WHERE qt.question_id = q.id),
    (SELECT string_agg(concat_ws(';', a::text, {_AUTHOR.format(u="au")}), ',' ORDER BY a.id)
       FROM kb_answer a JOIN accounts_user au ON au.id = a.author_id WHERE a.question_id = q.id),
    (SELECT string_agg(concat_ws(';', c::text, {_AUTHOR.format(u="cu")}), ',' ORDER BY c.id)
       FROM kb_comment c JOIN accounts_user cu ON cu.id = c.author_id
       WHERE c.question_id = q.id
          OR c.answer_id IN (SELECT a.id FROM kb_answer a WHERE a.question_id = q.id)),
    (SELECT string_agg(concat_ws(';', r.id, r.status, r.reviewer_id, {_AUTHOR.format(u="ru")}),
                       ',' ORDER BY r.id)
       FROM kb_revision r JOIN accounts_user ru ON ru.id = r.author_id
       WHERE r.question_id = q.id
          OR r.answer_id IN (SELECT a.id FROM kb_answer a WHERE a.question_id = q.id))
  )),
  greatest(q.updated_at, q.last_activity_at,
    (SELECT max(a.updated_at) FROM kb_answer a WHERE a.question_id = q.id),
    (SELECT max(c.updated_at) FROM kb_comment c WHERE c.question_id = q.id
       OR c.answer_id IN (SELECT a.id FROM kb_answer a WHERE a.question_id = q.id)))
FROM kb_question q JOIN accounts_user u ON u.id = q.author_id
WHERE q.id = {{question}}
"""  # noqa: S608 (constant text; values are parameters)


def thread_validator(*, question_id: int) -> Validator | None:
    """A question with everything under it (detail, answers, comments, revisions, diffs)."""
    return _one(_THREAD_SQL.format(question="%s"), [question_id])


def answer_thread_validator(*, answer_id: int) -> Validator | None:
    """The thread an answer belongs to (the answer shows whether its question accepted it)."""
    return _one(
        _THREAD_SQL.format(question="(SELECT a0.question_id FROM kb_answer a0 WHERE a0.id = %s)"),
        [answer_id],
    )


_TAGS_SQL = """
SELECT md5(coalesce(string_agg(concat_ws(';', t::text,
    (SELECT string_agg(ta.name, ',' ORDER BY ta.name) FROM kb_tagalias ta
      WHERE ta.tag_id = t.id)), ',' ORDER BY t.id), '')),
  max(t.created_at)
FROM kb_tag t
"""


def tags_validator() -> Validator:
    """Every tag with its aliases: the tag list and a tag's detail (a few thousand rows at most;
    a tag's question_count moves with every tagged question)."""
    return _one(_TAGS_SQL, [])


_USER_SQL = f"""
SELECT md5(concat_ws('|', u.id, {_AUTHOR.format(u="u")}, u.bio, u.date_joined,
    (SELECT count(*) FROM kb_question q WHERE q.author_id = u.id AND q.status <> 'deleted'),
    (SELECT count(*) FROM kb_answer a WHERE a.author_id = u.id AND NOT a.is_deleted))),
  u.date_joined
FROM accounts_user u WHERE u.username = %s
"""  # noqa: S608


def user_validator(*, username: str) -> Validator | None:
    return _one(_USER_SQL, [username])


LIST_COLUMNS = (
    "pk", "title", "status", "hidden_by_flags", "score", "answer_count", "view_count",
    "accepted_answer_id", "revision_count", "updated_at", "last_activity_at", "tag_names",
    "author__username", "author__display_name", "author__reputation",
)  # fmt: skip


def question_page_validator(*, questions: QuerySet[Question], offset: int, limit: int):
    """One page of a filtered question list and the list's size, in one query (the count is a
    window over the filtered rows, computed before the page is cut). None past the last page."""
    from django.db.models import Count, Window

    rows = list(
        questions.annotate(total=Window(Count("pk"))).values_list(*LIST_COLUMNS, "total")[
            offset : offset + limit
        ]
    )
    if not rows:
        return None
    newest = max(max(row[9], row[10]) for row in rows)
    return Validator(fingerprint=repr(rows), last_modified=newest)
