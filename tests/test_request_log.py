"""The JSON request log (config/observability.py): one line per request when REQUEST_LOG_JSON is on,
with the URL pattern instead of the path, the status, the time, the statements sent and whether
the anonymous page cache answered."""

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory, question_make

pytestmark = pytest.mark.django_db

LOGGER = "mianjing.requests"
QUESTION_ROUTE = "/questions/(?P<pk>\\d+)/(?:(?P<slug>[^/]+)/)?"


@pytest.fixture
def request_log(settings, caplog):
    """Turns the log on; returns a function giving the parsed lines logged so far."""
    settings.REQUEST_LOG_JSON = True
    caplog.set_level(logging.INFO, logger=LOGGER)

    def lines() -> list[dict]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]

    return lines


def test_a_page_logs_its_route_status_time_and_every_query(request_log):
    question = question_make()
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(f"/en/questions/{question.pk}/")
    assert response.status_code == 200
    [line] = request_log()
    assert line["method"] == "GET"
    assert line["route"] == QUESTION_ROUTE  # the pattern: no id, no language prefix
    assert line["view"] == "kb:question_detail"
    assert line["status"] == 200
    assert isinstance(line["ms"], float) and line["ms"] > 0
    assert line["queries"] == len(captured) > 0
    assert line["page_cache"] == "miss"
    assert line["ts"].endswith("Z")
    assert set(line) == {"ts", "method", "route", "view", "status", "ms", "queries", "page_cache"}


def test_a_page_cache_hit_is_logged_with_no_queries(request_log):
    question = question_make()
    client = Client()
    client.get(f"/questions/{question.pk}/")
    response = client.get(f"/questions/{question.pk}/")
    assert response["X-Page-Cache"] == "hit"
    first, second = request_log()
    assert first["page_cache"] == "miss" and first["queries"] > 0
    assert second["page_cache"] == "hit" and second["queries"] == 0
    assert first["route"] == second["route"] == QUESTION_ROUTE


def test_a_member_request_asks_their_own_entries(request_log):
    member = Client()
    member.force_login(UserFactory())
    assert member.get("/en/").status_code == 200
    assert member.get("/en/").status_code == 200
    first, second = request_log()
    assert (first["route"], first["page_cache"]) == ("/", "miss")
    assert (second["route"], second["page_cache"]) == ("/", "hit")


def test_api_and_write_requests_log_their_pattern_and_status(request_log):
    question = question_make()
    client = Client()
    assert client.get(f"/api/v1/questions/{question.pk}/").status_code == 200
    assert client.post("/api/v1/questions/", {}, content_type="application/json").status_code in (
        401,
        403,
    )
    detail, create = request_log()
    assert (detail["method"], detail["route"], detail["status"]) == (
        "GET",
        "/api/v1/questions/<int:pk>/",
        200,
    )
    assert create["method"] == "POST" and create["route"] == "/api/v1/questions/"
    assert create["status"] in (401, 403) and create["page_cache"] is None


def test_an_unmatched_path_is_not_written_to_the_log(request_log, caplog):
    response = Client().get("/no-such-page/secret-token-123/?q=private")
    assert response.status_code == 404
    [line] = request_log()
    assert line["route"] == "<unmatched>" and line["view"] is None and line["status"] == 404
    ours = " ".join(r.getMessage() for r in caplog.records if r.name == LOGGER)
    assert "secret-token-123" not in ours and "private" not in ours


def test_chinese_and_english_addresses_share_one_route(request_log):
    question_make(tags=("llm",))
    client = Client()
    assert client.get("/tags/llm/").status_code == 200
    assert client.get("/en/tags/llm/").status_code == 200
    assert [line["route"] for line in request_log()] == ["/tags/<str:name>/"] * 2


def test_nothing_is_logged_when_the_setting_is_off(settings, caplog):
    settings.REQUEST_LOG_JSON = False
    caplog.set_level(logging.INFO, logger=LOGGER)
    assert Client().get("/en/").status_code == 200
    assert not [r for r in caplog.records if r.name == LOGGER]
