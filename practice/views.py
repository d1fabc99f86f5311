"""Practice pages: the practice session, the grading form, progress and the mock interview sheet.
Views only read the request and call a selector or a service."""

import random
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from kb.forms import tag_names
from kb.interview import DIFFICULTIES, DIFFICULTY_CHOICES
from kb.permissions import practice_refusal
from kb.selectors.questions import tag_names as tag_names_subquery
from practice.models import Grade
from practice.selectors import (
    HISTORY_DAYS,
    Pick,
    practice_next,
    practice_progress,
    practice_question_list,
    practice_tag_choices,
    watched_tag_names,
)
from practice.services import practice_review

SHEET_MAX = 30
SHEET_DEFAULT = 8


def _filters(params, viewer) -> dict:
    """Tags (space or comma separated, or repeated), "my watched tags" (`watched=1`, members
    only: a visitor watches nothing) and a difficulty from a query string."""
    tags = []
    for value in params.getlist("tags"):
        tags += [name.lower() for name in tag_names(value)]
    difficulty = params.get("difficulty", "")
    return {
        "tags": tags[:10],
        "watched": viewer.is_authenticated and params.get("watched") == "1",
        "difficulty": difficulty if difficulty in DIFFICULTIES else "",
    }


def _chosen(filters: dict, viewer) -> tuple[dict, list[str] | None]:
    """The selector's filters (the chosen tags plus the watched ones) and the watched tag names
    (None when not asked for)."""
    if not filters["watched"]:
        return {"tags": filters["tags"], "difficulty": filters["difficulty"]}, None
    watched = watched_tag_names(viewer=viewer)
    tags = filters["tags"] + [name for name in watched if name not in filters["tags"]]
    return {"tags": tags, "difficulty": filters["difficulty"]}, watched


def _query(filters: dict) -> str:
    params = {}
    if filters["tags"]:
        params["tags"] = " ".join(filters["tags"])
    if filters["watched"]:
        params["watched"] = "1"
    if filters["difficulty"]:
        params["difficulty"] = filters["difficulty"]
    return urlencode(params)


def _ids(value: str) -> list[int]:
    """A visitor's due question ids, sent by their browser (soonest first)."""
    return [int(v) for v in value.split(",") if v.isdigit() and len(v) < 12][:2000]


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@require_safe
def practice_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET, request.user)
    selection, watched = _chosen(filters, request.user)
    chosen = _int_or_none(request.GET.get("q"))
    if chosen == 0 or watched == []:  # nothing to practise (a visitor's browser found none)
        pick = Pick(question=None, top_answer=None, due=0)
    else:
        pick = practice_next(
            viewer=request.user,
            now=timezone.now(),
            question_id=chosen,
            due_ids=_ids(request.GET.get("due", "")),
            **selection,
        )
    return render(
        request,
        "practice/practice.html",
        {
            "pick": pick,
            "question": pick.question,
            "filters": filters,
            "watched_tags": watched,
            "filter_query": _query(filters),
            "difficulty_choices": DIFFICULTY_CHOICES,
            "grades": [(g.value, g.name.lower(), g.label) for g in Grade],
            "local_mode": not request.user.is_authenticated,
            "tag_choices": practice_tag_choices(selected=filters["tags"]),
        },
    )


@require_POST
def practice_grade(request: HttpRequest) -> HttpResponse:
    """The grade buttons without JavaScript (a visitor's browser grades through the API)."""
    filters = _filters(request.POST, request.user)
    back = reverse("practice:practice") + (f"?{_query(filters)}" if _query(filters) else "")
    refusal = practice_refusal(request.user)
    if refusal:
        messages.info(request, str(refusal))
        return redirect(back)
    try:
        practice_review(
            actor=request.user,
            question_id=_int_or_none(request.POST.get("question")),
            grade=request.POST.get("grade", ""),
            now=timezone.now(),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect(back)


@require_safe
def progress_page(request: HttpRequest) -> HttpResponse:
    refusal = practice_refusal(request.user)
    progress = None if refusal else practice_progress(viewer=request.user, now=timezone.now())
    chart = _chart(progress.days) if progress else None
    return render(
        request,
        "practice/progress.html",
        {"progress": progress, "refusal": refusal, "chart": chart, "history_days": HISTORY_DAYS},
    )


def _chart(days) -> dict:
    """Bar geometry for the server-rendered SVG: reviews per day, "again" stacked in another
    colour. 30 bars of 10 units in a 300 × 80 box."""
    height, top = 80, max([d.reviews for d in days] + [1])
    bars = []
    for index, day in enumerate(days):
        total = round(day.reviews / top * (height - 12), 1)
        again = round(day.again / top * (height - 12), 1)
        bars.append(
            {
                "x": index * 10 + 1,
                "total_y": height - total,
                "total": total,
                "again_y": height - again,
                "again": again,
                "day": day.day,
                "reviews": day.reviews,
                "again_count": day.again,
            }
        )
    return {"bars": bars, "top": top, "width": len(days) * 10, "height": height}


@require_safe
def sheet_page(request: HttpRequest) -> HttpResponse:
    """A printable mock interview: questions with follow-ups, answers on the next page."""
    filters = _filters(request.GET, request.user)
    selection, watched = _chosen(filters, request.user)
    count = _int_or_none(request.GET.get("count")) or SHEET_DEFAULT
    count = max(1, min(SHEET_MAX, count))
    seed = _int_or_none(request.GET.get("seed"))
    if seed is None:
        seed = random.SystemRandom().randrange(1, 10**6)
        params = _query(filters)
        return redirect(
            reverse("practice:sheet") + f"?{params}{'&' if params else ''}count={count}&seed={seed}"
        )
    candidates = (
        []
        if watched == []
        else list(
            practice_question_list(viewer=request.user, **selection)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    )
    chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))  # noqa: S311
    by_id = {
        q.pk: q
        for q in practice_question_list(viewer=request.user)
        .filter(pk__in=chosen)
        .annotate(tag_names=tag_names_subquery())
        .only(
            "pk",
            "title",
            "body_html",
            "difficulty",
            "short_answer",
            "key_points",
            "common_mistakes",
            "follow_ups",
        )  # fmt: skip
    }
    return render(
        request,
        "practice/sheet.html",
        {
            "questions": [by_id[pk] for pk in chosen if pk in by_id],
            "filters": filters,
            "watched_tags": watched,
            "count": count,
            "seed": seed,
            "sheet_max": SHEET_MAX,
            "difficulty_choices": DIFFICULTY_CHOICES,
            "filter_query": _query(filters),
            "tag_choices": practice_tag_choices(selected=filters["tags"]),
        },
    )
