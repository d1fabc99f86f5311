"""Rows that belong to a question's thread: on the question or on one of its answers."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, F, Func, Q

from kb.models import Answer, Question


class _EqualsAny(Func):
    """`column = ANY(ARRAY(subquery))`. Postgres evaluates the array once and, inside an OR,
    combines two index scans; `answer__question=...` there became a join that read every row
    and every answer (about 100 ms for comments at 10,000 questions, see docs/benchmarks.md)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def in_thread(question: Question) -> Q:
    """For models with `question` and `answer` foreign keys (Comment, Revision, Flag)."""
    on_answers = _EqualsAny(
        F("answer_id"), ArraySubquery(Answer.objects.filter(question=question).values("pk"))
    )
    return Q(question=question) | Q(on_answers)
