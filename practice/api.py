"""The practice API: the next question, grading, progress, and a visitor browser's scheduling
step and import. Writes validate their input and call one service (practice.services)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from kb.interview import DIFFICULTIES
from kb.permissions import practice_refusal
from kb.serializers import FollowUpSerializer
from kb.templatetags.kb_pages import question_url
from practice.models import CardState, Grade
from practice.selectors import practice_next, practice_progress, watched_tag_names
from practice.services import practice_import, practice_review, practice_schedule


class CanPractise(BasePermission):
    """kb.permissions.practice_refusal as a DRF permission: keeping a schedule needs an active
    account."""

    def has_permission(self, request, view) -> bool:
        refusal = practice_refusal(request.user)
        if refusal:
            self.message, self.code = refusal.message, refusal.code
        return refusal is None


def _ids(value: str) -> list[int]:
    return [int(v) for v in value.replace(",", " ").split() if v.isdigit() and len(v) < 12][:2000]


class TopAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    body_html = serializers.CharField()
    score = serializers.IntegerField()


class PracticeQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(), source="tag_names")
    body = serializers.CharField()
    body_html = serializers.CharField()
    difficulty = serializers.CharField()
    short_answer = serializers.CharField()
    key_points = serializers.ListField(child=serializers.CharField())
    common_mistakes = serializers.ListField(child=serializers.CharField())
    follow_ups = FollowUpSerializer(many=True)
    top_answer = serializers.SerializerMethodField()

    def get_url(self, question) -> str:
        return question_url(question)

    def get_top_answer(self, question) -> TopAnswerSerializer(allow_null=True):
        answer = self.context.get("top_answer")
        return TopAnswerSerializer(answer).data if answer else None


class NextSerializer(serializers.Serializer):
    question = PracticeQuestionSerializer(allow_null=True)
    due = serializers.IntegerField(help_text="Due cards among the chosen tags and difficulty.")


def _watched_tags(request, tags: list[str]) -> list[str]:
    """`?watched=1`: the viewer's watched tags not already in `tags`; a clear 400 when there are
    none to add (a visitor watches nothing)."""
    value = request.query_params.get("watched", "0")
    if value not in ("0", "1"):
        raise ApiValidationError({"watched": [_("Give 1 (add my watched tags) or 0.")]})
    if value == "0":
        return []
    if not request.user.is_authenticated:
        raise ApiValidationError({"watched": [_("Log in to practise the tags you watch.")]})
    watched = watched_tag_names(viewer=request.user)
    if not watched:
        raise ApiValidationError(
            {"watched": [_("You watch no tags yet: watch some on their tag pages first.")]}
        )
    return [name for name in watched if name not in tags]


class PracticeNextApi(APIView):
    """The next question to practise: for a member, from their schedule; for a visitor, from
    `due` (ids of the browser's due cards, soonest first) and `seen` (every id it has seen)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("tags", str, description="Tag names, separated by commas or spaces"),
            OpenApiParameter(
                "watched",
                str,
                enum=["1", "0"],
                description="1: also the tags you watch (members; a visitor, or a member who "
                "watches no tag, gets a 400)",
            ),
            OpenApiParameter("difficulty", str, enum=list(DIFFICULTIES)),
            OpenApiParameter("due", str, description="Visitors: due question ids, soonest first"),
            OpenApiParameter("seen", str, description="Visitors: every question id practised"),
        ],
        responses=NextSerializer,
    )
    def get(self, request):
        params = request.query_params
        tags = [t.lower() for t in params.get("tags", "").replace(",", " ").split()][:10]
        difficulty = params.get("difficulty", "")
        if difficulty and difficulty not in DIFFICULTIES:
            raise ApiValidationError(
                {"difficulty": [f"One of: {', '.join(DIFFICULTIES)}, or leave it out."]}
            )
        tags += _watched_tags(request, tags)
        pick = practice_next(
            viewer=request.user,
            now=timezone.now(),
            tags=tags,
            difficulty=difficulty,
            due_ids=_ids(params.get("due", "")),
            seen_ids=_ids(params.get("seen", "")),
        )
        question = (
            PracticeQuestionSerializer(pick.question, context={"top_answer": pick.top_answer}).data
            if pick.question
            else None
        )
        return Response({"question": question, "due": pick.due})


class PracticeReviewInputSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    grade = serializers.ChoiceField(choices=[g.name.lower() for g in Grade])


class CardSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    state = serializers.SerializerMethodField()
    due = serializers.DateTimeField()
    last_review = serializers.DateTimeField()
    stability = serializers.FloatField()
    difficulty = serializers.FloatField()
    review_count = serializers.IntegerField()

    def get_state(self, card) -> str:
        return CardState(card.state).name.lower()


class PracticeReviewApi(APIView):
    """Grade your recall of a question: `{"question": id, "grade": "again" … "easy"}`."""

    permission_classes = [CanPractise]

    @extend_schema(request=PracticeReviewInputSerializer, responses={201: CardSerializer})
    def post(self, request):
        data = PracticeReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = practice_review(
            actor=request.user,
            question_id=data.validated_data["question"],
            grade=data.validated_data["grade"],
            now=timezone.now(),
        )
        return Response(CardSerializer(card).data, status=status.HTTP_201_CREATED)


class TagStatsSerializer(serializers.Serializer):
    name = serializers.CharField()
    seen = serializers.IntegerField()
    due = serializers.IntegerField()
    reviews = serializers.IntegerField(help_text="Reviews of learned cards")
    retention = serializers.FloatField(allow_null=True)


class DayStatsSerializer(serializers.Serializer):
    day = serializers.DateField()
    reviews = serializers.IntegerField()
    again = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    seen = serializers.IntegerField()
    due = serializers.IntegerField()
    reviews = serializers.IntegerField()
    retention = serializers.FloatField(allow_null=True)
    tags = TagStatsSerializer(many=True)
    days = DayStatsSerializer(many=True)


class PracticeStatsApi(APIView):
    """Your progress: per tag, questions seen, due now and retention; reviews per day."""

    permission_classes = [CanPractise]

    @extend_schema(responses=StatsSerializer)
    def get(self, request):
        progress = practice_progress(viewer=request.user, now=timezone.now())
        return Response(StatsSerializer(progress).data)


class MemorySerializer(serializers.Serializer):
    state = serializers.IntegerField()
    step = serializers.IntegerField(allow_null=True)
    stability = serializers.FloatField(allow_null=True)
    difficulty = serializers.FloatField(allow_null=True)
    due = serializers.DateTimeField()
    last_review = serializers.DateTimeField(allow_null=True)


class ScheduleInputSerializer(serializers.Serializer):
    card = serializers.JSONField(allow_null=True, required=False, default=None)
    grade = serializers.ChoiceField(choices=[g.name.lower() for g in Grade])


class PracticeScheduleApi(APIView):
    """The scheduling step alone, for a visitor's browser that keeps its own cards: the card's
    state (null for a new one) and a grade in, the next state out. Nothing is stored."""

    permission_classes = [AllowAny]

    @extend_schema(request=ScheduleInputSerializer, responses=MemorySerializer)
    def post(self, request):
        data = ScheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        memory = practice_schedule(
            card=data.validated_data["card"], grade=data.validated_data["grade"], now=timezone.now()
        )
        return Response(MemorySerializer(memory).data)


class PracticeImportInputSerializer(serializers.Serializer):
    cards = serializers.ListField(child=serializers.JSONField(), max_length=2000)


class PracticeImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    kept = serializers.IntegerField()


class PracticeImportApi(APIView):
    """Bring the schedule a browser kept before sign-up or login into the account."""

    permission_classes = [CanPractise]

    @extend_schema(request=PracticeImportInputSerializer, responses=PracticeImportResultSerializer)
    def post(self, request):
        data = PracticeImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = practice_import(
            actor=request.user, cards=data.validated_data["cards"], now=timezone.now()
        )
        return Response(PracticeImportResultSerializer(result).data)
