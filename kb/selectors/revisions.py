from django.db.models import QuerySet

from kb.models import Answer, Question, Revision


def revision_list(*, viewer, post: Question | Answer) -> QuerySet[Revision]:
    """A post's revisions, oldest first, with authors and reviewers (one query)."""
    key = "question" if isinstance(post, Question) else "answer"
    return (
        Revision.objects.filter(**{key: post})
        .select_related("author", "reviewer")
        .order_by("number")
    )
