"""The import API: POST /api/v1/imports/ takes an article (a multipart `file`, or JSON `text`)
and returns its plan (`?dry_run=1`) or imports it; `entries` (the plan's entries, adjusted)
replaces the parsed plan. Undo an import, verify an imported answer."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from kb import permissions
from kb.article_import import MAX_ARTICLE_BYTES, ArticleError
from kb.forms_imports import ALLOWED_SUFFIXES, MAX_ENTRIES
from kb.models import ArticleImport
from kb.selectors.imports import (
    ACTIONS,
    ImportPlan,
    PlanEntry,
    import_plan_read,
    plan_match,
)
from kb.selectors.questions import answer_get
from kb.serializers import AnswerSerializer
from kb.services.imports import answer_verify, import_run, import_undo
from kb.views.access import answer_or_404, import_or_404


class PlanEntrySerializer(serializers.Serializer):
    title = serializers.CharField(max_length=150)
    answer = serializers.CharField(max_length=60_000, trim_whitespace=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=5)
    section = serializers.CharField(max_length=100, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, max_length=30_000)
    action = serializers.ChoiceField(choices=ACTIONS)
    target_id = serializers.IntegerField(required=False, allow_null=True)
    match_id = serializers.IntegerField(read_only=True, allow_null=True)
    match_title = serializers.CharField(read_only=True)
    score = serializers.FloatField(read_only=True)
    already_there = serializers.BooleanField(read_only=True)
    first_line = serializers.CharField(read_only=True)


class ImportPlanSerializer(serializers.Serializer):
    page_title = serializers.CharField()
    source_name = serializers.CharField()
    encoding = serializers.CharField()
    license = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    unanswered = serializers.ListField(child=serializers.CharField())
    entries = PlanEntrySerializer(many=True)


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    source_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    source_title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    license = serializers.CharField(required=False, allow_blank=True, max_length=300)
    entries = PlanEntrySerializer(many=True, required=False, max_length=MAX_ENTRIES)

    def validate_file(self, upload):
        name = upload.name.lower()
        if not name.endswith(ALLOWED_SUFFIXES):
            raise serializers.ValidationError("Upload a .txt, .md or .html file.")
        if upload.size > MAX_ARTICLE_BYTES:
            raise serializers.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{MAX_ARTICLE_BYTES // 1024 // 1024} MB."
            )
        return upload

    def validate(self, data):
        if data.get("file") is None and not (data.get("text") or "").strip():
            raise serializers.ValidationError({"file": "Send a file or a text."})
        return data


class ImportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    created_question_ids = serializers.ListField(child=serializers.IntegerField())
    added_answer_ids = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.ListField(child=serializers.CharField())
    plan = ImportPlanSerializer()


class ArticleImportSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = ArticleImport
        fields = ["id", "source_title", "source_url", "license", "actor", "created_at",
                  "question_ids", "answer_ids", "undone_at"]  # fmt: skip


def _plan_data(plan: ImportPlan) -> dict:
    return ImportPlanSerializer(plan).data


class ImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={
            "multipart/form-data": ImportRequestSerializer,
            "application/json": ImportRequestSerializer,
        },  # fmt: skip
        parameters=[OpenApiParameter("dry_run", bool, description="1: return the plan only")],
        responses={200: ImportPlanSerializer, 201: ImportResultSerializer},
    )
    def post(self, request):
        """Plan (`?dry_run=1`) or run the import of an article. Needs the import privilege."""
        if not permissions.can_import(request.user):
            raise PermissionDenied(_("Importing articles needs the import privilege."))
        request_data = ImportRequestSerializer(data=request.data)
        request_data.is_valid(raise_exception=True)
        data = request_data.validated_data
        upload = data.get("file")
        if upload is not None:
            content, name = upload.read(), upload.name
        else:
            content, name = data["text"].encode("utf-8"), data.get("source_name") or "pasted.txt"
        try:
            plan = import_plan_read(viewer=request.user, data=content, source_name=name)
        except ArticleError as error:
            raise ValidationError({"file": str(error)}) from error
        if data.get("entries"):
            plan.entries = [PlanEntry(**entry) for entry in data["entries"]]
            plan_match(viewer=request.user, entries=plan.entries, keep_actions=True)
        if request.query_params.get("dry_run") in ("1", "true", "yes"):
            return Response(_plan_data(plan))
        result = import_run(
            actor=request.user,
            plan=plan,
            source_url=data.get("source_url", ""),
            license=data.get("license") or plan.license,
            source_title=data.get("source_title", ""),
        )
        body = {
            "id": result.article_import.pk if result.article_import else None,
            "created_question_ids": [question.pk for question in result.created],
            "added_answer_ids": [answer.pk for answer in result.added],
            "skipped": result.skipped,
            "plan": _plan_data(plan),
        }
        created = result.article_import is not None
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ImportUndoApi(APIView):
    @extend_schema(request=None, responses={200: ArticleImportSerializer})
    def post(self, request, pk: int):
        """Undo a whole import (the importer or a moderator): what it created is deleted."""
        article_import = import_or_404(request, pk)
        article_import = import_undo(actor=request.user, article_import=article_import)
        return Response(ArticleImportSerializer(article_import).data)


class AnswerVerifyApi(APIView):
    @extend_schema(request=None, responses={200: AnswerSerializer})
    def post(self, request, pk: int):
        """Mark an imported answer verified (the review privilege)."""
        answer = answer_verify(actor=request.user, answer=answer_or_404(request, pk))
        answer = answer_get(viewer=request.user, pk=answer.pk)
        return Response(AnswerSerializer(answer, context={"request": request}).data)
