"""The JSON API, /api/v1/. Reads go through selectors; writes (later issues) through services."""

from django.contrib.auth import authenticate, get_user_model
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import ApiToken
from kb import permissions as kb_permissions
from kb.filters import QuestionFilter
from kb.models import Answer, Question, Revision, Tag
from kb.selectors.questions import answer_list, question_get, question_list
from kb.selectors.revisions import revision_list
from kb.selectors.tags import tag_get, tag_list
from kb.serializers import (
    AnswerSerializer,
    MeSerializer,
    QuestionDetailSerializer,
    QuestionListSerializer,
    RevisionSerializer,
    TagSerializer,
    TokenRequestSerializer,
    UserDetailSerializer,
)

User = get_user_model()


def _question_or_404(request, pk) -> Question:
    try:
        return question_get(viewer=request.user, pk=pk)
    except Question.DoesNotExist as error:
        raise Http404 from error


def _answer_or_404(request, pk) -> Answer:
    answers = Answer.objects.visible_to(request.user).select_related("author", "question")
    answer = get_object_or_404(answers, pk=pk)
    if not kb_permissions.can_view(request.user, answer.question):
        raise Http404
    return answer


class QuestionListApi(generics.ListAPIView):
    """Questions, newest first; filter with tag, author, status, has_accepted, answered,
    created_after/created_before, updated_after/updated_before; sort with ordering."""

    serializer_class = QuestionListSerializer
    filterset_class = QuestionFilter

    def get_queryset(self):
        return question_list(viewer=self.request.user)


class QuestionDetailApi(APIView):
    @extend_schema(responses=QuestionDetailSerializer)
    def get(self, request, pk: int):
        question = _question_or_404(request, pk)
        answers = list(answer_list(viewer=request.user, question=question))
        for answer in answers:
            answer.question = question  # spare a query per answer
        data = QuestionDetailSerializer(
            question, context={"request": request, "answers": answers}
        ).data
        return Response(data)


class QuestionAnswerListApi(generics.ListAPIView):
    """A question's answers: accepted first, then by score, then oldest first."""

    serializer_class = AnswerSerializer

    def get_queryset(self):
        self.question = _question_or_404(self.request, self.kwargs["pk"])
        return answer_list(viewer=self.request.user, question=self.question)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "question"):
            context["accepted_answer_id"] = self.question.accepted_answer_id
        return context


class AnswerDetailApi(APIView):
    @extend_schema(responses=AnswerSerializer)
    def get(self, request, pk: int):
        answer = _answer_or_404(request, pk)
        return Response(AnswerSerializer(answer, context={"request": request}).data)


class TagListApi(generics.ListAPIView):
    """Tags by popularity (`?order=name` for alphabetical), with descriptions and aliases."""

    serializer_class = TagSerializer
    filterset_class = None

    def get_queryset(self):
        return tag_list(order=self.request.query_params.get("order", "popular"))


class TagDetailApi(APIView):
    @extend_schema(responses=TagSerializer)
    def get(self, request, name: str):
        try:
            tag = tag_get(name=name)
        except Tag.DoesNotExist as error:
            raise Http404 from error
        return Response(TagSerializer(tag).data)


def _users_with_counts():
    return User.objects.annotate(
        question_count=Count(
            "questions", filter=~Q(questions__status=Question.Status.DELETED), distinct=True
        ),
        answer_count=Count("answers", filter=Q(answers__is_deleted=False), distinct=True),
    )


class UserDetailApi(APIView):
    @extend_schema(responses=UserDetailSerializer)
    def get(self, request, username: str):
        user = get_object_or_404(_users_with_counts(), username=username, is_active=True)
        return Response(UserDetailSerializer(user).data)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = _users_with_counts().get(pk=request.user.pk)
        user.is_moderator = kb_permissions.is_moderator(request.user)
        return Response(MeSerializer(user).data)


def _post_or_404(request, post_model, pk) -> Question | Answer:
    if post_model is Question:
        return _question_or_404(request, pk)
    return _answer_or_404(request, pk)


class RevisionListApi(generics.ListAPIView):
    """Every revision of a question or an answer, oldest first."""

    serializer_class = RevisionSerializer
    post_model: type[Question] | type[Answer] = Question

    def get_queryset(self):
        post = _post_or_404(self.request, self.post_model, self.kwargs["pk"])
        return revision_list(viewer=self.request.user, post=post)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {"numbers": _revision_numbers(page)}
        return self.get_paginated_response(
            RevisionSerializer(page, many=True, context=context).data
        )


class RevisionDetailApi(APIView):
    post_model: type[Question] | type[Answer] = Question

    @extend_schema(responses=RevisionSerializer)
    def get(self, request, pk: int, number: int):
        post = _post_or_404(request, self.post_model, pk)
        revision = get_object_or_404(revision_list(viewer=request.user, post=post), number=number)
        context = {"numbers": _revision_numbers([revision])}
        return Response(RevisionSerializer(revision, context=context).data)


def _revision_numbers(revisions) -> dict[int, int]:
    """Numbers of the revisions these point at (base_revision, rollback_of), in one query."""
    ids = {r.base_revision_id for r in revisions} | {r.rollback_of_id for r in revisions}
    ids.discard(None)
    if not ids:
        return {}
    return dict(Revision.objects.filter(pk__in=ids).values_list("pk", "number"))


class AuthTokenApi(APIView):
    """Exchange a username and password for a new API token (shown once)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenRequestSerializer)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,  # django-axes counts failures on the Django request
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"error": {"code": "invalid_credentials",
                           "message": "Unable to log in with these credentials.", "fields": {}}},
                status=status.HTTP_400_BAD_REQUEST,
            )  # fmt: skip
        key = ApiToken.new_key()
        token = ApiToken.objects.create(
            user=user,
            name=serializer.validated_data["name"],
            key_hash=ApiToken.hash_key(key),
            prefix=key[:8],
        )
        return Response(
            {"token": key, "name": token.name, "created_at": token.created_at},
            status=status.HTTP_201_CREATED,
        )
