"""/healthz (database and cache reachable) and /readyz (every migration applied)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


# "__all__": with DATABASE_REPLICA_URLS set, /healthz also reports the replicas.
@pytest.mark.django_db(databases="__all__")
def test_healthz_is_ok_when_database_and_cache_answer(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # on the primary
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("status", "database", "cache")} == {
        "status": "ok", "database": "ok", "cache": "ok"}  # fmt: skip
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(databases="__all__")
def test_healthz_is_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["cache"].startswith("error")


def test_healthz_is_503_when_the_database_is_unreachable():
    """A fresh process whose DATABASE_URL names a port where no server listens."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "DATABASE_REPLICA_URLS": "",
    }
    env.pop("REDIS_URL", None)  # local memory: only the database is missing
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["database"].startswith("error")
    assert answer["body"]["cache"] == "ok"


@pytest.mark.django_db
def test_readyz_is_ok_when_every_migration_is_applied(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_not_applied(client):
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'kb' AND name = "
            "(SELECT max(name) FROM django_migrations WHERE app = 'kb') RETURNING name"
        )
        (name,) = cursor.fetchone()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "migrating", "pending": [f"kb.{name}"]}


@pytest.mark.django_db
def test_health_endpoints_answer_plain_http_in_production():
    """DEBUG=0 checks the Host header and redirects to HTTPS; a health check asks over plain HTTP
    by address, and is answered."""
    database = connection.settings_dict  # the migrated test database
    socket_dir = "" if database["HOST"] else database["OPTIONS"].get("host", "")
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "c = Client();"
        "rs = [c.get(p) for p in ('/healthz', '/readyz', '/')];"
        "print(rs[0].content.decode(), rs[1].content.decode());"
        "print(json.dumps([r.status_code for r in rs]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.org",  # not the test client's "testserver"
        # Quoted: the embedded server's generated password may hold URL characters.
        "DATABASE_URL": f"postgres://{quote(database['USER'], safe='')}:"
        f"{quote(database['PASSWORD'] or '', safe='')}"
        f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        # The embedded server is reached by its socket directory, given as an option.
        + (f"?host={quote(socket_dir, safe='')}" if socket_dir else ""),
        "DATABASE_REPLICA_URLS": "",
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [200, 200, 400], result.stdout
