from collections import defaultdict

from django.db.models import Q

from kb.models import Comment, Question


def comments_for_question_page(
    *, viewer, question: Question
) -> dict[str, dict[int, list[Comment]]]:
    """All comments of a question and its answers in one query, grouped by post:
    {"question": {question_id: [...]}, "answer": {answer_id: [...]}}."""
    comments = Comment.objects.visible_to(viewer).filter(
        Q(question=question) | Q(answer__question=question)
    )
    grouped: dict[str, dict[int, list[Comment]]] = {"question": defaultdict(list),
                                                    "answer": defaultdict(list)}  # fmt: skip
    for comment in comments.select_related("author").order_by("created_at", "pk"):
        if comment.question_id:
            grouped["question"][comment.question_id].append(comment)
        else:
            grouped["answer"][comment.answer_id].append(comment)
    return grouped


def comment_list(*, viewer, post) -> list[Comment]:
    key = "question" if isinstance(post, Question) else "answer"
    comments = Comment.objects.visible_to(viewer).filter(**{key: post}).select_related("author")
    return list(comments.order_by("created_at", "pk"))
