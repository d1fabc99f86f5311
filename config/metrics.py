"""Prometheus metrics: what the request middleware (config/observability.py) observes, what the
database reports when scraped, and the `/metrics` view (README, "Logs and metrics").

- `mianjing_http_request_duration_seconds{method, route, status}`: a histogram per URL pattern
  (the route, never the raw path) and status class (2xx, 3xx, 4xx, 5xx); its `_count` counts
  requests.
- `mianjing_page_cache_requests_total{result}`: anonymous page-cache lookups, `hit` or `miss`
  (kb/views/page_cache.py); the hit rate is hits / (hits + misses).
- `mianjing_db_process_connections{alias}`: database connections each web process held open when
  its last request finished (Django's persistent connections, CONN_MAX_AGE; there is no pool).
- `mianjing_db_server_connections{alias, state}` and `mianjing_db_server_max_connections{alias}`:
  read from PostgreSQL (pg_stat_activity, max_connections) when scraped: every client of the
  database, all web servers and workers included, which is what runs out.

Several gunicorn workers each keep their own numbers; with PROMETHEUS_MULTIPROC_DIR set (an empty
directory, before the server starts) prometheus-client writes them to files there and a scrape of
any worker adds them up (gunicorn.conf.py empties it at start and marks exited workers dead).
"""

import hmac
import logging
import os

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import Http404, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

# The classic text format, which every Prometheus reads (generate_latest writes it; the newer
# negotiated formats would need one registry, not the two concatenated below).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: a cached page answers in a few milliseconds, a search in tens, a slow page in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_DURATION = Histogram(
    "mianjing_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by URL pattern.",
    ["method", "route", "status"],
    buckets=BUCKETS,
)
PAGE_CACHE_REQUESTS = Counter(
    "mianjing_page_cache_requests",
    "Anonymous page-cache lookups by result (hit or miss).",
    ["result"],
)
PROCESS_CONNECTIONS = Gauge(
    "mianjing_db_process_connections",
    "Database connections this web process held open when its last request finished.",
    ["alias"],
    multiprocess_mode="livesum",
)


def request_observe(
    *, method: str, route: str, status: int, seconds: float, page_cache: str | None
) -> None:
    """Record one request (called by the middleware when METRICS_ENABLED)."""
    REQUEST_DURATION.labels(
        method if method in METHODS else "other", route, f"{status // 100}xx"
    ).observe(seconds)
    if page_cache in ("hit", "miss"):
        PAGE_CACHE_REQUESTS.labels(page_cache).inc()
    for alias in connections:
        # connections[alias] only builds a wrapper object; .connection is None until it connects.
        held = connections[alias].connection is not None
        PROCESS_CONNECTIONS.labels(alias).set(1 if held else 0)


class DatabaseServerCollector:
    """Connections as PostgreSQL counts them, read when scraped (one query per database)."""

    def collect(self):
        used = GaugeMetricFamily(
            "mianjing_db_server_connections",
            "Server connections to this database (pg_stat_activity), every client, by state.",
            labels=["alias", "state"],
        )
        limit = GaugeMetricFamily(
            "mianjing_db_server_max_connections",
            "The server's max_connections.",
            labels=["alias"],
        )
        for alias in connections:
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute(
                        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() GROUP BY 1 ORDER BY 1"
                    )
                    rows = cursor.fetchall()
                    cursor.execute("SELECT current_setting('max_connections')::int")
                    maximum = cursor.fetchone()[0]
            except DatabaseError:
                logger.warning("metrics: database %s did not answer", alias, exc_info=True)
                continue
            for state, count in rows:
                used.add_metric([alias, state], count)
            limit.add_metric([alias], maximum)
        yield used
        yield limit


_DATABASE_REGISTRY = CollectorRegistry(auto_describe=False)
_DATABASE_REGISTRY.register(DatabaseServerCollector())


def metrics_text() -> bytes:
    """Everything in Prometheus' text format: this process's metrics (or, in multiprocess mode,
    every worker's, from the files) followed by the database's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_DATABASE_REGISTRY)


def _authorised(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_view(request):
    """GET /metrics: 404 unless METRICS_ENABLED; with METRICS_TOKEN set, only for
    `Authorization: Bearer <token>` (401 otherwise)."""
    if not settings.METRICS_ENABLED:
        raise Http404
    if not _authorised(request):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["Content-Type"] = "text/plain; charset=utf-8"
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
