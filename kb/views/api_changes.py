"""GET /api/v1/changes/: the change feed a mirror follows (docs/api.md, "Following changes")."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kb.selectors.changes import CursorError, change_page, cursor_of, cursor_parse

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class ChangeSerializer(serializers.Serializer):
    cursor = serializers.CharField(help_text="Pass as `since` to continue after this change.")
    kind = serializers.ChoiceField(choices=["question", "answer", "comment", "tag"])
    id = serializers.IntegerField(help_text="The changed object's id.")
    action = serializers.ChoiceField(
        choices=["created", "edited", "deleted", "undeleted", "hidden", "shown", "merged"]
    )
    changed_at = serializers.DateTimeField()
    tombstone = serializers.BooleanField(
        help_text="The object is not public now: remove it from your copy."
    )
    record = serializers.DictField(
        allow_null=True,
        help_text="The object's public dump record as it is now (docs/dump-format.md); null "
        "for a tombstone.",
    )


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    cursor = serializers.CharField(help_text="Where to continue: the last change's cursor.")
    has_more = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)


class ChangeFeedApi(APIView):
    """Every change to a public question, answer, comment or tag, in commit-safe order.

    Start with `since=0`, store `cursor` after applying a page, and ask again with it. Each change
    carries the object's current public record (apply it) or is a tombstone (remove the object).
    Replaying from zero ends with what the public dump holds for these four record types."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="A cursor from a previous page; 0 "
                             "or absent for the beginning."),
            OpenApiParameter("limit", int, description=f"Changes a page (1–{MAX_LIMIT}, "
                             f"default {DEFAULT_LIMIT})."),
        ],
        responses=ChangePageSerializer,
    )  # fmt: skip
    def get(self, request):
        since_text = request.query_params.get("since", "0")
        try:
            since = cursor_parse(since_text)
        except CursorError as error:
            raise ApiValidationError({"since": ["Not a cursor this feed handed out."]}) from error
        raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ApiValidationError({"limit": [f"A whole number from 1 to {MAX_LIMIT}."]})
        page = change_page(viewer=request.user, since=since, limit=int(raw_limit))
        results = []
        for change in page.changes:
            record = page.records.get((change.kind, change.object_id))
            results.append({
                "cursor": cursor_of(change), "kind": change.kind, "id": change.object_id,
                "action": change.action, "changed_at": change.changed_at,
                "tombstone": record is None, "record": record,
            })  # fmt: skip
        cursor = results[-1]["cursor"] if results else (since_text or "0")
        next_url = None
        if page.has_more:
            query = request.query_params.copy()
            query["since"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(ChangePageSerializer({"results": results, "cursor": cursor,
                                              "has_more": page.has_more,
                                              "next": next_url}).data)  # fmt: skip
