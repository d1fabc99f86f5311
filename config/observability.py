"""Per-request measurements for operators: a JSON log line (REQUEST_LOG_JSON) and Prometheus
metrics (METRICS_ENABLED, config/metrics.py). With both off the middleware only reads two settings.

A log line, on the `mianjing.requests` logger at INFO:

    {"ts": "2026-05-01T08:00:00.123Z", "method": "GET", "route": "/questions/<int:pk>/",
     "view": "kb:question_detail", "status": 200, "ms": 12.4, "queries": 4, "page_cache": "miss"}

- `route` is the URL pattern that matched, without the language prefix (/en/…), never the raw
  path (no ids, slugs or query strings in the logs); a path no pattern matches is "<unmatched>"
  and a static file (served by WhiteNoise, before this middleware) is not logged.
- `ms` runs from this middleware to the response leaving it: the view, templates and the
  middleware inside (sessions, auth, CSRF, gzip); a streamed body (the dump) is not included.
- `queries` counts statements sent on every database connection (execute and executemany), only
  while REQUEST_LOG_JSON is on (a connection.execute_wrapper per request).
- `page_cache` is "hit" or "miss" for an anonymous page the page cache answered or rendered and
  stored (its X-Page-Cache header, kb/views/page_cache.py), null when the cache was not asked.
"""

import json
import logging
import time
from contextlib import ExitStack
from datetime import UTC, datetime

from django.conf import settings
from django.db import connections
from django.utils import translation

from config import metrics
from kb.views.page_cache import HIT_HEADER

logger = logging.getLogger("mianjing.requests")

UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    """The matched URL pattern as a path, e.g. /api/v1/questions/<int:pk>/."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    route = match.route.removeprefix("^").removesuffix("$")
    # i18n_patterns put the active language's prefix in front of the pattern (/en/tags/…).
    language = translation.get_language()
    if language and language != settings.LANGUAGE_CODE:
        prefix = f"{language}/"
        if route.startswith(prefix) and request.path_info.startswith(f"/{prefix}"):
            route = route.removeprefix(prefix)
    return "/" + route


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        log = settings.REQUEST_LOG_JSON
        measure = settings.METRICS_ENABLED
        if not (log or measure):
            return self.get_response(request)
        counter = None
        started = time.perf_counter()
        if log:
            counter = _QueryCounter()
            with ExitStack() as stack:
                for alias in connections:
                    stack.enter_context(connections[alias].execute_wrapper(counter))
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_of(request)
        page_cache = response.get(HIT_HEADER)
        if measure:
            metrics.request_observe(
                method=request.method,
                route=route,
                status=response.status_code,
                seconds=seconds,
                page_cache=page_cache,
            )
        if log:
            match = request.resolver_match
            line = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "method": request.method,
                "route": route,
                "view": match.view_name if match is not None else None,
                "status": response.status_code,
                "ms": round(seconds * 1000, 1),
                "queries": counter.count,
                "page_cache": page_cache,
            }
            logger.info(json.dumps(line, ensure_ascii=False))
        return response
