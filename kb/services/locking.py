"""Row locks, in one order for every writer.

A service that changes a post, its counters or a member's reputation locks the rows it will
change before it reads what it decides on, and always in this order, so two transactions never
wait on each other in a circle (PostgreSQL would cancel one with a deadlock error):

1. questions, ascending id;
2. answers, ascending id (a service that acts on one answer locks its question first: edits
   touch the question's activity time, accepts its accepted answer, votes its thread);
3. rows that belong to a post: comments, revisions, flags, close votes, an article import;
4. users, ascending id (reputation, suspension).

Posts and users are locked FOR NO KEY UPDATE: it keeps out other writers of the row but lets
rows that point at it (votes, comments, revisions) be inserted meanwhile. A row is read again
after its lock, so what the caller decides on is current. Every function here must run inside
`transaction.atomic`; the locks are held until the transaction ends.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from kb.models import Answer, ArticleImport, Comment, Question

User = get_user_model()


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted({pk for pk in values if pk is not None})


def questions_lock(*, question_ids: Iterable[int | None]) -> dict[int, Question]:
    """Lock these questions in ascending id; the locked rows by id."""
    ids = _ids(question_ids)
    if not ids:
        return {}
    rows = Question.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    return {question.pk: question for question in rows}


def answers_lock(*, answer_ids: Iterable[int | None]) -> None:
    """Lock these answers in ascending id (their question is the caller's to lock first)."""
    ids = _ids(answer_ids)
    if ids:
        answers = Answer.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
        list(answers.values("pk"))


def posts_lock(*, question_id: int | None = None, answer_ids: Iterable[int | None] = ()) -> None:
    """Lock the question, then these answers in ascending id."""
    if question_id is not None:
        questions_lock(question_ids=[question_id])
    answers_lock(answer_ids=answer_ids)


def thread_lock(*, question_id: int) -> list[int]:
    """Lock a question and then all its answers (ascending id); the answers' ids."""
    questions_lock(question_ids=[question_id])
    answer_ids = list(
        Answer.objects.select_for_update(no_key=True)
        .filter(question_id=question_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return answer_ids


def question_locked_row(question: Question | int) -> Question:
    """The question's row, locked and read after the lock."""
    pk = question if isinstance(question, int) else question.pk
    return Question.objects.select_for_update(no_key=True).get(pk=pk)


def post_locked_row(post: Question | Answer) -> Question | Answer:
    """The post's row, locked and read after the lock: an answer's question first (the answer
    comes with its question, read under that lock)."""
    if isinstance(post, Question):
        return question_locked_row(post)
    questions_lock(question_ids=[post.question_id])
    answers = Answer.objects.select_for_update(no_key=True, of=("self",)).select_related("question")
    return answers.get(pk=post.pk)


def comment_locked_row(comment: Comment) -> Comment:
    """The comment's row, locked and read after the lock (after its post, if the caller locks
    the post too)."""
    return Comment.objects.select_for_update(no_key=True).get(pk=comment.pk)


def import_locked_row(article_import: ArticleImport) -> ArticleImport:
    """An article import's row, locked after the posts it created (the caller locks those)."""
    return ArticleImport.objects.select_for_update().get(pk=article_import.pk)


def users_lock(*, user_ids: Iterable[int | None]) -> None:
    """Lock these users' rows in ascending id, after every post the transaction locks."""
    ids = _ids(user_ids)
    if ids:
        users = User.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
        list(users.values("pk"))


def user_locked_row(user) -> "User":
    """One member's row, locked and read after the lock."""
    return User.objects.select_for_update(no_key=True).get(pk=user.pk)
