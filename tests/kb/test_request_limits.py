"""No request can hurt the database (issue 12): capped, one-query tag filters; a per-request
statement_timeout answered with a 503; NUL bytes, out-of-range dates and time zones, deep JSON
and oversize bodies refused with a 4xx in the documented shape."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import path

from kb.models import TagAlias
from tests.factories import TagFactory, UserFactory, question_make

pytestmark = pytest.mark.django_db


def api_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) >= {"code", "message"}
    return body["error"]


# --- Tag filters ----------------------------------------------------------------------------


def listed(client, query: str) -> set[int]:
    response = client.get(f"/api/v1/questions/?{query}")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_more_than_five_tags_in_a_filter_is_a_400(client):
    names = ",".join(f"t{n}" for n in range(6))
    error = api_error(client.get(f"/api/v1/questions/?tag={names}"), 400)
    assert "tag" in error["fields"] and "5" in error["message"]
    assert (
        client.get("/api/v1/questions/?tag=" + ",".join(f"t{n}" for n in range(5))).status_code
        == 200
    )


def test_a_tag_filter_keeps_questions_carrying_every_named_tag_by_name_or_alias(client):
    TagAlias.objects.create(tag=TagFactory(name="normalization"), name="LayerNorm")
    both = question_make(tags=["llm", "normalization"])
    llm_only = question_make(tags=["llm"])
    three = question_make(tags=["llm", "normalization", "rag"])
    assert listed(client, "tag=llm") == {both.pk, llm_only.pk, three.pk}
    assert listed(client, "tag=llm,normalization") == {both.pk, three.pk}
    assert listed(client, "tag=LLM,layernorm") == {both.pk, three.pk}  # alias, any case
    assert listed(client, "tag=normalization,LayerNorm") == {both.pk, three.pk}  # same tag twice
    assert listed(client, "tag=llm,normalization,rag") == {three.pk}
    assert listed(client, "tag=llm,nosuchtag") == set()


def test_a_many_tag_filter_is_one_query_with_no_join_per_tag(client):
    names = ["llm", "rag", "moe", "vlm", "rlhf"]
    question_make(tags=names)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/questions/?tag=llm")
    with CaptureQueriesContext(connection) as five:
        client.get("/api/v1/questions/?tag=" + ",".join(names))
    assert len(five) == len(one)
    joins = [q["sql"].count("JOIN") for q in five.captured_queries]
    assert joins == [q["sql"].count("JOIN") for q in one.captured_queries]


# --- statement_timeout ----------------------------------------------------------------------


def _database_options(*, command: bool) -> str:
    """The connection options config/settings.py gives a fresh web or command process."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("MIANJING_COMMAND", "STATEMENT_TIMEOUT_MS")
    }
    if command:
        env["MIANJING_COMMAND"] = "1"
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "from django.conf import settings;"
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_web_processes_run_under_a_statement_timeout_and_commands_do_not():
    web = _database_options(command=False)
    assert web == "-c statement_timeout=5000"
    assert _database_options(command=True) == ""
    with psycopg.connect(**{**connection.get_connection_params(), "options": web}) as raw:
        (shown,) = raw.execute("SHOW statement_timeout").fetchone()
    assert shown == "5s"


def test_manage_py_marks_commands_but_not_the_development_server():
    text = (Path(settings.BASE_DIR) / "manage.py").read_text()
    assert 'sys.argv[1:2] != ["runserver"]' in text and '"MIANJING_COMMAND", "1"' in text


def slow_view(request):
    # A savepoint, so the test's own transaction outlives the cancelled statement.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 50")
        cursor.execute("SELECT pg_sleep(2)")
    return HttpResponse("finished")


urlpatterns = [path("api/v1/slow/", slow_view), path("slow/", slow_view)]


@pytest.mark.urls("tests.kb.test_request_limits")
def test_a_cancelled_statement_is_a_503_in_the_error_shape(client):
    error = api_error(client.get("/api/v1/slow/"), 503)
    assert error["code"] == "timeout"
    page = client.get("/slow/")
    assert page.status_code == 503 and page["Retry-After"]


# --- Bad anonymous input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=a%00b",
        "/tags/%00/",
        "/users/%00/",
        "/questions/?tag=%00",
        "/api/v1/tags/%00/",
        "/api/v1/users/%00/",
        "/api/v1/questions/?tag=a%00",
        "/api/v1/questions/?author=%00",
        "/api/v1/search/?q=a%00b",
    ],
)
def test_a_nul_byte_in_a_path_or_query_is_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert api_error(response, 400)["code"] == "invalid"


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2025-01-01T00:00:00%2B15:59", 200),
        ("2025-01-01T00:00:00-15:59", 200),
        ("2025-01-01T00:00:00%2B16:00", 400),
        ("2025-01-01T00:00:00-23:59", 400),
        ("0001-01-01T00:00:00%2B01:00", 400),
        ("9999-12-31T23:59:59-01:00", 400),
        ("2025-13-01", 400),
    ],
)
def test_created_after_outside_postgres_range_is_a_400(client, value, status):
    response = client.get(f"/api/v1/questions/?created_after={value}")
    assert response.status_code == status, response.content
    if status == 400:
        assert "created" in api_error(response, 400)["fields"]


@pytest.mark.parametrize(
    ("value", "status"),
    [("2025-01-01T00:00:00%2B15:59", 200), ("2025-01-01T00:00:00%2B16:00", 400),
     ("0001-01-01T00:00:00%2B01:00", 400), ("2025-13-01", 400)],
)  # fmt: skip
def test_updated_since_outside_postgres_range_is_a_400(client, value, status):
    response = client.get(f"/api/v1/questions/?updated_since={value}")
    assert response.status_code == status, response.content
    if status == 400:
        assert "updated_since" in api_error(response, 400)["fields"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/questions/"])
def test_deeply_nested_json_is_a_400(client, url, depth):
    if url == "/api/v1/questions/":
        client.force_login(UserFactory())
    body = '{"username": "a", "password": "b", "title": ' + nested(depth) + "}"
    response = client.post(url, body, content_type="application/json")
    assert api_error(response, 400)["code"] in {"parse_error", "invalid"}


def test_an_oversize_body_is_a_4xx_in_the_error_shape(client):
    client.force_login(UserFactory())
    body = json.dumps({"title": "大" * 10, "body": "x" * (2 * 1024 * 1024), "tags": ["llm"]})
    response = client.post("/api/v1/questions/", body, content_type="application/json")
    assert response.status_code in {400, 413}
    api_error(response, response.status_code)
