"""The API of the inbox, achievements, follows, bookmarks and tag preferences. Every endpoint is
the signed-in member's own (`/me/…`); writes validate their input and call one service."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from kb.api_errors import error_body
from kb.models import Question
from notifications import selectors, services
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    question_title = serializers.CharField(source="question.title", allow_null=True, default=None)
    url = serializers.SerializerMethodField(help_text="The exact place, with its anchor.")
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_display", "actor", "question_id", "question_title",
                  "answer_id", "comment_id", "text", "url", "unread", "read_at",
                  "created_at"]  # fmt: skip

    def get_url(self, notification) -> str:
        return self.context["request"].build_absolute_uri(selectors.notification_url(notification))

    def get_unread(self, notification) -> bool:
        return notification.read_at is None


class InboxApi(generics.ListAPIView):
    """The signed-in member's inbox, newest first; `?unread=1` for unread items only."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="1: unread only")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        unread = self.request.query_params.get("unread") in ("1", "true")
        return selectors.inbox_list(viewer=self.request.user, unread=unread)


class InboxReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError({"ids": "Give ids, or all: true."})
        return data


class InboxReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class InboxReadApi(APIView):
    """Mark notifications read: `{"ids": [...]}` (all must be yours, else 404 and nothing is
    marked) or `{"all": true}`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=InboxReadInputSerializer, responses=InboxReadResultSerializer)
    def post(self, request):
        data = InboxReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            marked = services.notifications_mark_read(
                actor=request.user,
                ids=data.validated_data.get("ids"),
                everything=data.validated_data["all"],
            )
        except Notification.DoesNotExist:
            return Response(
                error_body("not_found", "No such notification in your inbox."),
                status=status.HTTP_404_NOT_FOUND,
            )
        unread = selectors.unread_count(viewer=request.user)
        return Response({"marked": marked, "unread": unread})


class AchievementSerializer(serializers.Serializer):
    day = serializers.DateField()
    question_id = serializers.IntegerField(source="thread_id", allow_null=True)
    question_title = serializers.SerializerMethodField()
    amount = serializers.IntegerField()
    events = serializers.IntegerField()
    kinds = serializers.ListField(child=serializers.CharField())

    def get_question_title(self, group) -> str | None:
        return group.thread.title if group.thread else None


class AchievementsApi(generics.ListAPIView):
    """The member's reputation changes, summed per day and post, newest day first."""

    serializer_class = AchievementSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.achievement_list(viewer=self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        groups = selectors.achievement_groups(viewer=request.user, rows=page)
        return self.get_paginated_response(self.get_serializer(groups, many=True).data)


class QuestionStateSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    following = serializers.BooleanField()
    bookmarked = serializers.BooleanField()


class _QuestionToggleApi(APIView):
    permission_classes = [IsAuthenticated]

    def _question(self, request, pk: int) -> Question:
        try:
            return services.followable_question_get(viewer=request.user, pk=pk)
        except Question.DoesNotExist as error:
            raise Http404 from error

    def _state(self, request, question) -> Response:
        state = selectors.question_state(viewer=request.user, question=question)
        return Response(
            {"question_id": question.pk, "following": state.following,
             "bookmarked": state.bookmarked}
        )  # fmt: skip


class QuestionFollowApi(_QuestionToggleApi):
    """Follow (PUT) or unfollow (DELETE) a question: new answers come to your inbox."""

    @extend_schema(request=None, responses=QuestionStateSerializer)
    def put(self, request, pk: int):
        question = self._question(request, pk)
        services.question_follow(actor=request.user, question=question)
        return self._state(request, question)

    # The state after the change, as PUT answers (not an empty 204).
    @extend_schema(request=None, responses={200: QuestionStateSerializer})
    def delete(self, request, pk: int):
        question = self._question(request, pk)
        services.question_unfollow(actor=request.user, question=question)
        return self._state(request, question)


class QuestionBookmarkApi(_QuestionToggleApi):
    """Bookmark (PUT) or un-bookmark (DELETE) a question (收藏)."""

    @extend_schema(request=None, responses=QuestionStateSerializer)
    def put(self, request, pk: int):
        question = self._question(request, pk)
        services.bookmark_add(actor=request.user, question=question)
        return self._state(request, question)

    # The state after the change, as PUT answers (not an empty 204).
    @extend_schema(request=None, responses={200: QuestionStateSerializer})
    def delete(self, request, pk: int):
        question = self._question(request, pk)
        services.bookmark_remove(actor=request.user, question=question)
        return self._state(request, question)


class TagPreferencesSerializer(serializers.Serializer):
    watched = serializers.ListField(child=serializers.CharField(max_length=40), max_length=100)
    ignored = serializers.ListField(child=serializers.CharField(max_length=40), max_length=100)
    hide_ignored = serializers.BooleanField(required=False)


class MeTagsApi(APIView):
    """Your watched and ignored tags (GET); replace both lists (PUT)."""

    permission_classes = [IsAuthenticated]

    def _get(self, request) -> Response:
        preferences = selectors.tag_preferences_get(viewer=request.user)
        return Response(
            {"watched": sorted(preferences.watched), "ignored": sorted(preferences.ignored),
             "hide_ignored": preferences.hide_ignored}
        )  # fmt: skip

    @extend_schema(responses=TagPreferencesSerializer)
    def get(self, request):
        return self._get(request)

    @extend_schema(request=TagPreferencesSerializer, responses=TagPreferencesSerializer)
    def put(self, request):
        data = TagPreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.tag_preferences_set(
            actor=request.user,
            watched=data.validated_data["watched"],
            ignored=data.validated_data["ignored"],
        )
        if "hide_ignored" in data.validated_data:
            current = selectors.tag_preferences_get(viewer=request.user)
            services.notification_settings_set(
                actor=request.user,
                email_mode=current.email_mode,
                hide_ignored=data.validated_data["hide_ignored"],
            )
        return self._get(request)
