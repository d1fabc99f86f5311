"""The API for votes, accepts and the reputation ledger. Each write validates its input and calls
one service (kb.services.votes); the rules live there."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ReputationEvent
from kb.api_errors import error_body
from kb.models import Answer, Question
from kb.selectors.reputation import reputation_event_list
from kb.serializers import ModelSerializer
from kb.services.votes import (
    VoteLimitReached,
    VoteResult,
    answer_accept,
    answer_unaccept,
    vote_cast,
    vote_retract,
)
from kb.views.access import post_or_404

User = get_user_model()


class VoteInputSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=[(1, "up"), (-1, "down")])


class VoteStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.IntegerField()
    vote = serializers.IntegerField(allow_null=True, help_text="The viewer's vote: 1, -1 or null.")


class AcceptStateSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    accepted_answer_id = serializers.IntegerField(allow_null=True)


class ReputationEventSerializer(ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    question_id = serializers.IntegerField(
        source="thread_id", allow_null=True, help_text="The question, also for answer events."
    )
    reverses = serializers.SerializerMethodField()

    class Meta:
        model = ReputationEvent
        fields = ["id", "kind", "kind_display", "amount", "question_id", "answer_id", "reverses",
                  "reason", "created_at"]  # fmt: skip

    def get_reverses(self, event) -> dict | None:
        if event.reverses is None:
            return None
        return {"id": event.reverses.pk, "kind": event.reverses.kind}


def _vote_response(result: VoteResult) -> Response:
    return Response({"id": result.post.pk, "score": result.score, "vote": result.value})


def _vote_limit_response(limit: VoteLimitReached) -> Response:
    body = error_body("vote_limit_reached", str(limit))
    body["error"]["reset_at"] = limit.reset_at.isoformat()
    return Response(
        body,
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(limit.retry_after)},
    )


class VoteApi(APIView):
    """POST `{"value": 1}` or `{"value": -1}` sets the viewer's vote (the same value again changes
    nothing; the other switches it); DELETE retracts it. Both answer with the post's score and the
    viewer's vote. 403 for one's own, deleted or locked posts, missing privileges and votes locked
    in after 5 minutes; 429 with Retry-After past the daily vote limit."""

    permission_classes = [IsAuthenticated]
    post_model: type[Question] | type[Answer] = Question

    @extend_schema(request=VoteInputSerializer, responses=VoteStateSerializer)
    def post(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        serializer = VoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = vote_cast(actor=request.user, post=post,
                               value=serializer.validated_data["value"])  # fmt: skip
        except VoteLimitReached as limit:
            return _vote_limit_response(limit)
        return _vote_response(result)

    @extend_schema(request=None, responses={200: VoteStateSerializer})
    def delete(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        return _vote_response(vote_retract(actor=request.user, post=post))


class AcceptApi(APIView):
    """POST accepts the answer (replacing any earlier accept); DELETE withdraws it. Askers only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=AcceptStateSerializer)
    def post(self, request, pk: int):
        question = answer_accept(actor=request.user, answer=post_or_404(request, Answer, pk))
        return Response({"question_id": question.pk,
                         "accepted_answer_id": question.accepted_answer_id})  # fmt: skip

    @extend_schema(request=None, responses={200: AcceptStateSerializer})
    def delete(self, request, pk: int):
        question = answer_unaccept(actor=request.user, answer=post_or_404(request, Answer, pk))
        return Response({"question_id": question.pk,
                         "accepted_answer_id": question.accepted_answer_id})  # fmt: skip


class UserReputationApi(generics.ListAPIView):
    """A member's reputation ledger, newest first, paginated. Reversals point at what they undo."""

    serializer_class = ReputationEventSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return ReputationEvent.objects.none()
        user = get_object_or_404(User, username=self.kwargs["username"], is_active=True)
        return reputation_event_list(user=user)
