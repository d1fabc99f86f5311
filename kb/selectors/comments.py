from collections import defaultdict

from kb.models import Comment, Question
from kb.selectors.questions import AUTHOR_UNSHOWN
from kb.selectors.threads import in_thread


def comments_for_question_page(
    *, viewer, question: Question
) -> dict[str, dict[int, list[Comment]]]:
    """All comments of a question and its answers in one query, grouped by post:
    {"question": {question_id: [...]}, "answer": {answer_id: [...]}}."""
    comments = Comment.objects.visible_to(viewer).filter(in_thread(question))
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
