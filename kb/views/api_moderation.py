"""The moderation API: flags, the review queues, close and reopen, locks, deletion, merging,
suspensions, the audit log and a question's public timeline. Each write validates its input and
calls one service (kb.services.reviews, flags, closing, moderation); the rules live there."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from kb import moderation_actions, permissions
from kb.diff import revision_diff
from kb.models import Answer, CloseVote, Comment, Flag, ModerationAction, Question, Revision
from kb.selectors.moderation import (
    FlaggedTarget,
    correction_queue,
    flag_groups_for,
    flag_queue,
    moderation_log_list,
    question_timeline,
    review_edit_get,
    review_edit_list,
    suggested_edit_list_by_author,
)
from kb.selectors.questions import question_get
from kb.serializers import ModelSerializer, UserSummarySerializer
from kb.services import closing, flags, moderation, reviews
from kb.services.comments import comment_delete
from kb.services.flags import CORRECTION_REASONS
from kb.views.access import question_or_404, suggested_edit_or_404, target_or_404

User = get_user_model()

MODELS = {"question": Question, "answer": Answer, "comment": Comment}


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Representations ------------------------------------------------------------------------


def post_summary(target, question: Question | None = None) -> dict:
    """What a queue row says about the thing it is about."""
    if isinstance(target, Question):
        question = target
        kind = "question"
    elif isinstance(target, Answer):
        question = question or target.question
        kind = "answer"
    else:
        question = question or target.question or target.answer.question
        kind = "comment"
    return {
        "kind": kind,
        "id": target.pk,
        "question_id": question.pk,
        "title": question.title,
        "url": f"/api/v1/{kind}s/{target.pk}/"
        if kind != "question"
        else (f"/api/v1/questions/{target.pk}/"),
        "author": target.author.username if target.author_id else None,
        "excerpt": target.body[:300],
        "is_deleted": target.is_deleted,
        "hidden_by_flags": target.hidden_by_flags,
    }


class PostSummarySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["question", "answer", "comment"])
    id = serializers.IntegerField()
    question_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    excerpt = serializers.CharField()
    is_deleted = serializers.BooleanField()
    hidden_by_flags = serializers.BooleanField()


class FlagInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)
    text = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class FlagSerializer(ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    handled_by = serializers.CharField(
        source="handled_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Flag
        fields = [
            "id",
            "reason",
            "text",
            "status",
            "user",
            "question_id",
            "answer_id",
            "comment_id",
            "handled_by",
            "handled_at",
            "created_at",
        ]


class ReviewVoteSerializer(serializers.Serializer):
    reviewer = serializers.CharField(source="reviewer.username")
    decision = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class SuggestedEditSerializer(ModelSerializer):
    """A suggested edit with its post, its votes and the diff from the revision it started from."""

    author = UserSummarySerializer(read_only=True)
    reviewer = UserSummarySerializer(read_only=True)
    post = serializers.SerializerMethodField()
    base_revision = serializers.SerializerMethodField()
    votes = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = [
            "id",
            "number",
            "status",
            "post",
            "author",
            "summary",
            "base_revision",
            "votes",
            "reviewer",
            "reviewed_at",
            "review_note",
            "created_at",
            "diff",
        ]

    def get_post(self, revision) -> PostSummarySerializer:
        return post_summary(revision.question or revision.answer)

    def get_base_revision(self, revision) -> int | None:
        return revision.base_revision.number if revision.base_revision_id else None

    def get_votes(self, revision) -> ReviewVoteSerializer(many=True):
        return ReviewVoteSerializer(revision.review_votes.all(), many=True).data

    def get_diff(self, revision) -> dict:
        if not revision.base_revision_id:
            return None
        return revision_diff(revision.base_revision, revision)


class MySuggestedEditSerializer(ModelSerializer):
    post = serializers.SerializerMethodField()
    reviewer = UserSummarySerializer(read_only=True)

    class Meta:
        model = Revision
        fields = [
            "id",
            "number",
            "status",
            "post",
            "summary",
            "reviewer",
            "reviewed_at",
            "review_note",
            "created_at",
        ]

    def get_post(self, revision) -> dict:
        post = revision.question or revision.answer
        question = revision.thread
        kind = "question" if revision.question_id else "answer"
        return {"kind": kind, "id": post.pk, "question_id": question.pk, "title": question.title}


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(reviews.DECISIONS))
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=100_000, trim_whitespace=False, required=False)
    title = serializers.CharField(max_length=1000, trim_whitespace=False, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False
    )
    summary = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReviewResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["pending", "approved", "rejected"])
    approvals = serializers.IntegerField()
    rejections = serializers.IntegerField()
    suggestion = SuggestedEditSerializer()
    improvement = serializers.IntegerField(allow_null=True, help_text="The improving revision.")


class FlagGroupSerializer(serializers.Serializer):
    target = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    flags = FlagSerializer(many=True)
    first_flagged_at = serializers.DateTimeField()

    def get_target(self, group: FlaggedTarget) -> PostSummarySerializer:
        return post_summary(group.target, group.question)

    def get_reasons(self, group: FlaggedTarget) -> dict[str, int]:
        return dict(group.reasons)


class FlagResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(flags.DECISIONS))
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class FlagResolutionSerializer(serializers.Serializer):
    target = PostSummarySerializer()
    decision = serializers.CharField()
    flags = serializers.IntegerField(help_text="How many pending flags were resolved.")
    removed = serializers.BooleanField(help_text="Whether the target was removed.")


class CloseInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Question.CloseReason.choices)
    duplicate_of = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class CloseStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    close_reason = serializers.CharField()
    duplicate_of = serializers.IntegerField(allow_null=True)
    decided = serializers.BooleanField()
    votes = serializers.IntegerField(help_text="Active votes of this kind (0 once decided).")
    needed = serializers.IntegerField()


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class LockInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    days = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="Omit for a lock until a moderator unlocks.",
    )


class DeleteInputSerializer(ReasonInputSerializer):
    spam = serializers.BooleanField(required=False, default=False)


class MergeInputSerializer(ReasonInputSerializer):
    into = serializers.IntegerField(min_value=1)


class SuspendInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=1000)


class PostStateSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)
    is_deleted = serializers.BooleanField()
    locked_until = serializers.DateTimeField(allow_null=True)
    is_locked = serializers.BooleanField()
    protected = serializers.BooleanField(allow_null=True)
    duplicate_of = serializers.IntegerField(allow_null=True)
    hidden_by_flags = serializers.BooleanField()


class UserStateSerializer(serializers.Serializer):
    username = serializers.CharField()
    suspended_until = serializers.DateTimeField(allow_null=True)


class ModerationActionSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor.username")
    action_display = serializers.SerializerMethodField()
    target_user = serializers.CharField(
        source="target_user.username", allow_null=True, default=None
    )

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "action",
            "action_display",
            "actor",
            "question_id",
            "answer_id",
            "comment_id",
            "target_user",
            "reason",
            "is_public",
            "details",
            "created_at",
        ]

    def get_action_display(self, row) -> str:
        return moderation_actions.action_label(row.action)


class TimelineEntrySerializer(ModelSerializer):
    actor = serializers.CharField(source="actor.username")
    action_display = serializers.SerializerMethodField()

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "action",
            "action_display",
            "actor",
            "answer_id",
            "comment_id",
            "reason",
            "details",
            "created_at",
        ]

    def get_action_display(self, row) -> str:
        return moderation_actions.action_label(row.action)


class TimelineSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True)


def post_state(target) -> dict:
    is_question = isinstance(target, Question)
    kind = "question" if is_question else ("answer" if isinstance(target, Answer) else "comment")
    locked_until = getattr(target, "locked_until", None)
    return {
        "kind": kind,
        "id": target.pk,
        "status": target.status if is_question else None,
        "is_deleted": target.is_deleted,
        "locked_until": None
        if locked_until and locked_until >= moderation_actions.LOCKED_INDEFINITELY
        else locked_until,
        "is_locked": permissions.post_is_locked(target) if kind != "comment" else False,
        "protected": target.protected if is_question else None,
        "duplicate_of": target.duplicate_of_id if is_question else None,
        "hidden_by_flags": target.hidden_by_flags,
    }


# --- Flags ----------------------------------------------------------------------------------


class FlagCreateApi(APIView):
    """POST `{"reason": …, "text": …}` flags a question, an answer or a comment. `text` is
    required for "moderator". 403 for one's own or deleted posts; 400 for a second pending flag;
    429 with Retry-After past the daily flag limit."""

    permission_classes = [IsAuthenticated]
    kind = "question"

    @extend_schema(request=FlagInputSerializer, responses={201: FlagSerializer})
    def post(self, request, pk: int):
        target = target_or_404(request, self.kind, pk)
        data = _validated(FlagInputSerializer, request)
        flag = flags.flag_create(actor=request.user, target=target, **data)
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class _QueuePage(APIView):
    """A paginated queue of flagged targets."""

    permission_classes = [IsAuthenticated]
    pagination_class = generics.GenericAPIView.pagination_class
    reasons = None

    def keys(self, request):
        raise NotImplementedError

    def get(self, request):
        paginator = self.pagination_class()
        keys = paginator.paginate_queryset(self.keys(request), request, view=self)
        groups = flag_groups_for(keys=list(keys), reasons=self.reasons)
        return paginator.get_paginated_response(FlagGroupSerializer(groups, many=True).data)


class FlagQueueApi(_QueuePage):
    """Moderators: every flagged question, answer and comment with its pending flags, oldest
    first."""

    @extend_schema(responses=FlagGroupSerializer(many=True))
    def get(self, request):
        if not permissions.can_moderate(request.user):
            raise ApiPermissionDenied("Only moderators can see the flag queue.")
        return super().get(request)

    def keys(self, request):
        return flag_queue(viewer=request.user)


class CorrectionQueueApi(_QueuePage):
    """Members who edit directly: posts flagged inaccurate or outdated, oldest first. An approved
    edit of the post clears it from the queue."""

    reasons = CORRECTION_REASONS

    @extend_schema(responses=FlagGroupSerializer(many=True))
    def get(self, request):
        if not permissions.can_see_corrections(request.user):
            raise ApiPermissionDenied("The correction queue is for members who edit directly.")
        return super().get(request)

    def keys(self, request):
        return correction_queue(viewer=request.user)


class FlagResolveApi(APIView):
    """Moderators: POST `{"decision": "helpful"|"declined", "note": …}` resolves every pending
    flag on the target. Helpful spam or abusive flags remove it; declined ones un-hide it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=FlagResolveInputSerializer, responses=FlagResolutionSerializer)
    def post(self, request, kind: str, pk: int):
        if kind not in MODELS:
            raise Http404
        target = target_or_404(request, kind, pk)
        data = _validated(FlagResolveInputSerializer, request)
        result = flags.flags_resolve(actor=request.user, target=target, **data)
        target.refresh_from_db()
        return Response(
            {
                "target": post_summary(target),
                "decision": result.decision,
                "flags": result.flags,
                "removed": result.removed,
            }
        )


# --- Suggested edits ------------------------------------------------------------------------


class ReviewEditListApi(generics.ListAPIView):
    """Pending suggested edits the viewer may decide, oldest first, each with its diff.
    Reviewers see all of them (except their own and those they voted on); authors those on their
    posts."""

    permission_classes = [IsAuthenticated]
    serializer_class = SuggestedEditSerializer
    filterset_class = None

    def get_queryset(self):
        return review_edit_list(viewer=self.request.user)


class MySuggestedEditListApi(generics.ListAPIView):
    """The viewer's own suggested edits, newest first, with what became of them (pending,
    approved, rejected with the reason, superseded by a direct edit)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MySuggestedEditSerializer
    filterset_class = None

    def get_queryset(self):
        return suggested_edit_list_by_author(viewer=self.request.user)


class ReviewEditApi(APIView):
    """GET one suggested edit with its diff; POST `{"decision": "approve"|"reject"|"improve",
    "reason": …}` decides on it (`reason` required to reject; `body`/`title`/`tags`/`summary`
    carry an improvement)."""

    permission_classes = [IsAuthenticated]

    def get_revision(self, request, pk: int) -> Revision:
        return suggested_edit_or_404(request, pk)

    @extend_schema(responses=SuggestedEditSerializer)
    def get(self, request, pk: int):
        return Response(SuggestedEditSerializer(self.get_revision(request, pk)).data)

    @extend_schema(request=ReviewInputSerializer, responses=ReviewResultSerializer)
    def post(self, request, pk: int):
        revision = self.get_revision(request, pk)
        data = _validated(ReviewInputSerializer, request)
        result = reviews.edit_review(actor=request.user, revision=revision, **data)
        suggestion = review_edit_get(viewer=request.user, pk=pk)
        return Response(
            {
                "outcome": result.outcome,
                "approvals": result.approvals,
                "rejections": result.rejections,
                "suggestion": SuggestedEditSerializer(suggestion).data,
                "improvement": result.improvement.number if result.improvement else None,
            }
        )


# --- Close, reopen, merge -------------------------------------------------------------------


def _close_response(result: closing.CloseResult) -> Response:
    question = result.question
    return Response(
        {
            "id": question.pk,
            "status": question.status,
            "close_reason": question.close_reason,
            "duplicate_of": question.duplicate_of_id,
            "decided": result.decided,
            "votes": result.votes,
            "needed": result.needed,
        }
    )


class CloseApi(APIView):
    """POST `{"reason": …, "duplicate_of": id}` votes to close (CLOSE_VOTES_NEEDED votes decide; a
    moderator alone). `duplicate_of` is required for, and only for, "duplicate"."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CloseInputSerializer, responses=CloseStateSerializer)
    def post(self, request, pk: int):
        question = question_or_404(request, pk)
        data = _validated(CloseInputSerializer, request)
        return _close_response(
            closing.question_close(
                actor=request.user,
                question=question,
                reason=data["reason"],
                duplicate_of=data.get("duplicate_of"),
            )
        )

    @extend_schema(request=None, responses=CloseStateSerializer)
    def delete(self, request, pk: int):
        """Withdraw your vote to close before the question is decided (403 `no_vote` when you
        have none)."""
        question = question_or_404(request, pk)
        return _close_response(
            closing.close_vote_withdraw(
                actor=request.user, question=question, kind=CloseVote.Kind.CLOSE
            )
        )


class ReopenApi(APIView):
    """POST votes to reopen a closed question (a moderator reopens it alone)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=CloseStateSerializer)
    def post(self, request, pk: int):
        question = question_or_404(request, pk)
        return _close_response(closing.question_reopen(actor=request.user, question=question))

    @extend_schema(request=None, responses=CloseStateSerializer)
    def delete(self, request, pk: int):
        """Withdraw your vote to reopen before the question is decided (403 `no_vote` when you
        have none)."""
        question = question_or_404(request, pk)
        return _close_response(
            closing.close_vote_withdraw(
                actor=request.user, question=question, kind=CloseVote.Kind.REOPEN
            )
        )


class MergeApi(APIView):
    """Moderators: POST `{"into": id}` moves this question's answers to question `id` and closes
    this one as its duplicate."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=MergeInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        question = question_or_404(request, pk)
        data = _validated(MergeInputSerializer, request)
        try:
            into = question_get(viewer=request.user, pk=data["into"])
        except Question.DoesNotExist as error:
            raise ValidationError({"into": f"No question {data['into']}."}) from error
        question = moderation.question_merge(
            actor=request.user, question=question, into=into, reason=data["reason"]
        )
        return Response(post_state(question))


# --- Locks, protection, deletion ------------------------------------------------------------


class _PostActionApi(APIView):
    permission_classes = [IsAuthenticated]
    kind = "question"

    def target(self, request, pk: int):
        return target_or_404(request, self.kind, pk)


class LockApi(_PostActionApi):
    """Moderators: POST `{"reason": …, "days": n}` locks the post (no edits, votes, comments or
    answers); without `days` until unlocked."""

    @extend_schema(request=LockInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        post = self.target(request, pk)
        data = _validated(LockInputSerializer, request)
        return Response(
            post_state(
                moderation.post_lock(
                    actor=request.user, post=post, reason=data["reason"], days=data.get("days")
                )
            )
        )


class UnlockApi(_PostActionApi):
    """Moderators: POST `{"reason": …}` unlocks the post."""

    @extend_schema(request=ReasonInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        post = self.target(request, pk)
        data = _validated(ReasonInputSerializer, request)
        return Response(
            post_state(moderation.post_unlock(actor=request.user, post=post, reason=data["reason"]))
        )


class ProtectApi(_PostActionApi):
    """Moderators: POST protects the question (members below PROTECTED_ANSWER_REPUTATION cannot
    answer it); the unprotect route lifts it."""

    protect = True

    @extend_schema(request=ReasonInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        question = self.target(request, pk)
        data = _validated(ReasonInputSerializer, request)
        question = moderation.question_protect(
            actor=request.user, question=question, protected=self.protect, reason=data["reason"]
        )
        return Response(post_state(question))


class DeleteApi(_PostActionApi):
    """POST `{"reason": …, "spam": false}` soft-deletes the post or comment (moderators; authors
    their own posts within limits). `spam` (moderators) also costs the author reputation."""

    @extend_schema(request=DeleteInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        target = self.target(request, pk)
        data = _validated(DeleteInputSerializer, request)
        if self.kind == "comment":
            if data["spam"]:
                raise ApiPermissionDenied("Comments are not removed as spam; flag them.")
            target = comment_delete(actor=request.user, comment=target, reason=data["reason"])
        else:
            target = moderation.post_delete(
                actor=request.user, post=target, reason=data["reason"], spam=data["spam"]
            )
        return Response(post_state(target))


class UndeleteApi(_PostActionApi):
    """POST `{"reason": …}` restores a deleted post (moderators, or its author who deleted it) or
    comment (moderators)."""

    @extend_schema(request=ReasonInputSerializer, responses=PostStateSerializer)
    def post(self, request, pk: int):
        target = self.target(request, pk)
        data = _validated(ReasonInputSerializer, request)
        if self.kind == "comment":
            target = moderation.comment_undelete(
                actor=request.user, comment=target, reason=data["reason"]
            )
        else:
            target = moderation.post_undelete(
                actor=request.user, post=target, reason=data["reason"]
            )
        return Response(post_state(target))


# --- Members --------------------------------------------------------------------------------


class SuspendApi(APIView):
    """Moderators: POST `{"days": n, "reason": …}` suspends the member (they can read, not
    write)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=SuspendInputSerializer, responses=UserStateSerializer)
    def post(self, request, username: str):
        member = get_object_or_404(User, username=username)
        data = _validated(SuspendInputSerializer, request)
        member = moderation.user_suspend(actor=request.user, user=member, **data)
        return Response({"username": member.username, "suspended_until": member.suspended_until})


class UnsuspendApi(APIView):
    """Moderators: POST `{"reason": …}` lifts a suspension."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReasonInputSerializer, responses=UserStateSerializer)
    def post(self, request, username: str):
        member = get_object_or_404(User, username=username)
        data = _validated(ReasonInputSerializer, request)
        member = moderation.user_unsuspend(actor=request.user, user=member, **data)
        return Response({"username": member.username, "suspended_until": member.suspended_until})


# --- The log and timelines ------------------------------------------------------------------


class ModerationLogApi(generics.ListAPIView):
    """Moderators: the audit log, newest first. Filter with `action`, `actor`, `user` (the member
    acted on) and `question`."""

    permission_classes = [IsAuthenticated]
    serializer_class = ModerationActionSerializer
    filterset_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str),
            OpenApiParameter("actor", str),
            OpenApiParameter("user", str),
            OpenApiParameter("question", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        if not permissions.can_moderate(request.user):
            raise ApiPermissionDenied("Only moderators can read the moderation log.")
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        question = params.get("question", "")
        return moderation_log_list(
            viewer=self.request.user,
            action=params.get("action", ""),
            actor=params.get("actor", ""),
            user=params.get("user", ""),
            question_id=int(question) if question.isdigit() else None,
        )


class TimelineApi(APIView):
    """A question's public moderation timeline (closings, locks, deletions, reviews…), oldest
    first."""

    @extend_schema(responses=TimelineSerializer)
    def get(self, request, pk: int):
        question = question_or_404(request, pk)
        rows = question_timeline(viewer=request.user, question=question)
        return Response({"results": TimelineEntrySerializer(rows, many=True).data})
