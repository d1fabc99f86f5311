"""Checks that a database's content is what the services would have left.

Used by the generator's tests and after every generation in `bench.run`. All but the rendering
check are SQL over all rows; rendering is checked on a sample of posts and comments.
"""

import random

from django.db import connection

from kb import markdown
from kb.models import Answer, Comment, Question
from kb.services.reputation import reputation_differences
from kb.services.search_index import stale_question_ids

# (name, SQL returning offending rows). Each query must return no rows.
CHECKS = [
    (
        "every post has revision 1",
        """
        SELECT 'question', q.id FROM kb_question q WHERE NOT EXISTS
            (SELECT 1 FROM kb_revision r WHERE r.question_id = q.id AND r.number = 1)
        UNION ALL
        SELECT 'answer', a.id FROM kb_answer a WHERE NOT EXISTS
            (SELECT 1 FROM kb_revision r WHERE r.answer_id = a.id AND r.number = 1)
        """,
    ),
    (
        "revision numbers run 1..n without gaps",
        """
        SELECT coalesce(question_id, answer_id) FROM kb_revision
        GROUP BY question_id, answer_id HAVING max(number) <> count(*)
        """,
    ),
    (
        "a base revision is an earlier revision of the same post",
        """
        SELECT r.id FROM kb_revision r JOIN kb_revision b ON b.id = r.base_revision_id
        WHERE (b.question_id, b.answer_id) IS DISTINCT FROM (r.question_id, r.answer_id)
           OR b.number >= r.number
        """,
    ),
    (
        "question content is its newest approved revision",
        """
        SELECT q.id FROM kb_question q JOIN LATERAL (
            SELECT * FROM kb_revision r WHERE r.question_id = q.id AND r.status = 'approved'
            ORDER BY r.number DESC LIMIT 1) r ON true
        WHERE (q.title, q.body, q.revision_count) IS DISTINCT FROM (r.title, r.body, r.number)
           OR ARRAY(SELECT t.name FROM kb_question_tags qt JOIN kb_tag t ON t.id = qt.tag_id
                    WHERE qt.question_id = q.id ORDER BY t.name)
              IS DISTINCT FROM ARRAY(SELECT unnest(r.tags) ORDER BY 1)
        """,
    ),
    (
        "answer content is its newest approved revision",
        """
        SELECT a.id FROM kb_answer a JOIN LATERAL (
            SELECT * FROM kb_revision r WHERE r.answer_id = a.id AND r.status = 'approved'
            ORDER BY r.number DESC LIMIT 1) r ON true
        WHERE (a.body, a.revision_count) IS DISTINCT FROM (r.body, r.number)
        """,
    ),
    (
        "at most one pending revision per post, newer than the approved ones",
        """
        SELECT coalesce(question_id, answer_id) FROM kb_revision
        GROUP BY question_id, answer_id
        HAVING count(*) FILTER (WHERE status = 'pending') > 1
            OR max(number) FILTER (WHERE status = 'pending')
               < max(number) FILTER (WHERE status = 'approved')
        """,
    ),
    (
        "answer_count counts the live answers",
        """
        SELECT q.id FROM kb_question q WHERE q.answer_count <>
            (SELECT count(*) FROM kb_answer a WHERE a.question_id = q.id AND NOT a.is_deleted)
        """,
    ),
    (
        "question score is the sum of its votes",
        """
        SELECT q.id FROM kb_question q WHERE q.score <>
            (SELECT coalesce(sum(v.value), 0) FROM kb_vote v WHERE v.question_id = q.id)
        """,
    ),
    (
        "answer score is the sum of its votes",
        """
        SELECT a.id FROM kb_answer a WHERE a.score <>
            (SELECT coalesce(sum(v.value), 0) FROM kb_vote v WHERE v.answer_id = a.id)
        """,
    ),
    (
        "nobody votes on their own post",
        """
        SELECT v.id FROM kb_vote v
        LEFT JOIN kb_question q ON q.id = v.question_id
        LEFT JOIN kb_answer a ON a.id = v.answer_id
        WHERE v.user_id = coalesce(q.author_id, a.author_id)
        """,
    ),
    (
        "tag question_count counts its visible questions",
        """
        SELECT t.id FROM kb_tag t WHERE t.question_count <>
            (SELECT count(*) FROM kb_question_tags qt JOIN kb_question q ON q.id = qt.question_id
             WHERE qt.tag_id = t.id AND q.status <> 'deleted')
        """,
    ),
    (
        "an accepted answer belongs to its question and is live",
        """
        SELECT q.id FROM kb_question q JOIN kb_answer a ON a.id = q.accepted_answer_id
        WHERE a.question_id <> q.id OR a.is_deleted
        """,
    ),
    (
        "what a deleted post earned is reversed",
        """
        SELECT e.id FROM accounts_reputationevent e
        LEFT JOIN kb_answer a ON a.id = e.answer_id
        JOIN kb_question q ON q.id = coalesce(e.question_id, a.question_id)
        WHERE e.kind IN ('question_upvoted', 'answer_upvoted', 'downvoted', 'downvote_cast',
                         'answer_accepted', 'accepted_an_answer')
          AND (q.status = 'deleted' OR a.is_deleted)
          AND NOT EXISTS (SELECT 1 FROM accounts_reputationevent r WHERE r.reverses_id = e.id)
        """,
    ),
    (
        "comment text is its newest revision",
        """
        SELECT c.id FROM kb_comment c WHERE c.body IS DISTINCT FROM
            (SELECT r.body FROM kb_commentrevision r WHERE r.comment_id = c.id
             ORDER BY r.number DESC LIMIT 1)
        """,
    ),
    (
        "stored HTML comes from the current renderer",
        """
        SELECT id FROM kb_question WHERE renderer_version <> %(renderer_version)s
        UNION ALL
        SELECT id FROM kb_answer WHERE renderer_version <> %(renderer_version)s
        UNION ALL
        SELECT id FROM kb_comment WHERE renderer_version <> %(renderer_version)s
        """,
    ),
]


def problems(*, render_sample: int | None = 200, seed: int = 0) -> list[str]:
    """Every broken invariant as a line of text; [] when the data is consistent.

    render_sample: how many questions and answers to re-render and compare (None: all)."""
    found = []
    with connection.cursor() as cursor:
        for name, sql in CHECKS:
            # The SQL is this module's own text, never input.
            cursor.execute(
                f"SELECT * FROM ({sql}) AS offending LIMIT 5",  # noqa: S608
                {"renderer_version": markdown.RENDERER_VERSION},
            )
            rows = cursor.fetchall()
            if rows:
                found.append(f"{name}: e.g. {rows}")
    # The services' own consistency checks: scores and reputation against votes and the ledger,
    # and search documents against the content and the segmenter's version.
    found += [f"reputation: {difference}" for difference in reputation_differences()[:5]]
    stale = stale_question_ids()
    if stale:
        found.append(f"search documents missing or stale for questions {stale[:5]}")
    for model, render in (
        (Question, markdown.render),
        (Answer, markdown.render),
        (Comment, markdown.render_comment),
    ):
        ids = sorted(model.objects.values_list("pk", flat=True))
        if render_sample is not None and len(ids) > render_sample:
            ids = random.Random(seed).sample(ids, render_sample)
        for pk, body, body_html in model.objects.filter(pk__in=ids).values_list(
            "pk", "body", "body_html"
        ):
            if render(body) != body_html:
                found.append(f"{model.__name__} {pk}: body_html is not the rendered body")
    return found
