"""Health endpoints for load balancers and orchestrators (docker-compose.yml's proxy and web).

- `/healthz`: liveness of this web process's dependencies: the primary database answers a query
  and the cache stores and returns a value. 200 `{"status": "ok", ...}` or 503 naming what failed.
  Replicas are reported but never make it fail: a replica that is down is skipped by the router.
- `/readyz`: 200 only once every migration is applied to the primary (Django's migration plan is
  empty), so a proxy sends no traffic to a server whose code expects a newer schema.

`HealthCheckMiddleware`, first in settings.MIDDLEWARE, answers both paths before anything else
runs: no Host check (a container runtime or a proxy asks by address), no HTTPS redirect, no
session, no page cache.
"""

import secrets

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers

from config import db_router

HEALTH_KEY = "healthz:probe"


def _database_ok(alias: str) -> tuple[bool, str]:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return False, f"error: {type(error).__name__}"
    return True, "ok"


def _cache_ok() -> tuple[bool, str]:
    token = secrets.token_hex(8)
    try:
        cache.set(HEALTH_KEY, token, 30)
        if cache.get(HEALTH_KEY) != token:
            return False, "error: value not stored"
    except Exception as error:  # noqa: BLE001 - any cache backend's failure is a failed check
        return False, f"error: {type(error).__name__}"
    return True, "ok"


def healthz(request):
    database_ok, database = _database_ok(DEFAULT_DB_ALIAS)
    cache_ok, cache_state = _cache_ok()
    body = {"status": "ok" if database_ok and cache_ok else "error", "database": database,
            "cache": cache_state}  # fmt: skip
    replicas = {}
    for alias in db_router.replica_aliases():
        status = db_router.replica_check(alias)  # now, not what this process remembers
        replicas[alias] = {"up": status.up, "lag_seconds": round(status.lag_seconds, 3),
                           "state": status.reason}  # fmt: skip
    if replicas:
        body["replicas"] = replicas
    return JsonResponse(body, status=200 if database_ok and cache_ok else 503)


def readyz(request):
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return JsonResponse(
            {"status": "error", "database": f"error: {type(error).__name__}"}, status=503
        )
    if plan:
        pending = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
        return JsonResponse({"status": "migrating", "pending": pending}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    VIEWS = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.VIEWS.get(request.path_info)
        if view is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = view(request)
        add_never_cache_headers(response)
        return response
