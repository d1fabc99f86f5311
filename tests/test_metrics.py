"""/metrics (config/metrics.py): off unless METRICS_ENABLED, behind METRICS_TOKEN when one is set,
Prometheus text that Prometheus' own parser reads, and requests moving the histograms and the page
cache counters, also when several processes write them (multiprocess mode)."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings as django_settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import question_make

pytestmark = pytest.mark.django_db

DURATION = "mianjing_http_request_duration_seconds"


def scrape(client=None, **headers) -> dict:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.content.decode())


def parse(text: str) -> dict:
    """{(sample name, sorted labels): value} for every sample."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""


def test_metrics_are_not_found_when_disabled(settings):
    settings.METRICS_ENABLED = False
    assert Client().get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token_when_one_is_set(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = "s3cret-token"
    client = Client()
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": "s3cret-token"},
    ):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert DURATION.encode() not in response.content
    samples = scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert any(name.startswith(DURATION) for name, _labels in samples)


def test_a_request_moves_its_routes_latency_histogram(metrics_on):
    question_make(tags=("llm",))
    labels = {"method": "GET", "route": "/tags/<str:name>/", "status": "2xx"}
    before = scrape()
    assert Client().get("/en/tags/llm/").status_code == 200
    after = scrape()
    assert (
        value(after, f"{DURATION}_count", **labels)
        == value(before, f"{DURATION}_count", **labels) + 1
    )
    assert (
        value(after, f"{DURATION}_bucket", le="10.0", **labels)
        == value(before, f"{DURATION}_bucket", le="10.0", **labels) + 1
    )
    assert value(after, f"{DURATION}_sum", **labels) > value(before, f"{DURATION}_sum", **labels)


def test_statuses_are_counted_by_class_and_unmatched_paths_under_one_label(metrics_on):
    labels = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    before = scrape()
    client = Client()
    assert client.get("/no-such-page/1/").status_code == 404
    assert client.get("/no-such-page/2/").status_code == 404
    after = scrape()
    count = f"{DURATION}_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 2
    assert not any("no-such-page" in str(key) for key in after)


def test_page_cache_hits_and_misses_are_counted(metrics_on):
    name = "mianjing_page_cache_requests_total"
    before = scrape()
    client = Client()
    assert client.get("/en/tags/").status_code == 200
    assert client.get("/en/tags/")["X-Page-Cache"] == "hit"
    after = scrape()
    assert value(after, name, result="miss") == value(before, name, result="miss") + 1
    assert value(after, name, result="hit") == value(before, name, result="hit") + 1


def test_database_connections_are_read_from_the_server(metrics_on, django_assert_num_queries):
    assert Client().get("/en/tags/").status_code == 200  # leaves this process's connection open
    with django_assert_num_queries(2):  # pg_stat_activity and max_connections
        samples = scrape()
    in_use = sum(
        v for (name, _labels), v in samples.items() if name == "mianjing_db_server_connections"
    )
    assert in_use >= 1  # this test's own connection at least
    assert value(samples, "mianjing_db_server_max_connections", alias="default") >= in_use
    assert value(samples, "mianjing_db_process_connections", alias="default") == 1


OBSERVE = textwrap.dedent(
    """
    import django
    django.setup()
    from config import metrics
    metrics.request_observe(method="GET", route="/multi/", status=200, seconds=0.02,
                            page_cache="hit")
    """
)
SCRAPE = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from config import metrics
    sys.stdout.write(metrics.metrics_text().decode())
    """
)


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """What gunicorn workers do: each process writes its own files, a scrape adds them up."""
    database = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
    }

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run(OBSERVE)
    run(OBSERVE)
    samples = parse(run(SCRAPE))
    labels = {"method": "GET", "route": "/multi/", "status": "2xx"}
    assert value(samples, f"{DURATION}_count", **labels) == 2
    assert value(samples, "mianjing_page_cache_requests_total", result="hit") == 2
    assert len(list(tmp_path.iterdir())) >= 2  # the workers' files


def test_measuring_a_request_adds_no_query(metrics_on, settings, django_assert_num_queries):
    settings.REQUEST_LOG_JSON = True
    question_make(tags=("llm",))
    client = Client()
    assert client.get("/en/tags/llm/")["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):  # a page-cache hit, logged and measured
        assert client.get("/en/tags/llm/")["X-Page-Cache"] == "hit"
