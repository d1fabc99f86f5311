from collections import defaultdict

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, F, Func, Q

from kb.models import Answer, Comment, Question
from kb.selectors.questions import AUTHOR_UNSHOWN


class _EqualsAny(Func):
    """`column = ANY(ARRAY(subquery))`. Postgres evaluates the array once and, inside an OR,
    combines two index scans; `answer__question=...` there became a join that read every comment
    and every answer (about 100 ms at 10,000 questions, see docs/benchmarks.md)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def comments_for_question_page(
    *, viewer, question: Question
) -> dict[str, dict[int, list[Comment]]]:
    """All comments of a question and its answers in one query, grouped by post:
    {"question": {question_id: [...]}, "answer": {answer_id: [...]}}."""
    on_answers = _EqualsAny(
        F("answer_id"), ArraySubquery(Answer.objects.filter(question=question).values("pk"))
    )
    comments = Comment.objects.visible_to(viewer).filter(Q(question=question) | Q(on_answers))
    grouped: dict[str, dict[int, list[Comment]]] = {"question": defaultdict(list),
                                                    "answer": defaultdict(list)}  # fmt: skip
    comments = comments.select_related("author").defer(*AUTHOR_UNSHOWN)
    for comment in comments.order_by("created_at", "pk"):
        if comment.question_id:
            grouped["question"][comment.question_id].append(comment)
        else:
            grouped["answer"][comment.answer_id].append(comment)
    return grouped


def comment_list(*, viewer, post) -> list[Comment]:
    key = "question" if isinstance(post, Question) else "answer"
    comments = Comment.objects.visible_to(viewer).filter(**{key: post}).select_related("author")
    return list(comments.order_by("created_at", "pk"))
