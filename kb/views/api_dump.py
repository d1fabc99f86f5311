"""GET /api/v1/dump/: the public dump (docs/dump-format.md), streamed as JSON Lines."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from kb.dump import dump_lines


class DumpRateThrottle(UserRateThrottle):
    """A full walk of the database: a few per hour per user (or per address when anonymous)."""

    scope = "dump"
    rate = "10/hour"


class DumpApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [DumpRateThrottle]

    @extend_schema(
        summary="The public dump",
        description=(
            "Every public user profile, tag, question, answer, approved revision, comment and "
            "public moderation record as JSON Lines (docs/dump-format.md). No emails, "
            "credentials, votes, flags or reputation events; deleted posts are left out."
        ),
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                response=OpenApiTypes.STR, description="One JSON object per line."
            )
        },
    )
    def get(self, request):
        lines = dump_lines(public=True, site_url=request.build_absolute_uri("/"))
        response = StreamingHttpResponse(
            (line.encode() for line in lines), content_type="application/x-ndjson; charset=utf-8"
        )
        filename = f"mianjing-public-{timezone.now():%Y%m%d}.jsonl"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
