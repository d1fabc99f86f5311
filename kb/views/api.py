"""The JSON API, /api/v1/. Reads go through selectors; writes (later issues) through services."""

from functools import cache

from django.contrib.auth import authenticate, get_user_model
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.services import token_create, token_revoke
from kb import permissions as kb_permissions
from kb.api_errors import error_body
from kb.api_fields import FIELDS_PARAMETER, SparseFieldsMixin, field_tree
from kb.conditional import conditional_api
from kb.diff import revision_diff
from kb.filters import QuestionFilter
from kb.models import Answer, Question, Revision
from kb.selectors.comments import comment_list, comments_for_question_page
from kb.selectors.questions import answer_list, question_list
from kb.selectors.revisions import revision_list
from kb.selectors.tags import tag_list
from kb.selectors.validators import (
    answer_thread_validator,
    question_page_validator,
    tags_validator,
    thread_validator,
    user_validator,
)
from kb.serializers import (
    AnswerCreateSerializer,
    AnswerSerializer,
    ApiTokenSerializer,
    CommentListSerializer,
    CommentSerializer,
    CommentWriteSerializer,
    EditResultSerializer,
    InterviewInputSerializer,
    MeSerializer,
    PostEditSerializer,
    QuestionCreateSerializer,
    QuestionDetailSerializer,
    QuestionListSerializer,
    RevisionSerializer,
    RollbackSerializer,
    TagSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenListSerializer,
    TokenRequestSerializer,
    UserDetailSerializer,
)
from kb.services import page_cache as page_versions
from kb.services.answers import answer_create
from kb.services.comments import comment_create, comment_delete, comment_edit
from kb.services.edits import EditConflict, post_edit, revision_rollback
from kb.services.questions import question_create
from kb.views.access import answer_or_404, comment_or_404, post_or_404, question_or_404, tag_or_404
from kb.views.page_cache import (
    AnonymousApiCacheMixin,
    anonymous_api,
    depend,
    depend_on_users,
)

User = get_user_model()


@extend_schema(parameters=[FIELDS_PARAMETER])
class QuestionListApi(SparseFieldsMixin, generics.ListAPIView):
    """Questions, newest first; filter with tag, author, status, has_accepted, answered,
    created_after/created_before, updated_after/updated_before; sort with ordering."""

    serializer_class = fields_serializer = QuestionListSerializer
    filterset_class = QuestionFilter

    def get_queryset(self):
        return question_list(viewer=self.request.user)

    @conditional_api(lambda view, request: view.page_validator(request))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def page_validator(self, request):
        page = request.query_params.get("page", "1")
        if not page.isdigit() or int(page) < 1:
            return None  # the paginator answers 404
        size = self.paginator.get_page_size(request)
        questions = self.filter_queryset(self.get_queryset())
        return question_page_validator(questions=questions, offset=(int(page) - 1) * size,
                                       limit=size)  # fmt: skip

    @extend_schema(request=QuestionCreateSerializer, responses={201: QuestionDetailSerializer})
    def post(self, request):
        data = _validated(QuestionCreateSerializer, request)
        interview = InterviewInputSerializer.interview_of(data)
        question = question_create(
            actor=request.user,
            rate_limited=True,
            title=data["title"],
            body=data["body"],
            tags=data["tags"],
            interview=interview,
        )
        return Response(_question_detail_data(request, question.pk), status=status.HTTP_201_CREATED)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _question_detail_data(request, pk: int, include: set[str] = frozenset()) -> dict:
    question = question_or_404(request, pk)
    answers = list(answer_list(viewer=request.user, question=question))
    for answer in answers:
        answer.question = question  # spare a query per answer
    data = QuestionDetailSerializer(question, context={"request": request, "answers": answers}).data
    # What the response shows, for the versioned cache (a no-op unless it is being stored).
    depend(request, page_versions.question_key(question.pk))
    depend_on_users(
        request,
        {question.author_id}
        | {answer.author_id for answer in answers}
        | {answer.imported_from.actor_id for answer in answers if answer.imported_from_id},
    )
    if "comments" in include:  # one query for the question's and every answer's comments
        grouped = comments_for_question_page(viewer=request.user, question=question)
        depend_on_users(
            request,
            {c.author_id for group in grouped.values() for cs in group.values() for c in cs},
        )
        context = {"question_id": question.pk}
        data["comments"] = CommentSerializer(
            grouped["question"].get(question.pk, []), many=True, context=context
        ).data
        for answer_data in data["answers"]:
            answer_data["comments"] = CommentSerializer(
                grouped["answer"].get(answer_data["id"], []), many=True, context=context
            ).data
    return data


INCLUDES = {"answers", "comments"}
INCLUDE_PARAMETER = OpenApiParameter(
    "include",
    OpenApiTypes.STR,
    description="Comma-separated: `answers` (always included) and `comments` (the question's "
    "and each answer's comments, in a `comments` list on each).",
)


def _includes(request) -> set[str]:
    names = {n.strip() for n in request.query_params.get("include", "").split(",") if n.strip()}
    unknown = sorted(names - INCLUDES)
    if unknown:
        raise ApiValidationError({"include": [f"Unknown: {name}." for name in unknown]})
    return names


@cache
def _detail_fields_tree() -> dict:
    comments = field_tree(CommentSerializer)
    tree = field_tree(QuestionDetailSerializer, {"answers": AnswerSerializer})
    return {**tree, "comments": comments, "answers": {**tree["answers"], "comments": comments}}


def _edit_response(request, post: Question | Answer) -> Response:
    """PATCH a question or an answer: 200 saved/merged/pending, 409 on overlapping edits."""
    data = _validated(PostEditSerializer, request)
    question_only = {"title", "tags", *InterviewInputSerializer.interview_of(data)}
    if isinstance(post, Answer) and (question_only & set(data)):
        raise ApiValidationError({name: ["Answers have no title, tags or interview fields."]
                                  for name in question_only & set(data)})  # fmt: skip
    try:
        result = post_edit(
            actor=request.user,
            post=post,
            base_revision=data["base_revision"],
            body=data.get("body", post.body),
            title=data.get("title"),
            tags=data.get("tags"),
            interview=InterviewInputSerializer.interview_of(data)
            if isinstance(post, Question)
            else None,
            summary=data["summary"],
        )
    except EditConflict as conflict:
        current = RevisionSerializer(
            conflict.current, context={"numbers": _revision_numbers([conflict.current])}
        ).data
        body = error_body(
            "edit_conflict",
            str(conflict),
            {name: ["Changed meanwhile."] for name in conflict.conflicts},
        )
        body["error"].update(
            current_revision=current,
            merge={"title": conflict.merged.title, "body": conflict.merged.body,
                   "tags": conflict.merged.tags},
            yours={"title": conflict.yours.title, "body": conflict.yours.body,
                   "tags": conflict.yours.tags},
        )  # fmt: skip
        return Response(body, status=status.HTTP_409_CONFLICT)
    revision = result.revision
    state = "pending" if result.pending else ("merged" if result.merged else "saved")
    revision_data = RevisionSerializer(
        revision, context={"numbers": _revision_numbers([revision])}
    ).data
    return Response({"status": state, "revision": revision_data})


def _thread_of(view, request, pk: int, **kwargs):
    if getattr(view, "post_model", Question) is Answer:
        return answer_thread_validator(answer_id=pk)
    return thread_validator(question_id=pk)


class QuestionDetailApi(AnonymousApiCacheMixin, SparseFieldsMixin, APIView):
    """Anonymous callers are served from the versioned cache (kb/views/page_cache.py)."""

    fields_serializer = QuestionDetailSerializer

    def fields_tree(self) -> dict:
        return _detail_fields_tree()

    @extend_schema(
        responses=QuestionDetailSerializer, parameters=[FIELDS_PARAMETER, INCLUDE_PARAMETER]
    )
    @anonymous_api
    @conditional_api(_thread_of)
    def get(self, request, pk: int):
        return Response(_question_detail_data(request, pk, _includes(request)))

    @extend_schema(request=PostEditSerializer, responses={200: EditResultSerializer})
    def patch(self, request, pk: int):
        return _edit_response(request, question_or_404(request, pk))


UPDATED_SINCE = OpenApiParameter(
    "updated_since", OpenApiTypes.DATETIME, description="Only answers edited since then."
)


@extend_schema(parameters=[UPDATED_SINCE, FIELDS_PARAMETER])
class QuestionAnswerListApi(SparseFieldsMixin, generics.ListAPIView):
    """A question's answers: accepted first, then by score, then oldest first."""

    serializer_class = fields_serializer = AnswerSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Answer.objects.none()
        self.question = question_or_404(self.request, self.kwargs["pk"])
        answers = answer_list(viewer=self.request.user, question=self.question)
        since = self.request.query_params.get("updated_since")
        if since is not None:
            moment = parse_datetime(since)
            if moment is None:
                raise ApiValidationError({"updated_since": ["An ISO 8601 date and time."]})
            answers = answers.filter(updated_at__gte=moment)
        return answers

    @conditional_api(_thread_of)
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "question"):
            context["accepted_answer_id"] = self.question.accepted_answer_id
        return context

    @extend_schema(request=AnswerCreateSerializer, responses={201: AnswerSerializer})
    def post(self, request, pk: int):
        question = question_or_404(request, pk)
        data = _validated(AnswerCreateSerializer, request)
        answer = answer_create(
            actor=request.user, question=question, body=data["body"], rate_limited=True
        )
        answer.question = question
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


class AnswerDetailApi(SparseFieldsMixin, APIView):
    post_model = Answer
    fields_serializer = AnswerSerializer

    @extend_schema(responses=AnswerSerializer, parameters=[FIELDS_PARAMETER])
    @conditional_api(_thread_of)
    def get(self, request, pk: int):
        answer = answer_or_404(request, pk)
        return Response(AnswerSerializer(answer, context={"request": request}).data)

    @extend_schema(request=PostEditSerializer, responses={200: EditResultSerializer})
    def patch(self, request, pk: int):
        return _edit_response(request, answer_or_404(request, pk))


@extend_schema(parameters=[FIELDS_PARAMETER])
class TagListApi(SparseFieldsMixin, generics.ListAPIView):
    """Tags by popularity (`?order=name` for alphabetical), with descriptions and aliases."""

    serializer_class = fields_serializer = TagSerializer
    filterset_class = None

    def get_queryset(self):
        return tag_list(order=self.request.query_params.get("order", "popular"))

    @conditional_api(lambda view, request: tags_validator())
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class TagDetailApi(SparseFieldsMixin, APIView):
    fields_serializer = TagSerializer

    @extend_schema(responses=TagSerializer, parameters=[FIELDS_PARAMETER])
    @conditional_api(lambda view, request, name: tags_validator())
    def get(self, request, name: str):
        return Response(TagSerializer(tag_or_404(name)).data)


def _users_with_counts():
    return User.objects.annotate(
        question_count=Count(
            "questions", filter=~Q(questions__status=Question.Status.DELETED), distinct=True
        ),
        answer_count=Count("answers", filter=Q(answers__is_deleted=False), distinct=True),
    )


class UserDetailApi(SparseFieldsMixin, APIView):
    fields_serializer = UserDetailSerializer

    @extend_schema(responses=UserDetailSerializer, parameters=[FIELDS_PARAMETER])
    @conditional_api(lambda view, request, username: user_validator(username=username))
    def get(self, request, username: str):
        user = get_object_or_404(_users_with_counts(), username=username, is_active=True)
        return Response(UserDetailSerializer(user).data)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = _users_with_counts().get(pk=request.user.pk)
        user.is_moderator = user._is_moderator = kb_permissions.is_moderator(request.user)
        return Response(MeSerializer(user).data)


class RevisionListApi(generics.ListAPIView):
    """Every revision of a question or an answer, oldest first."""

    serializer_class = RevisionSerializer
    post_model: type[Question] | type[Answer] = Question

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Revision.objects.none()
        post = post_or_404(self.request, self.post_model, self.kwargs["pk"])
        return revision_list(viewer=self.request.user, post=post)

    @conditional_api(_thread_of)
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {"numbers": _revision_numbers(page)}
        return self.get_paginated_response(
            RevisionSerializer(page, many=True, context=context).data
        )


class RevisionDetailApi(APIView):
    post_model: type[Question] | type[Answer] = Question

    @extend_schema(responses=RevisionSerializer)
    @conditional_api(_thread_of)
    def get(self, request, pk: int, number: int):
        post = post_or_404(request, self.post_model, pk)
        revision = get_object_or_404(revision_list(viewer=request.user, post=post), number=number)
        context = {"numbers": _revision_numbers([revision])}
        return Response(RevisionSerializer(revision, context=context).data)


class RevisionDiffApi(APIView):
    """`?from=N&to=M`: the title, body (inline and side by side) and tag changes."""

    post_model: type[Question] | type[Answer] = Question

    @extend_schema(
        parameters=[OpenApiParameter("from", int, required=True),
                    OpenApiParameter("to", int, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )  # fmt: skip
    @conditional_api(_thread_of)
    def get(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        numbers = {}
        for name in ("from", "to"):
            raw = request.query_params.get(name, "")
            if not raw.isdigit():
                raise ApiValidationError({name: ["A revision number is required."]})
            numbers[name] = int(raw)
        found = {r.number: r for r in revision_list(viewer=request.user, post=post).filter(
            number__in=numbers.values())}  # fmt: skip
        missing = [n for n in numbers.values() if n not in found]
        if missing:
            raise Http404(f"Unknown revision {missing[0]}.")
        return Response(revision_diff(found[numbers["from"]], found[numbers["to"]]))


class RollbackApi(APIView):
    """`{"to": N}`: a new revision whose content equals revision N."""

    post_model: type[Question] | type[Answer] = Question

    @extend_schema(request=RollbackSerializer, responses={201: RevisionSerializer})
    def post(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        data = _validated(RollbackSerializer, request)
        revision = revision_rollback(actor=request.user, post=post, to=data["to"],
                                     summary=data["summary"])  # fmt: skip
        data = RevisionSerializer(revision, context={"numbers": _revision_numbers([revision])}).data
        return Response(data, status=status.HTTP_201_CREATED)


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

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenCreatedSerializer})
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
        token, key = token_create(user=user, name=serializer.validated_data["name"])
        return Response(
            {"token": key, "name": token.name, "created_at": token.created_at},
            status=status.HTTP_201_CREATED,
        )


class MeTokenListApi(APIView):
    """The current user's active API tokens; POST `{"name": …}` makes one (key shown once)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TokenListSerializer)
    def get(self, request):
        tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by("pk")
        return Response({"results": ApiTokenSerializer(tokens, many=True).data})

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        data = _validated(TokenCreateSerializer, request)
        token, key = token_create(user=request.user, name=data["name"])
        return Response({**ApiTokenSerializer(token).data, "token": key},
                        status=status.HTTP_201_CREATED)  # fmt: skip


class MeTokenDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        token = get_object_or_404(ApiToken, pk=token_id, user=request.user, revoked_at__isnull=True)
        token_revoke(actor=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListApi(SparseFieldsMixin, APIView):
    """A post's comments, oldest first; POST `{"body": …}` adds one."""

    post_model: type[Question] | type[Answer] = Question
    fields_serializer = CommentSerializer

    @extend_schema(responses=CommentListSerializer, parameters=[FIELDS_PARAMETER])
    @conditional_api(_thread_of)
    def get(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        comments = comment_list(viewer=request.user, post=post)
        question_id = post.pk if isinstance(post, Question) else post.question_id
        data = CommentSerializer(comments, many=True, context={"question_id": question_id}).data
        return Response({"results": data})

    @extend_schema(request=CommentWriteSerializer, responses={201: CommentSerializer})
    def post(self, request, pk: int):
        post = post_or_404(request, self.post_model, pk)
        data = _validated(CommentWriteSerializer, request)
        comment = comment_create(actor=request.user, post=post, body=data["body"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailApi(APIView):
    """PATCH `{"body": …}` within the edit window; DELETE hides the comment."""

    @extend_schema(request=CommentWriteSerializer, responses=CommentSerializer)
    def patch(self, request, comment_id: int):
        comment = comment_or_404(request, comment_id)[0]
        data = _validated(CommentWriteSerializer, request)
        comment = comment_edit(actor=request.user, comment=comment, body=data["body"])
        return Response(CommentSerializer(comment).data)

    @extend_schema(responses={204: None})
    def delete(self, request, comment_id: int):
        comment_delete(actor=request.user, comment=comment_or_404(request, comment_id)[0])
        return Response(status=status.HTTP_204_NO_CONTENT)
