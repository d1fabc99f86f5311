"""The revision core: every content state of a post is a Revision row; the post's current content
is a copy of its newest approved revision. Only this module writes revisions."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from kb import markdown
from kb.interview import FIELDS as INTERVIEW_FIELDS
from kb.interview import Interview
from kb.models import Answer, Question, Revision, Tag
from kb.services import page_cache
from kb.services.search_index import search_index_post
from kb.services.tags import tags_resolve


def revision_append(
    *,
    post: Question | Answer,
    author,
    body: str,
    title: str = "",
    tags: list[str] | None = None,
    summary: str = "",
    status: str = Revision.Status.APPROVED,
    base_revision: Revision | None = None,
    rollback_of: Revision | None = None,
    interview: Interview | None = None,
) -> Revision:
    """Append a revision to a post that the caller has locked (select_for_update) in this
    transaction; an approved one becomes the post's content at once."""
    is_question = isinstance(post, Question)
    number = Revision.objects.filter(**{"question" if is_question else "answer": post}).count() + 1
    revision = Revision.objects.create(
        question=post if is_question else None,
        answer=None if is_question else post,
        number=number,
        title=title if is_question else "",
        body=body,
        tags=list(tags or []) if is_question else [],
        author=author,
        summary=summary,
        status=status,
        base_revision=base_revision,
        rollback_of=rollback_of,
        **(interview or Interview()).model_values() if is_question else {},
    )
    page_cache.post_changed(post)  # a page may say an edit is waiting
    if status == Revision.Status.APPROVED:
        revision_make_current(post=post, revision=revision)
    return revision


def revision_make_current(*, post: Question | Answer, revision: Revision) -> None:
    """Copy an approved revision's content onto its post and re-render it."""
    now = timezone.now()
    post.body = revision.body
    post.body_html = markdown.render(revision.body)
    post.renderer_version = markdown.RENDERER_VERSION
    post.revision_count = revision.number
    fields = ["body", "body_html", "renderer_version", "revision_count"]
    if revision.number > 1:
        post.updated_at = now
        fields.append("updated_at")
    if isinstance(post, Question):
        post.title = revision.title
        post.last_activity_at = now
        fields += ["title", "last_activity_at"]
        for name in INTERVIEW_FIELDS:
            setattr(post, name, getattr(revision, name))
        fields += list(INTERVIEW_FIELDS)
        tags = tags_resolve(names=revision.tags)
        before = set(post.tags.values_list("pk", flat=True))
        post.tags.set(tags)
        tags_recount(tag_ids=before | {t.pk for t in tags})
    else:
        Question.objects.filter(pk=post.question_id).update(last_activity_at=now)
    post.save(update_fields=fields)
    search_index_post(post=post)  # same transaction: the vector never lags the content
    page_cache.post_changed(post)


def tags_recount(*, tag_ids: set[int]) -> None:
    """Recompute question_count from rows (never incremented blindly, so it cannot drift)."""
    if not tag_ids:
        return
    live = (
        Question.tags.through.objects.filter(tag_id=OuterRef("pk"))
        .exclude(question__status=Question.Status.DELETED)
        .exclude(question__hidden_by_flags=True)
        .values("tag_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Tag.objects.filter(pk__in=tag_ids).update(question_count=Coalesce(Subquery(live), 0))
    page_cache.lists_changed()


def post_counts_refresh(*, post) -> None:
    """After a post is hidden by flags or shown again: the counts it is part of (answers of its
    question, questions of its tags) are recomputed from rows."""
    if isinstance(post, Question):
        tags_recount(tag_ids=set(post.tags.values_list("pk", flat=True)))
    elif isinstance(post, Answer):
        answer_count_refresh(question_id=post.question_id)


def answer_count_refresh(*, question_id: int) -> None:
    live = (
        Answer.objects.filter(question_id=question_id, is_deleted=False, hidden_by_flags=False)
        .values("question_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Question.objects.filter(pk=question_id).update(answer_count=Coalesce(Subquery(live), 0))
    page_cache.question_changed(question_id)


def newest_approved(*, post: Question | Answer) -> Revision | None:
    key = "question" if isinstance(post, Question) else "answer"
    return (
        Revision.objects.filter(Q(**{key: post}), status=Revision.Status.APPROVED)
        .order_by("-number")
        .first()
    )
