"""Read replicas against a real PostgreSQL streaming replica (tools/replica.py builds the pair).

The pair is a primary and a standby streaming from it, built from the machine's PostgreSQL
binaries for this module. Its database is made on the primary (migrated, with a member, an API
token and a question) and reaches the standby by streaming replication, like any production
replica. Web servers are gunicorn processes with DATABASE_URL on the primary and
DATABASE_REPLICA_URLS on the standby; the tests speak HTTP to them.

To make "another session does not see the write yet" certain rather than a race, the standby's
replay is paused (`pg_wal_replay_pause()`): it keeps receiving WAL but shows nothing new until
resumed.

The servers run with DEBUG=1 only so that static files need no `collectstatic` (minutes with
compression); what these tests check (several gunicorn workers and servers, one Redis, one
primary, a replica, the page cache) is as in production.

Where no pair can be built (no PostgreSQL server binaries, ports taken) the module is skipped,
saying why; with MIANJING_REQUIRE_REPLICA=1 (.ci/run) it fails instead.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connections, transaction
from django.db.utils import load_backend

from config import db_router
from tools.ports import free_port
from tools.replica import ReplicaUnavailable, replica_pair_build, wait_replayed

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "mianjing"
REQUIRE_REPLICA = os.environ.get("MIANJING_REQUIRE_REPLICA") == "1"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
AUTH_THROTTLE = 6  # POST /api/v1/auth/token/ a minute per client, on the servers started here
FAILURE_LIMIT = 3  # failed logins before django-axes locks a user name out (from one address)
SETUP_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.models import User
from accounts.services import token_create
from tests.factories import UserFactory, question_make
member = UserFactory(username="writer")
User.objects.filter(pk=member.pk).update(reputation=5000)
member.refresh_from_db()
_token, key = token_create(user=member, name="replica test")
question = question_make(author=member, title="流复制测试：主库写入，从库读取")
print(json.dumps({"question": question.pk, "token": key}))
"""


@pytest.fixture(scope="module")
def pair():
    try:
        built = replica_pair_build()
    except ReplicaUnavailable as error:
        message = f"cannot build a PostgreSQL streaming replica here: {error}"
        if REQUIRE_REPLICA:
            pytest.fail(message + " (MIANJING_REQUIRE_REPLICA=1)")
        pytest.skip(message + "; .ci/run builds one (MIANJING_REQUIRE_REPLICA=1)")
    try:
        yield built
    finally:
        built.destroy()


@pytest.fixture(scope="module")
def pair_database(pair):
    """The pair's database, created on the primary (it streams to the standby), still empty."""
    with psycopg.connect(pair.url("postgres"), autocommit=True) as primary:
        primary.execute(
            f"CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    return DATABASE


@pytest.fixture(scope="module")
def site(pair, pair_database):
    """Migrated, with a member, their API token and a question; replayed by the standby."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "MIANJING_COMMAND": "1",
           "DATABASE_URL": pair.url(DATABASE), "DATABASE_REPLICA_URLS": ""}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT], cwd=BASE_DIR, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    wait_replayed(pair)
    return data


def _ports():
    """Ports for the web servers: REPLICA_TEST_WEB_PORTS (comma-separated), else free ones."""
    configured = [int(p) for p in os.environ.get("REPLICA_TEST_WEB_PORTS", "").split(",") if p]
    yield from configured
    while True:
        yield free_port()


class WebServer:
    def __init__(self, env: dict[str, str], port: int, log_path: Path):
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                if requests.get(self.base_url + "/readyz", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # workers still starting
            time.sleep(0.3)
        raise AssertionError(f"gunicorn did not become ready: {self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown

    def wait_stopped(self) -> None:
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture(scope="module")
def servers(pair, pair_database, tmp_path_factory, request):
    """Two gunicorn servers (two workers each) on the pair, sharing one Redis. They start while
    the database is migrated and are ready (/readyz) once it is."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("the web servers share a cache: set REDIS_URL (CI's PostgreSQL 15 run does)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "PAGE_CACHE": "1",
        "DATABASE_URL": pair.url(DATABASE),
        "DATABASE_REPLICA_URLS": pair.url(DATABASE, standby=True),
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_ANON": "10000/min",
        "API_THROTTLE_USER": "10000/min",
        "API_THROTTLE_AUTH": f"{AUTH_THROTTLE}/min",
        "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
    }
    env.pop("MIANJING_COMMAND", None)
    ports = _ports()
    folder = tmp_path_factory.mktemp("gunicorn")
    started = [WebServer(env, next(ports), folder / f"web{n}.log") for n in (1, 2)]
    try:
        request.getfixturevalue("site")
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()
        for server in started:
            server.wait_stopped()


@contextmanager
def replay_paused(pair):
    """The standby receives WAL but replays none of it until the block ends."""
    with psycopg.connect(pair.url("postgres", standby=True), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    wait_replayed(pair)


def member_session(site) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {site['token']}"
    return session


def answer_post(session, server, site) -> str:
    """Post an answer through `server`; returns its unique marker."""
    marker = f"marker-{uuid.uuid4().hex}"
    body = f"回答：流复制让从库重放主库的 WAL，这个回答用于测试。{marker}"
    response = session.post(
        f"{server.base_url}/api/v1/questions/{site['question']}/answers/",
        json={"body": body}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    # The write's WAL position for this visitor's next requests, in no shared cache.
    assert "mj_lsn" in response.cookies
    assert "private" in response.headers["Cache-Control"]
    return marker


def answers_text(session, server, site) -> str:
    response = session.get(
        f"{server.base_url}/api/v1/questions/{site['question']}/answers/", timeout=30
    )
    assert response.status_code == 200, response.text
    return response.text


def until(predicate, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


# --- Through HTTP: read-your-writes, other sessions, the page cache, a replica stopping ----------


def test_a_writer_reads_their_write_while_others_read_the_replica_until_it_replays(
    pair, site, servers
):
    web = servers[0]
    writer, other = member_session(site), requests.Session()
    with replay_paused(pair):
        marker = answer_post(writer, web, site)
        assert marker in answers_text(writer, web, site)  # the primary: replica has not replayed
        assert marker in answers_text(writer, servers[1], site)  # whichever server answers
        assert marker not in answers_text(other, web, site)  # the replica, paused before it
    # Replay resumed and caught up: the other session now sees it, from the replica.
    assert until(lambda: marker in answers_text(other, web, site))


def test_an_anonymous_page_cached_on_one_server_shows_a_write_made_through_the_other(
    pair, site, servers
):
    first, second = servers
    page = f"{second.base_url}/questions/{site['question']}/"
    reader = requests.Session()  # anonymous: no session cookie, so the page cache answers
    reader.get(page, timeout=30)
    cached = reader.get(page, timeout=30)
    assert cached.status_code == 200
    assert cached.headers.get("X-Page-Cache") == "hit"
    with replay_paused(pair):  # a page rendered from the replica would lack the answer
        marker = answer_post(member_session(site), first, site)
        fresh = reader.get(page, timeout=30)
        assert fresh.status_code == 200
        assert marker in fresh.text
        assert fresh.headers.get("X-Page-Cache") == "miss"
        again = reader.get(page, timeout=30)
        assert again.headers.get("X-Page-Cache") == "hit"
        assert marker in again.text


def test_a_replica_stopped_mid_test_does_not_fail_requests(pair, site, servers):
    web = servers[0]
    reader = requests.Session()
    marker = answer_post(member_session(site), web, site)
    wait_replayed(pair)
    assert marker in answers_text(reader, web, site)
    pair.stop_standby()
    try:
        for server in servers:
            for _ in range(3):  # both workers of each server
                assert marker in answers_text(reader, server, site)
                page = reader.get(f"{server.base_url}/questions/{site['question']}/", timeout=30)
                assert page.status_code == 200
                assert marker in page.text
        health = requests.get(f"{web.base_url}/healthz", timeout=30)
        assert health.status_code == 200
        assert health.json()["replicas"]["replica1"]["up"] is False
        assert "replica replica1 is skipped" in web.log()
    finally:
        pair.start_standby()
    # Back: the replica serves reads again once a process checks it.
    assert until(
        lambda: requests.get(f"{web.base_url}/healthz", timeout=30).json()["replicas"]["replica1"][
            "up"
        ]
    )


# --- A stateless web tier: what one process learns, every other one knows -----------------------


def test_a_session_started_on_one_server_is_valid_on_the_other(site, servers):
    first, second = servers
    browser = requests.Session()
    browser.get(f"{first.base_url}/accounts/login/", timeout=30)
    login = browser.post(
        f"{first.base_url}/accounts/login/",
        data={"username": "writer", "password": PASSWORD,
              "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    assert login.status_code == 302, login.text[:500]
    for _ in range(2):  # both workers
        page = browser.get(f"{second.base_url}/accounts/settings/", allow_redirects=False,
                           timeout=30)  # fmt: skip
        assert page.status_code == 200, page.headers.get("Location")


def _token_request(server, *, username: str, address: str) -> requests.Response:
    """A failed password exchange; X-Forwarded-For names the client for the throttle."""
    return requests.post(
        f"{server.base_url}/api/v1/auth/token/",
        json={"username": username, "password": "wrong", "name": "probe"},
        headers={"X-Forwarded-For": address}, timeout=30,
    )  # fmt: skip


def test_failed_logins_through_every_server_add_up_to_a_lockout(servers):
    username = f"lockout-{uuid.uuid4().hex[:8]}"
    for attempt in range(FAILURE_LIMIT - 1):
        answer = _token_request(servers[attempt % 2], username=username, address="192.0.2.10")
        assert answer.status_code == 400, answer.text
    # The failure that reaches the limit is answered with the lockout, on the other server.
    locked = _token_request(servers[FAILURE_LIMIT % 2], username=username, address="192.0.2.10")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"


def test_api_throttles_count_requests_to_every_server(servers):
    address = f"198.51.100.{uuid.uuid4().int % 200 + 1}"
    for attempt in range(AUTH_THROTTLE):
        answer = _token_request(servers[attempt % 2], username=f"t{attempt}", address=address)
        assert answer.status_code == 400, answer.text
    throttled = _token_request(servers[AUTH_THROTTLE % 2], username="t-last", address=address)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"


# --- In this process: the router's rules, one each --------------------------------------------

REPLICA_ALIAS = "replica_under_test"


@pytest.fixture
def replica_alias(pair, django_db_blocker, settings):
    """This process's router with one replica alias, the pair's standby. The test database is on
    another server, so these tests ask the router where a query would go (`QuerySet.db`) rather
    than compare rows; they query only the standby (its state), hence the blocker lifted instead
    of a test database. The alias's connection is made here, not in settings.DATABASES (Django's
    test cases refuse configured aliases a test did not declare)."""
    config = {**connections["default"].settings_dict, "HOST": "127.0.0.1",
              "PORT": pair.standby_port, "NAME": "postgres", "USER": "postgres", "PASSWORD": "",
              "OPTIONS": {"connect_timeout": 2}}  # fmt: skip
    setattr(connections._connections, REPLICA_ALIAS, load_backend(config["ENGINE"]).DatabaseWrapper(
        config, REPLICA_ALIAS))  # fmt: skip
    settings.DATABASE_REPLICAS = [REPLICA_ALIAS]
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    db_router._statuses.clear()
    try:
        with django_db_blocker.unblock():
            yield REPLICA_ALIAS
    finally:
        connections[REPLICA_ALIAS].close()
        delattr(connections._connections, REPLICA_ALIAS)
        db_router._statuses.clear()


def _read_alias(routing=None) -> str:
    from kb.models import Question

    if routing is None:
        return Question.objects.all().db
    with db_router.request_routing(routing):
        return Question.objects.all().db


def test_a_request_reads_the_replica(replica_alias):
    assert _read_alias(db_router.RequestRouting()) == replica_alias


def test_reads_outside_a_request_use_the_primary(replica_alias):
    """Management commands, the shell, cron jobs."""
    assert _read_alias() == "default"


def test_reads_inside_a_transaction_use_the_primary(transactional_db, replica_alias):
    with db_router.request_routing(db_router.RequestRouting()), transaction.atomic():
        from kb.models import Question

        assert Question.objects.all().db == "default"


def test_select_for_update_uses_the_primary(replica_alias):
    from kb.models import Question

    with db_router.request_routing(db_router.RequestRouting()):
        assert Question.objects.select_for_update().db == "default"


def test_reads_after_a_write_in_the_same_request_use_the_primary(replica_alias):
    """Django asks the router for the write alias before every write (save, update, delete,
    session save); from then on the request reads what it wrote."""
    from django.db import router

    from kb.models import Question

    with db_router.request_routing(db_router.RequestRouting()):
        assert Question.objects.all().db == replica_alias
        router.db_for_write(Question)
        assert Question.objects.all().db == "default"


def test_reads_wait_for_the_replica_to_replay_the_visitors_write(pair, replica_alias):
    with psycopg.connect(pair.url("postgres", standby=True), autocommit=True) as standby:
        replayed = standby.execute(
            "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"
        ).fetchone()[0]
    assert _read_alias(db_router.RequestRouting(min_lsn=replayed)) == replica_alias
    assert _read_alias(db_router.RequestRouting(min_lsn=replayed + 1)) == "default"


def test_a_lagging_replica_is_skipped(pair, replica_alias, settings, caplog):
    with psycopg.connect(pair.url("postgres"), autocommit=True) as primary:
        primary.execute("CREATE TABLE IF NOT EXISTS lag_probe (n int)")
        primary.execute("INSERT INTO lag_probe VALUES (1)")
        wait_replayed(pair)  # the standby's last replayed transaction: now
        with replay_paused(pair):
            primary.execute("INSERT INTO lag_probe VALUES (2)")  # received, not replayed
            time.sleep(1.5)
            settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1
            with caplog.at_level(logging.WARNING, logger="mianjing.replicas"):
                assert _read_alias(db_router.RequestRouting()) == "default"
            assert "lagging" in caplog.text
            settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 600
            assert _read_alias(db_router.RequestRouting()) == replica_alias


def test_a_replica_that_is_down_is_skipped_and_logged(pair, replica_alias, caplog):
    assert _read_alias(db_router.RequestRouting()) == replica_alias
    pair.stop_standby()
    try:
        with caplog.at_level(logging.WARNING, logger="mianjing.replicas"):
            assert _read_alias(db_router.RequestRouting()) == "default"
        assert f"replica {replica_alias} is skipped: unreachable" in caplog.text
    finally:
        pair.start_standby()
