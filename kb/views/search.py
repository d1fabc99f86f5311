"""The search page: the same selector, results and snippets as GET /api/v1/search/."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kb.selectors.search import SORTS, search


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    """`?q=` with `sort` (relevance, newest, score) and `page`. A page past the end shows the
    last one; an unknown sort is relevance; no query shows the syntax help."""
    query = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", "relevance")
    if sort not in SORTS:
        sort = "relevance"
    results = None
    if query:
        results = search(
            viewer=request.user,
            query=query,
            sort=sort,
            page=request.GET.get("page"),
            strict_page=False,
        )
    return render(
        request,
        "kb/search_results.html",
        {
            "query": query,
            "sort": sort,
            "sorts": SORTS,
            "results": results,
            "page": results.page if results else None,
        },
    )
