"""/data/: the dataset page, and the gzipped public dump that `export_kb --public --gzip` wrote."""

import json

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from kb.dump import LICENCE, LICENCE_URL, dump_header, public_records
from kb.management.commands.export_kb import description_path
from kb.models import Answer, Question


def dump_description() -> dict | None:
    """Size, date, SHA-256 and record count of the published file, or None before the first
    export (the page then says so)."""
    path = settings.PUBLIC_DUMP_PATH
    try:
        description = json.loads(description_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not path.is_file():
        return None
    description["exported_at"] = parse_datetime(description.get("exported_at", ""))
    return description


def _sample() -> list[str]:
    """Three lines as the dump has them: the header, a question and an answer."""
    header = dump_header(public=True, with_credentials=False, site_url=settings.SITE_URL + "/")
    lines = [header]
    question = Question.objects.exclude(status=Question.Status.DELETED).order_by("pk").first()
    if question is not None:
        lines += public_records("question", [question.pk]).values()
        answer = Answer.objects.filter(question=question, is_deleted=False).order_by("pk").first()
        if answer is not None:
            lines += public_records("answer", [answer.pk]).values()
    return [json.dumps(line, ensure_ascii=False, sort_keys=True, indent=1) for line in lines]


@require_safe
def data_page(request: HttpRequest) -> HttpResponse:
    language = "en" if get_language() == "en" else "zh-hans"
    return render(
        request,
        f"kb/data.{language}.html",
        {
            "dump": dump_description(),
            "sample": _sample(),
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "site_url": settings.SITE_URL,
        },
    )


@require_safe
def data_file(request: HttpRequest, name: str) -> FileResponse:
    description = dump_description()
    if description is None or name != settings.PUBLIC_DUMP_PATH.name:
        raise Http404
    response = FileResponse(
        settings.PUBLIC_DUMP_PATH.open("rb"), as_attachment=True, content_type="application/gzip"
    )
    response["ETag"] = f'"{description["sha256"]}"'
    return response
