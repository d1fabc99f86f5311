"""Reads for moderation: the review queue, the flag and correction queues, the audit log and a
question's public timeline. Each takes the viewer and shows nothing to those it is not for."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Prefetch, Q, QuerySet

from kb import permissions
from kb.models import (
    Answer,
    CloseVote,
    Comment,
    Flag,
    ModerationAction,
    Question,
    ReviewVote,
    Revision,
)


def _visible_posts(viewer) -> Q:
    """Revisions whose post (and the post's question) the viewer may see, checked through joins
    row by row: the rows asked about are few (pending suggestions), the posts many."""
    question_hidden = Question.objects.hidden_from(viewer, "question__")
    if question_hidden is None:
        return Q()  # moderators see every post
    on_question = Q(question__isnull=False) & ~question_hidden
    on_answer = (
        Q(answer__isnull=False)
        & ~Answer.objects.hidden_from(viewer, "answer__")
        & ~Question.objects.hidden_from(viewer, "answer__question__")
    )
    return on_question | on_answer


def _with_posts(revisions: QuerySet[Revision]) -> QuerySet[Revision]:
    return revisions.select_related(
        "author",
        "base_revision",
        "question__author",
        "answer__author",
        "answer__question",
    ).prefetch_related(
        Prefetch("review_votes", queryset=ReviewVote.objects.select_related("reviewer"))
    )


def review_edit_list(*, viewer) -> QuerySet[Revision]:
    """Pending suggested edits the viewer may decide, oldest first: every one for reviewers
    (except their own and those they have voted on), those on their own posts for authors."""
    if not permissions.is_active_member(viewer):
        return Revision.objects.none()
    pending = Revision.objects.filter(status=Revision.Status.PENDING).exclude(author=viewer)
    pending = pending.exclude(review_votes__reviewer=viewer).filter(_visible_posts(viewer))
    if not permissions.can_review_edits(viewer):
        pending = pending.filter(Q(question__author=viewer) | Q(answer__author=viewer))
    # The queue shows diffs of the revisions and an excerpt of the post, not its HTML.
    unshown = ("question__body_html", "answer__body_html", "answer__question__body",
               "answer__question__body_html")  # fmt: skip
    return _with_posts(pending).defer(*unshown).order_by("created_at", "pk")


def review_edit_get(*, viewer, pk: int) -> Revision:
    """One suggested edit (any status) on a post the viewer may see; DoesNotExist otherwise."""
    return _with_posts(Revision.objects.filter(_visible_posts(viewer))).get(pk=pk)


def suggested_edit_list_by_author(*, viewer) -> QuerySet[Revision]:
    """The viewer's own suggested edits (pending, approved, rejected, superseded), newest first:
    where an author learns what became of them."""
    if not viewer.is_authenticated:
        return Revision.objects.none()
    reviewed = Q(reviewer__isnull=False) | ~Q(status=Revision.Status.APPROVED)
    mine = Revision.objects.filter(author=viewer).filter(reviewed)
    return (
        mine.filter(_visible_posts(viewer))
        .select_related("question", "answer", "answer__question", "reviewer")
        .order_by("-created_at", "-pk")
    )


# --- Flags ----------------------------------------------------------------------------------


@dataclass
class FlaggedTarget:
    """The pending flags on one question, answer or comment."""

    kind: str  # "question", "answer" or "comment"
    target: Question | Answer | Comment
    question: Question  # the thread it belongs to
    flags: list[Flag] = field(default_factory=list)
    first_flagged_at: datetime | None = None

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return Counter(flag.reason for flag in self.flags).most_common()

    @property
    def reason_labels(self) -> list[tuple[str, int]]:
        labels = dict(Flag.Reason.choices)
        return [(str(labels[reason]), n) for reason, n in self.reasons]


def _grouped(flags: list[Flag]) -> list[FlaggedTarget]:
    groups: dict[tuple[str, int], FlaggedTarget] = {}
    for flag in flags:
        if flag.question_id:
            key, target, question = ("question", flag.question_id), flag.question, flag.question
        elif flag.answer_id:
            key, target = ("answer", flag.answer_id), flag.answer
            question = flag.answer.question
        else:
            key, target = ("comment", flag.comment_id), flag.comment
            question = flag.comment.question or flag.comment.answer.question
        if key not in groups:
            groups[key] = FlaggedTarget(
                kind=key[0], target=target, question=question, first_flagged_at=flag.created_at
            )
        groups[key].flags.append(flag)
    return list(groups.values())


def _flags_with_targets(flags: QuerySet[Flag]) -> QuerySet[Flag]:
    return flags.select_related(
        "user",
        "question__author",
        "answer__author",
        "answer__question",
        "comment__author",
        "comment__question",
        "comment__answer__question",
    ).order_by("created_at", "pk")


def flag_target_keys(*, reasons=None) -> QuerySet:
    """One row per flagged target with pending flags, oldest flag first: the page to paginate."""
    flags = Flag.objects.filter(status=Flag.Status.PENDING)
    if reasons is not None:
        flags = flags.filter(reason__in=reasons)
    return (
        flags.values("question_id", "answer_id", "comment_id")
        .annotate(count=Count("pk"), first=Min("created_at"))
        .order_by("first", "question_id", "answer_id", "comment_id")
    )


def flag_groups_for(*, keys: list[dict], reasons=None) -> list[FlaggedTarget]:
    """The pending flags of these targets (a page of `flag_target_keys`), grouped, in one query."""
    if not keys:
        return []
    condition = Q()
    for kind in ("question", "answer", "comment"):
        ids = [key[f"{kind}_id"] for key in keys if key[f"{kind}_id"]]
        if ids:
            condition |= Q(**{f"{kind}_id__in": ids})
    flags = Flag.objects.filter(condition, status=Flag.Status.PENDING)
    if reasons is not None:
        flags = flags.filter(reason__in=reasons)
    return _grouped(list(_flags_with_targets(flags)))


def flag_queue(*, viewer) -> QuerySet:
    """Moderators' flag queue: targets with pending flags (see flag_groups_for)."""
    if not permissions.can_moderate(viewer):
        return Flag.objects.none().values("question_id", "answer_id", "comment_id")
    return flag_target_keys()


def correction_queue(*, viewer) -> QuerySet:
    """Questions and answers flagged inaccurate or outdated, for members who edit directly.
    Deleted posts are left out."""
    if not permissions.can_see_corrections(viewer):
        return Flag.objects.none().values("question_id", "answer_id", "comment_id")
    flags = Flag.objects.filter(
        status=Flag.Status.PENDING, reason__in=Flag.CORRECTION_REASONS
    ).filter(
        Q(question__in=Question.objects.visible_to(viewer).exclude(status=Question.Status.DELETED))
        | Q(answer__in=Answer.objects.visible_to(viewer).filter(is_deleted=False))
    )
    return (
        flags.values("question_id", "answer_id", "comment_id")
        .annotate(count=Count("pk"), first=Min("created_at"))
        .order_by("first", "question_id", "answer_id")
    )


def unverified_answer_list(*, viewer) -> QuerySet[Answer]:
    """Imported answers waiting to be verified, oldest first: part of the correction queue, for
    those who may see it."""
    if not permissions.can_see_corrections(viewer):
        return Answer.objects.none()
    return (
        Answer.objects.filter(
            verification=Answer.Verification.UNVERIFIED,
            is_deleted=False,
            question__in=Question.objects.visible_to(viewer)
            .exclude(status=Question.Status.DELETED)
            .values("pk"),
        )
        .select_related("question", "imported_from")
        .defer("body", "body_html", "question__body", "question__body_html")
        .order_by("created_at", "pk")
    )


# --- The audit log and timelines ------------------------------------------------------------


def moderation_log_list(
    *, viewer, action: str = "", actor: str = "", question_id=None, user: str = ""
) -> QuerySet[ModerationAction]:
    """The whole audit log, newest first, for moderators; filters narrow it."""
    if not permissions.can_moderate(viewer):
        return ModerationAction.objects.none()
    rows = ModerationAction.objects.select_related(
        "actor", "target_user", "question", "answer", "comment"
    ).defer("question__body", "question__body_html", "answer__body", "answer__body_html")
    if action:
        rows = rows.filter(action=action)
    if actor:
        rows = rows.filter(actor__username=actor)
    if user:
        rows = rows.filter(target_user__username=user)
    if question_id is not None:
        rows = rows.filter(question_id=question_id)
    return rows.order_by("-created_at", "-pk")


def question_timeline(*, viewer, question: Question) -> list[ModerationAction]:
    """The public part of the log for a question and its answers and comments, oldest first
    (one query). Moderators see the whole log on the log page."""
    return list(
        ModerationAction.objects.filter(question=question, is_public=True)
        .select_related("actor")
        .only(
            "pk",
            "action",
            "reason",
            "details",
            "created_at",
            "answer_id",
            "comment_id",
            "actor__username",
            "actor__display_name",
        )
        .order_by("created_at", "pk")
    )


def post_deleted_by_author(post: Question | Answer) -> bool:
    """Whether the newest delete of this post was its author's own (who may then undelete it)."""
    key = {"question": post, "answer": None} if isinstance(post, Question) else {"answer": post}
    last = (
        ModerationAction.objects.filter(action="post_delete", **key)
        .order_by("-created_at", "-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    return last == post.author_id


def post_deletion_reversals(post: Question | Answer) -> list[int]:
    """The reputation reversals the newest delete of this post wrote (ids), for undeleting it."""
    key = {"question": post, "answer": None} if isinstance(post, Question) else {"answer": post}
    details = (
        ModerationAction.objects.filter(action="post_delete", **key)
        .order_by("-created_at", "-pk")
        .values_list("details", flat=True)
        .first()
    )
    return list((details or {}).get("reversals", []))


def close_vote_of(*, user, question: Question) -> CloseVote | None:
    """`user`'s active close or reopen vote on `question` (one query), for the page's withdraw
    button."""
    return (
        CloseVote.objects.filter(question=question, user=user, is_active=True)
        .only("pk", "kind", "user_id", "is_active")
        .first()
    )
