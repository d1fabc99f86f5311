"""`make bench`: generate (or reuse) the benchmark database, serve it with gunicorn in production
mode, drive each page with wrk and report median and p99 latency and requests per second.

    .venv/bin/python -m bench.run [--questions 10000] [--regenerate] [--only question,api-detail]

Pages to measure are the TARGETS list below: add a Target to measure another page. A path may
name a sample list in braces ({question_id}, {tag}); wrk then rotates over that list.
"""

import argparse
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg

from bench import database, wrk
from tools.ports import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"


@dataclass(frozen=True)
class Target:
    key: str
    name: str
    path: str  # may contain {question_id} or {tag}: one path per sampled value
    goal_p50_ms: float | None = None
    # "", "member", "member-unread" (with unread inbox items and watched tags) or "moderator":
    # who is signed in (a session cookie)
    viewer: str = ""
    conditional: bool = False  # send each path's ETag in If-None-Match: measures the 304 path
    # Send Cache-Control: no-cache, so a member's page is rendered anew (not taken from their
    # own cache): measures the render, what a member's first visit to a page costs.
    fresh: bool = False

    def paths(self, sample: dict[str, list[str]]) -> list[str]:
        fields = [name for name in sample if "{" + name + "}" in self.path]
        if not fields:
            return [self.path]
        length = min(len(sample[name]) for name in fields)
        return [
            self.path.format(**{name: sample[name][i] for name in fields}) for i in range(length)
        ]


# Issue 19's goals (10,000 questions, 2 workers, Redis, medians): anonymous question, home, tag
# and user pages and the API's question detail ≤ 3 ms (the versioned cache), signed-in question
# page ≤ 10 ms, user page and review queue ≤ 15 ms, list page 50 within 1.2× of page 1
# (RATIOS below: both signed in and `fresh`, so both are rendered, not served from a cache).
TARGETS = [
    Target("home", "Home page", "/", goal_p50_ms=3),
    Target("question", "Question page", "/questions/{question_id}/", goal_p50_ms=3),
    Target("tag", "Tag page", "/tags/{tag}/", goal_p50_ms=3),
    Target("api-list", "API question list", "/api/v1/questions/"),
    Target("api-detail", "API question detail", "/api/v1/questions/{question_id}/", goal_p50_ms=3),
    Target("history", "Revision history", "/questions/{question_id}/revisions/"),
    Target("user", "User page", "/users/{username}/", goal_p50_ms=3),
    Target("search", "Search page", "/search/?q={query}"),
    Target("api-search", "API search", "/api/v1/search/?q={query}"),
    Target("diff", "Revision diff", "/questions/{edited_question_id}/diff/?from=1&to=2"),
    Target(
        "question-member",
        "Question page, signed in",
        "/questions/{question_id}/",
        goal_p50_ms=10,
        viewer="member",
    ),
    Target(
        "user-member", "User page, signed in", "/users/{username}/", goal_p50_ms=15, viewer="member"
    ),
    Target(
        "review-edits",
        "Suggested-edit queue",
        "/review/edits/",
        goal_p50_ms=15,
        viewer="moderator",
    ),
    Target(
        "question-member-fresh",
        "Question page, signed in, rendered anew",
        "/questions/{question_id}/",
        viewer="member",
        fresh=True,
    ),
    Target(
        "review-edits-fresh",
        "Suggested-edit queue, rendered anew",
        "/review/edits/",
        viewer="moderator",
        fresh=True,
    ),
    Target("list-1-member", "List page 1, signed in", "/?page=1", viewer="member", fresh=True),
    Target("list-50-member", "List page 50, signed in", "/?page=50", viewer="member", fresh=True),
    Target(
        "list-older-member",
        "List after page 49 by keyset, signed in",
        "/?after={page_49_cursor}",
        viewer="member",
        fresh=True,
    ),
    Target("list-50", "List page 50", "/?page=50", goal_p50_ms=3),
    Target(
        "question-unread",
        "Question page, signed in, with unread items",
        "/questions/{question_id}/",
        viewer="member-unread",
    ),
    Target("inbox", "Inbox", "/inbox/", viewer="member-unread"),
    Target("home-watched", "Home page, my tags tab", "/?tab=watched", viewer="member-unread"),
    Target(
        "api-detail-304",
        "API question detail, If-None-Match (304)",
        "/api/v1/questions/{question_id}/",
        conditional=True,
    ),
    Target(
        "question-304",
        "Question page, If-None-Match (304)",
        "/questions/{question_id}/",
        conditional=True,
    ),  # fmt: skip
]

# (name, target, baseline, most): the target's p50 at most `most` times the baseline's.
RATIOS = [
    ("List page 50 / page 1 (signed in)", "list-50-member", "list-1-member", 1.2),
    ("List by keyset / page 1 (signed in)", "list-older-member", "list-1-member", 1.2),
]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _manage(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=BASE_DIR, env=env, check=True)


# --- the data set ---


def _plan(options):
    from bench.generate import Plan

    return Plan(questions=options.questions, users=options.users, seed=options.seed)


def _dataset_description(plan) -> dict:
    from bench.generate import GENERATOR_VERSION
    from kb.markdown import RENDERER_VERSION

    return {
        "questions": plan.questions,
        "users": plan.users,
        "tags": plan.tags,
        "seed": plan.seed,
        "generator_version": GENERATOR_VERSION,
        "renderer_version": RENDERER_VERSION,
    }


def prepare_database(options, admin_url: str) -> tuple[str, dict]:
    """The bench database's URL, holding the planned data set (reused when it already does)."""
    bench_url = database.with_database(admin_url, database.BENCH_DATABASE)
    plan = _plan(options)
    wanted = _dataset_description(plan)
    exists = database.database_exists(admin_url, database.BENCH_DATABASE)
    stored = database.dataset_get(bench_url) if exists else None
    reuse = (
        not options.regenerate
        and stored is not None
        and all(stored.get(key) == value for key, value in wanted.items())
        and stored["questions_in_table"] == plan.questions
    )
    if exists and not reuse:
        _say(f"Dropping {database.BENCH_DATABASE} to generate it again.")
        database.database_drop(admin_url, database.BENCH_DATABASE)
    if not reuse:
        database.database_create(admin_url, database.BENCH_DATABASE)
    env = {**os.environ, "DATABASE_URL": bench_url}
    _say("Migrating the bench database.")
    _manage("migrate", "--noinput", "-v", "0", env=env)
    if reuse:
        # Catch up with a segmenter or dictionary that changed since (only stale posts).
        _manage("reindex_search", "--processes", str(options.processes), env=env)
        _say(
            f"Reusing {database.BENCH_DATABASE}: {stored['questions']} questions, seed "
            f"{stored['seed']} (--regenerate to build it again)."
        )
        return bench_url, stored
    counts = generate_into(bench_url, plan, processes=options.processes)
    description = {**wanted, "counts": counts}
    database.dataset_record(bench_url, description)
    return bench_url, description


def generate_into(bench_url: str, plan, *, processes: int) -> dict[str, int]:
    from django.db import connections

    from bench import generate, invariants

    started = time.monotonic()

    def progress(counts: dict[str, int]) -> None:
        stage = f", {counts['stage']}" if "stage" in counts else ""
        print(
            f"\r  {counts['questions']:,}/{plan.questions:,} questions "
            f"({time.monotonic() - started:.0f} s{stage})",
            end="",
            file=sys.stderr,
            flush=True,
        )

    _say(f"Generating {plan.questions:,} questions with {processes} process(es).")
    counts = generate.generate(plan, processes=processes, progress=progress)
    _say(f"\n  done in {time.monotonic() - started:.0f} s: {counts}")
    connections.close_all()
    database.vacuum_analyze(bench_url)
    found = invariants.problems(render_sample=200, seed=plan.seed)
    connections.close_all()
    if found:
        raise SystemExit("The generated data breaks invariants:\n" + "\n".join(found))
    _say("  invariants hold (counters, revisions, tags, a sample of rendered HTML).")
    return counts


def sample(bench_url: str, *, seed: int, size: int) -> dict[str, list[str]]:
    """Fixed, seeded lists of values for the paths: visible questions, tags with questions,
    members who asked, and the search queries of bench.search."""
    from bench.search import make_queries

    with psycopg.connect(bench_url, autocommit=True) as connection:
        question_ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM kb_question WHERE status <> 'deleted' ORDER BY id"
            )
        ]
        tags = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM kb_tag WHERE question_count > 0 ORDER BY name"
            )
        ]
        edited_question_ids = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM kb_question WHERE status <> 'deleted' AND revision_count > 1 "
                "ORDER BY id"
            )
        ]
        # The newest list's row 49 × 30: its "older" cursor leads to what page 50 shows
        # (kb/selectors/keyset.py: microseconds since the epoch, then the id).
        cursor_row = connection.execute(
            "SELECT (extract(epoch FROM created_at) * 1000000)::bigint, id FROM kb_question "
            "WHERE status NOT IN ('deleted') ORDER BY created_at DESC, id DESC "
            "OFFSET %s LIMIT 1",
            [49 * 30 - 1],
        ).fetchone()
        usernames = [
            row[0]
            for row in connection.execute(
                "SELECT username FROM accounts_user WHERE id IN "
                "(SELECT author_id FROM kb_question) ORDER BY username"
            )
        ]
    rng = random.Random(seed)
    question_ids = rng.sample(question_ids, min(size, len(question_ids)))
    edited_question_ids = rng.sample(edited_question_ids, min(size, len(edited_question_ids)))
    rng.shuffle(tags)
    rng.shuffle(usernames)
    queries = [query for _kind, query in make_queries(200, tags)]
    return {
        "question_id": [str(pk) for pk in question_ids],
        "edited_question_id": [str(pk) for pk in edited_question_ids],
        "tag": [quote(name, safe="") for name in tags[:size]],
        "username": [quote(name, safe="") for name in usernames[:size]],
        "query": [quote(query, safe="") for query in queries],
        "page_49_cursor": [f"{cursor_row[0]}_{cursor_row[1]}"] if cursor_row else [],
    }


# --- the server ---


def _cache_name() -> str:
    return "Redis" if os.environ.get("REDIS_URL") else "local memory (each worker its own)"


def server_environment(bench_url: str) -> dict[str, str]:
    return {
        **{name: value for name, value in os.environ.items() if name != "MIANJING_COMMAND"},
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + os.urandom(24).hex(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": bench_url,
        # Throttled as in production but never refused. DRF keeps a timestamp per request in the
        # window: a per-minute window would hold 12,000 of them at bench rates (0.5 ms a request
        # to read and write back), a per-second one about as many as a real client's 120/min.
        "API_THROTTLE_ANON": "1000000/s",
        "API_THROTTLE_USER": "1000000/s",
        "LOG_LEVEL": "ERROR",
    }


class Server:
    """gunicorn in its own session, so that Ctrl-C reaches us and we stop it in order."""

    def __init__(
        self, env: dict[str, str], *, workers: int, log_path: Path, port: int | None = None
    ):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, *, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + "/api/v1/tags/", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn stops its workers gracefully on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the session we started
                self.process.wait()
        self.log.close()


def viewer_cookies(secret_key: str) -> dict[str, str]:
    """A session cookie for a member (no moderator, the most reputation: votes, comments and
    edits show) and one for a moderator, made in the bench database and signed with the
    server's SECRET_KEY (or the server would ignore them)."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings

    from kb.permissions import MODERATOR_GROUP

    users = get_user_model().objects.filter(is_active=True, is_system=False)
    moderators = users.filter(groups__name=MODERATOR_GROUP)
    members = users.exclude(pk__in=moderators.values("pk")).order_by("-reputation", "pk")
    chosen = {
        "member": members.first(),
        "member-unread": members[1],
        "moderator": moderators.order_by("pk").first(),
    }
    inbox_seed(chosen["member-unread"])
    cookies = {}
    for viewer, user in chosen.items():
        with override_settings(SECRET_KEY=secret_key):  # signs the session data and the hash
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "accounts.backends.UsernameOrEmailBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
        cookies[viewer] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return cookies


UNREAD_ITEMS = 40
WATCHED_TAGS = 3


def inbox_seed(user) -> None:
    """Give the "member-unread" viewer a full inbox: UNREAD_ITEMS unread "new answer" items on
    the newest answers by others (as kb.services.answers would have written for a follower),
    and WATCHED_TAGS watched tags (the most used). Idempotent: tops up what is missing."""
    from kb.models import Answer, Tag
    from notifications.models import Notification, QuestionFollow, TagPreference

    missing = UNREAD_ITEMS - Notification.objects.filter(recipient=user, read_at=None).count()
    if missing > 0:
        answers = Answer.objects.exclude(author=user).order_by("-created_at", "-pk")[:missing]
        Notification.objects.bulk_create(
            Notification(recipient=user, actor_id=a.author_id, kind=Notification.Kind.ANSWER,
                         question_id=a.question_id, answer=a)
            for a in answers
        )  # fmt: skip
        QuestionFollow.objects.bulk_create(
            [QuestionFollow(user=user, question_id=a.question_id) for a in answers],
            ignore_conflicts=True,
        )
    if not TagPreference.objects.filter(user=user).exists():
        tags = Tag.objects.order_by("-question_count", "name")[:WATCHED_TAGS]
        TagPreference.objects.bulk_create(
            TagPreference(user=user, tag=t, kind=TagPreference.Kind.WATCHED) for t in tags
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to the login page, say) is an answer of its own: HTTPError


_opener = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict[str, str], timeout: float):
    return _opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)


def prime(base_url: str, paths: list[str], *, connections: int, headers: dict[str, str]) -> None:
    """Request every path once, as on a live site where each page has been viewed before: what
    is cached per page (the related questions of a question) is then warm, in a shared cache."""

    def fetch(path: str) -> None:
        with _get(base_url + path, headers, 60) as response:
            response.read()

    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(fetch, paths))


def etags_of(base_url: str, paths: list[str], headers: dict[str, str]) -> list[str]:
    """The ETag each path is served with now (a conditional target then asks with it)."""
    etags = []
    for path in paths:
        with _get(base_url + path, headers, 60) as response:
            response.read()
            etags.append(response.headers.get("ETag", ""))
    return etags


def check_paths(base_url: str, paths: list[str], headers: dict[str, str]) -> str | None:
    """None when the first paths answer 200, else what went wrong."""
    for path in paths[:3]:
        try:
            with _get(base_url + path, headers, 30) as response:
                if response.status != 200:
                    return f"HTTP {response.status} for {path}"
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code} for {path}"
        except (urllib.error.URLError, TimeoutError) as error:
            return f"{error} for {path}"
    return None


# --- the report ---


def machine_info(bench_url: str, description: dict, server_description: str) -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read_lines("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory = next(
        (line.split()[1] for line in _read_lines("/proc/meminfo") if line.startswith("MemTotal")),
        "",
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    counts = description.get("counts", {})
    data = f"{description['questions']:,} questions"
    for name in ("answers", "revisions", "comments", "votes", "reputation events"):
        if name in counts:
            data += f", {counts[name]:,} {name}"
    data += (
        f", {description['users']} users, {description['tags']} tags (seed {description['seed']})"
    )
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Commit": commit or "unknown",
        "Data": data,
        "CPU": f"{os.cpu_count()} × {cpu}",
        "Memory": f"{int(memory) // 1024:,} MiB" if memory.isdigit() else "unknown",
        "PostgreSQL": f"{database.server_version(bench_url)}, {server_description}",
        "Python": platform.python_version(),
    }


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _load_average() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def report(rows: list[dict], info: dict[str, str], settings: str) -> str:
    lines = ["# Mianjing benchmark", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    lines += [f"- **Run**: {settings}", ""]
    lines += [
        "| Target | Path | p50 ms | p99 ms | req/s | Requests | Errors | Cache hits | Goal p50 |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        target: Target = row["target"]
        goal = ""
        if target.goal_p50_ms is not None:
            goal = f"≤ {target.goal_p50_ms:g} ms"
        result = row.get("result")
        if result is None:
            lines.append(
                f"| {target.name} | `{target.path}` | – | – | – | – | {row['error']} | – | {goal} |"
            )
            continue
        if goal:
            goal += " ✅" if result.p50_ms <= target.goal_p50_ms else " ❌ missed"
        errors = result.non_2xx_3xx + result.socket_errors
        lines.append(
            f"| {target.name} | `{target.path}` | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
            f"| {result.requests_per_second:.0f} | {result.requests:,} | {errors} "
            f"| {result.hit_rate} | {goal} |"
        )
    measured = {row["target"].key: row["result"] for row in rows if "result" in row}
    ratios = [
        (name, measured[key].p50_ms / measured[base].p50_ms, most)
        for name, key, base, most in RATIOS
        if key in measured and base in measured and measured[base].p50_ms
    ]
    if ratios:
        lines += ["", "| Ratio of p50s | Measured | Goal |", "|---|--:|---|"]
        lines += [
            f"| {name} | {ratio:.2f}× | ≤ {most:g}× {'✅' if ratio <= most else '❌ missed'} |"
            for name, ratio, most in ratios
        ]
    return "\n".join(lines) + "\n"


# --- main ---


def parse_arguments(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark the pages with wrk against a generated data set.",
    )
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None, help="data set seed (default: fixed)")
    parser.add_argument("--regenerate", action="store_true", help="build the data set again")
    parser.add_argument("--generate-only", action="store_true", help="stop after the data set")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes that render posts (default: the CPUs)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated target keys: " + ", ".join(t.key for t in TARGETS),
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per target")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        help="wrk connections (default: as many as workers)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--sample", type=int, default=1000, help="question ids to rotate over")
    options = parser.parse_args(argv)
    options.processes = options.processes or len(os.sched_getaffinity(0))
    options.connections = options.connections or options.workers
    keys = [key for key in options.only.split(",") if key]
    unknown = set(keys) - {t.key for t in TARGETS}
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    options.targets = [t for t in TARGETS if not keys or t.key in keys]
    return options


def _raise_on_sigterm() -> None:
    def stop(_signal, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def measure(options, bench_url: str, log: Callable[[str], None]) -> list[dict]:
    values = sample(bench_url, seed=options.seed, size=options.sample)
    env = server_environment(bench_url)
    cookies = viewer_cookies(env["SECRET_KEY"])
    log("Collecting static files.")
    _manage("collectstatic", "--noinput", "-v", "0", env=env)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    _raise_on_sigterm()  # only now: forked generator workers must keep the default
    server = Server(env, workers=options.workers, log_path=RESULTS_DIR / "gunicorn.log")
    rows = []
    try:
        server.wait_ready()
        log(f"gunicorn ({options.workers} workers) is up at {server.base_url}.")
        with tempfile.TemporaryDirectory(prefix="mianjing-bench-") as scratch:
            for target in options.targets:
                paths = target.paths(values)
                headers = {"Cookie": cookies[target.viewer]} if target.viewer else {}
                if target.fresh:
                    headers["Cache-Control"] = "no-cache"
                error = check_paths(server.base_url, paths, headers)
                if error:
                    log(f"  {target.name}: skipped, {error}")
                    rows.append({"target": target, "error": error})
                    continue
                common = {
                    "base_url": server.base_url,
                    "paths": paths,
                    "script_path": Path(scratch) / f"{target.key}.lua",
                    "connections": options.connections,
                    "threads": options.threads,
                    "headers": headers,
                }
                prime(server.base_url, paths, connections=options.connections, headers=headers)
                if not target.viewer and not target.conditional:
                    # wrk's requests carry no User-Agent: a visitor of their own, whose first
                    # view of each question would be counted during the run, and every flush of
                    # 50 counted views moves those questions' page versions (view counts are
                    # shown). Count them now, write them, and request every path again, so the
                    # run measures pages already viewed within the hour, as the priming means.
                    quiet = {**headers, "User-Agent": ""}
                    prime(server.base_url, paths, connections=options.connections, headers=quiet)
                    _manage("flush_view_counts", env=env)
                    prime(server.base_url, paths, connections=options.connections, headers=quiet)
                if target.conditional:
                    # wrk's requests carry no User-Agent: count that visitor's views now and
                    # write them, so no flush during the run changes a view count (an ETag).
                    quiet = {**headers, "User-Agent": ""}
                    prime(server.base_url, paths, connections=options.connections, headers=quiet)
                    _manage("flush_view_counts", env=env)
                    common["etags"] = etags_of(server.base_url, paths, quiet)
                if options.warmup:
                    wrk.run(duration_seconds=options.warmup, **common)
                result = wrk.run(duration_seconds=options.duration, **common)
                log(
                    f"  {target.name}: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                    f"{result.requests_per_second:.0f} req/s, cache {result.hit_rate}"
                )
                rows.append({"target": target, "result": result})
    finally:
        server.stop()
        log("gunicorn stopped.")
    return rows


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    if not options.generate_only and not wrk.executable():
        _say(wrk.INSTALL_HINT)
        return 2
    admin_url, server_description = database.server_url()
    # Django (for the generator) talks to the bench database only; nothing connects before the
    # database exists.
    os.environ["DATABASE_URL"] = database.with_database(admin_url, database.BENCH_DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A command, like manage.py's: its statements (COPY of 140,000 rows on a busy machine) are
    # exempt from the web requests' statement timeout. The server it starts is not.
    os.environ.setdefault("MIANJING_COMMAND", "1")
    import django

    django.setup()
    from bench.generate import DEFAULT_SEED

    options.seed = DEFAULT_SEED if options.seed is None else options.seed
    bench_url, description = prepare_database(options, admin_url)
    if options.generate_only:
        return 0
    load_before = _load_average()
    rows = measure(options, bench_url, _say)
    settings = (
        f"gunicorn {options.workers} sync workers, DEBUG=0; wrk -t{options.threads} "
        f"-c{options.connections} -d{options.duration}s per target, after requesting each of its "
        f"paths once and a {options.warmup} s warm-up; paths rotate over {options.sample} seeded "
        f"question ids, members or tags, or 200 search queries; cache: {_cache_name()}; "
        f"load average {load_before} before, {_load_average()} after"
    )
    text = report(rows, machine_info(bench_url, description, server_description), settings)
    print(text)
    (RESULTS_DIR / "latest.md").write_text(text, encoding="utf-8")
    _say(f"Written to {RESULTS_DIR / 'latest.md'}.")
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _say("Interrupted.")
        sys.exit(130)
