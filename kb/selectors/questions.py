"""Reads of questions and answers. Visibility is decided here, once, from the viewer."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Value, When

from kb.models import Answer, Question

QUESTION_TABS = {
    "newest": ["-created_at", "-pk"],
    "active": ["-last_activity_at", "-pk"],
    "top": ["-score", "-created_at", "-pk"],
    "unanswered": ["-created_at", "-pk"],
}

# What a page shows of a post's author is a card: the long or secret columns stay behind.
AUTHOR_UNSHOWN = ("author__password", "author__bio")
# What a list does not show of a question (it shows the difficulty).
INTERVIEW_UNSHOWN = ("short_answer", "key_points", "common_mistakes", "follow_ups")


def tag_names() -> ArraySubquery:
    """A question's tag names in name order, for `.annotate(tag_names=tag_names())`: pages and
    the API show tags by name, and reading them with the question spares a prefetch query."""
    tagged = Question.tags.through.objects.filter(question_id=OuterRef("pk"))
    return ArraySubquery(tagged.order_by("tag__name").values("tag__name"))


def question_list(*, viewer, tab: str = "newest") -> QuerySet[Question]:
    """Questions the viewer may see, for list pages, with their authors and tag_names."""
    questions = Question.objects.visible_to(viewer)
    if tab == "unanswered":
        questions = questions.filter(answer_count=0)
    return (
        questions.select_related("author")
        .annotate(tag_names=tag_names())
        .defer("body", "body_html", *INTERVIEW_UNSHOWN)
        .order_by(*QUESTION_TABS.get(tab, QUESTION_TABS["newest"]))
    )


def page_rows(items: QuerySet, sliced: QuerySet) -> list:
    """The rows of one page of the list `items` (`sliced` is the page's slice of it): the page's
    keys are found by the list's filter and order alone, and the joins and subqueries (authors,
    tag names) run for those rows only, not for every row before the offset. Still one query,
    so page 66 costs what page 1 does."""
    return list(items.filter(pk__in=sliced.values("pk")))


def question_get(*, viewer, pk: int) -> Question:
    """One question with its author and tag_names; Question.DoesNotExist when hidden from the
    viewer."""
    return (
        Question.objects.visible_to(viewer)
        .select_related("author")
        .defer(*AUTHOR_UNSHOWN)
        .annotate(tag_names=tag_names())
        .get(pk=pk)
    )


def question_is_deleted(*, pk: int) -> bool:
    """Whether a question exists and is deleted (its page answers 410 Gone to those who may not
    see it). Says nothing about its content, so it takes no viewer."""
    return Question.objects.filter(pk=pk, status=Question.Status.DELETED).exists()


def duplicate_target(*, viewer, question: Question) -> Question | None:
    """The question a question closed as a duplicate points to, when the viewer may see it (a
    query only for such questions: joining it into question_get made every read slower)."""
    if (
        question.status != Question.Status.CLOSED
        or question.close_reason != Question.CloseReason.DUPLICATE
        or not question.duplicate_of_id
    ):
        return None
    return (
        Question.objects.visible_to(viewer)
        .only("pk", "title")
        .filter(pk=question.duplicate_of_id)
        .first()
    )


def answer_list(*, viewer, question: Question) -> QuerySet[Answer]:
    """A question's answers: accepted first, then by score, verified before unverified (imported)
    answers of equal score, then oldest first."""
    order = ["-score", "-verification", "created_at", "pk"]  # "verified" > "unverified"
    if question.accepted_answer_id:  # (the CASE costs a question page 0.2 ms to compile)
        order.insert(0, Case(When(pk=question.accepted_answer_id, then=Value(0)),
                             default=Value(1), output_field=IntegerField()))  # fmt: skip
    return (
        Answer.objects.visible_to(viewer)
        .filter(question=question)
        .select_related("author", "imported_from__actor")
        .defer(*AUTHOR_UNSHOWN, "imported_from__actor__password", "imported_from__actor__bio")
        .order_by(*order)
    )


def answer_get(*, viewer, pk: int) -> Answer:
    """One answer with its author and question; Answer.DoesNotExist when the answer or its
    question is hidden from the viewer."""
    return (
        Answer.objects.visible_to(viewer)
        .filter(question__in=Question.objects.visible_to(viewer).values("pk"))
        .select_related("author", "question", "imported_from__actor")
        .get(pk=pk)
    )


def answer_list_by_author(*, viewer, author) -> QuerySet[Answer]:
    """A user's answers that the viewer may see, newest first, with their questions' titles."""
    return (
        Answer.objects.visible_to(viewer)
        .filter(author=author, question__in=Question.objects.visible_to(viewer).values("pk"))
        .select_related("question")
        .defer("body", "body_html", "question__body", "question__body_html")
        .order_by("-created_at", "-pk")
    )
