"""`make loadtest`: a mixed load on gunicorn in production mode, then proof that nothing was lost.

    .venv/bin/python -m bench.loadtest [--questions 2000] [--members 50] [--duration 60]

1. Generate (or reuse) a data set with bench's generator, in its own database
   (`<BENCH_DATABASE>_load_base`), and copy it to a fresh `<BENCH_DATABASE>_load` for this run,
   so every run starts from the same rows. The shared cache (the Redis database REDIS_URL names)
   is emptied: it belongs to the database it was filled from.
2. Create the members (one API token each, reputation granted through the ledger so they may
   vote, comment and edit directly) and the plan: what is read, searched and written.
3. Start gunicorn as `make serve` does (DEBUG=0, 2 workers, Redis if REDIS_URL is set) and run
   Locust headless with bench/locustfile.py, one Locust user per member, for the duration:
   80% anonymous reads (question, list, tag, tag list and user pages, the API's question
   detail), 10% searches, 5% votes and 5% answers, comments and edits.
4. Stop the server, print a table (throughput, p50/p99 per kind, statuses, page-cache hits),
   write it to bench/results/loadtest.md, and check (bench/loadcheck.py) that every write
   answered 2xx is there, scores equal their votes, the reputation ledger reconciles, revision
   numbers are contiguous and every cached page still served equals a fresh render.

Exits 1 on any 5xx, any request without a response, any error in the load script or any failed
check; 0 otherwise.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from bench import database
from bench import run as bench_run

BASE_DIR = bench_run.BASE_DIR
RESULTS_DIR = bench_run.RESULTS_DIR
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"

MEMBER_PREFIX = "loadtest"
# Enough to vote up and down, comment anywhere and edit without review (kb/rules.py).
MEMBER_REPUTATION = 1200

# What a task does, in shares of all tasks (the mix).
MIX = {"read": 80, "search": 10, "vote": 5, "answer": 2, "comment": 2, "edit": 1}
# Which page an anonymous read asks for, in shares of reads.
READ_MIX = {"question": 55, "list": 12, "tag": 10, "tag list": 3, "user": 10, "api question": 10}
ENGLISH_SHARE = 0.1  # of question and list paths, the /en/ address
SEARCH_API_SHARE = 0.3
RETRACT_SHARE = 0.1  # of votes: DELETE
DOWNVOTE_SHARE = 0.15
GROUPS = {"read": "anonymous reads", "search": "search", "vote": "votes"}
WRITES = ("answer", "comment", "edit", "vote")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_database_names() -> tuple[str, str]:
    """(the generated data set, this run's copy of it)."""
    name = os.environ.get("LOADTEST_DATABASE", database.BENCH_DATABASE + "_load")
    return name + "_base", name


# --- before the run ---


def prepare_databases(options, admin_url: str) -> str:
    """Generate or reuse the data set (bench.run does it, in a database of its own), then copy
    it to this run's database. Returns the run database's URL."""
    base, name = load_database_names()
    command = [sys.executable, "-m", "bench.run", "--generate-only",
               "--questions", str(options.questions), "--users", str(options.users)]  # fmt: skip
    if options.seed is not None:
        command += ["--seed", str(options.seed)]
    if options.regenerate:
        command.append("--regenerate")
    if options.processes:
        command += ["--processes", str(options.processes)]
    subprocess.run(command, cwd=BASE_DIR, env={**os.environ, "BENCH_DATABASE": base}, check=True)
    database.database_drop(admin_url, name)
    database.database_copy(admin_url, base, name)
    _say(f"Copied {base} to {name} for this run.")
    return database.with_database(admin_url, name)


def members_create(count: int, *, reputation: int = MEMBER_REPUTATION) -> list[dict]:
    """`count` members with an API token each and `reputation` granted through the ledger (so it
    reconciles). They sign in with their tokens only: no usable password."""
    from accounts.models import User
    from accounts.services import token_create
    from kb.services.reputation import reputation_grant

    members = []
    for number in range(1, count + 1):
        username = f"{MEMBER_PREFIX}{number:02d}"
        user = User.objects.create_user(username=username, email=f"{username}@example.com")
        reputation_grant(actor=None, user=user, amount=reputation - user.reputation,
                         reason="Load-test member")  # fmt: skip
        _token, key = token_create(user=user, name="load test")
        members.append({"username": username, "id": user.pk, "token": key})
    return members


def _english(rng, path: str) -> str:
    return f"/en{path}" if rng.random() < ENGLISH_SHARE else path


def make_plan(*, members: list[dict], sample: int, seed: int, think_seconds: float) -> dict:
    """What the Locust users read, search and write: seeded samples of the data set."""
    import random

    from bench.search import make_queries
    from kb.models import Answer, Question, Tag
    from kb.selectors.questions import QUESTION_TABS
    from kb.views.html import QUESTIONS_PER_PAGE

    rng = random.Random(seed)
    visible = list(
        Question.objects.exclude(status=Question.Status.DELETED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    open_ids = list(
        Question.objects.filter(status=Question.Status.OPEN, hidden_by_flags=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    answers = list(
        Answer.objects.filter(question_id__in=open_ids, is_deleted=False, hidden_by_flags=False)
        .order_by("pk")
        .values_list("pk", "question_id")
    )
    tags = list(
        Tag.objects.filter(question_count__gt=0).order_by("name").values_list("name", flat=True)
    )
    usernames = list(
        Question.objects.exclude(status=Question.Status.DELETED)
        .order_by("author__username")
        .values_list("author__username", flat=True)
        .distinct()
    )
    question_sample = rng.sample(visible, min(sample, len(visible)))
    list_pages = max(1, math.ceil(len(visible) / QUESTIONS_PER_PAGE))
    lists = ["/", *(f"/?tab={tab}" for tab in QUESTION_TABS)]
    lists += [f"/?page={rng.randint(2, list_pages)}" for _ in range(20) if list_pages > 1]
    tag_paths = [
        f"/tags/{quote(name, safe='')}/" for name in rng.sample(tags, min(sample, len(tags)))
    ]
    read_paths = {
        "question": [_english(rng, f"/questions/{pk}/") for pk in question_sample],
        "list": [_english(rng, path) for path in lists],
        "tag": tag_paths + [f"{path}?tab=top" for path in tag_paths[:20]],
        "tag list": ["/tags/", "/tags/?sort=name", "/tags/?page=2", "/en/tags/"],
        "user": [
            f"/users/{quote(name, safe='')}/"
            for name in rng.sample(usernames, min(sample, len(usernames)))
        ],
        "api question": [f"/api/v1/questions/{pk}/" for pk in question_sample],
    }
    return {
        "members": members,
        "mix": MIX,
        "read_mix": READ_MIX,
        "read_paths": read_paths,
        "queries": [quote(query, safe="") for _kind, query in make_queries(200, tags)],
        "search_api_share": SEARCH_API_SHARE,
        "questions": rng.sample(open_ids, min(sample, len(open_ids))),
        "answers": rng.sample(answers, min(sample * 3, len(answers))),
        "retract_share": RETRACT_SHARE,
        "downvote_share": DOWNVOTE_SHARE,
        "think_seconds": think_seconds,
    }


# --- the run ---


def run_locust(options, *, base_url: str, plan_path: Path, log_path: Path) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(options.members), "--spawn-rate", str(options.members),
        "--run-time", f"{options.duration}s", "--stop-timeout", "10", "--host", base_url,
        "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log:
        # Locust exits 1 when any request failed (a 4xx, too): the verdict is ours, below.
        subprocess.run(command, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, check=False,
                       env={**os.environ, "MIANJING_LOADTEST_PLAN": str(plan_path)})  # fmt: skip


# --- the report ---


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarise(requests: list[list], seconds: float) -> list[dict]:
    """One row per kind, then per group of kinds (reads, searches, votes, writes), then all."""
    by_kind = defaultdict(list)
    for kind, milliseconds, status, *rest in requests:
        by_kind[kind].append((milliseconds, status, rest[0] if rest else ""))

    def row(name: str, entries: list[tuple]) -> dict:
        times = [entry[0] for entry in entries]
        statuses = [entry[1] for entry in entries]
        cached = [entry[2] for entry in entries if entry[2]]
        return {
            "kind": name,
            "requests": len(entries),
            "per_second": len(entries) / seconds if seconds else 0.0,
            "p50": percentile(times, 0.5),
            "p99": percentile(times, 0.99),
            "ok": sum(1 for s in statuses if 200 <= s < 400),
            "4xx": sum(1 for s in statuses if 400 <= s < 500),
            "5xx": sum(1 for s in statuses if s >= 500),
            "no_response": sum(1 for s in statuses if s == 0),
            "cache_hits": (sum(1 for c in cached if c == "hit"), len(cached)),
        }

    def group(kind: str) -> str:
        prefix = kind.split(":")[0]
        return GROUPS.get(prefix, "writes")

    kinds = sorted(by_kind, key=lambda k: (list(GROUPS.values()) + ["writes"]).index(group(k)))
    rows = [row(kind, by_kind[kind]) for kind in kinds]
    grouped = defaultdict(list)
    for kind in kinds:
        grouped[group(kind)] += by_kind[kind]
    rows += [row(f"**{name}**", entries) for name, entries in grouped.items()]
    rows.append(row("**all**", [entry for kind in kinds for entry in by_kind[kind]]))
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| Kind | Requests | req/s | p50 ms | p99 ms | 2xx/3xx | 4xx | 5xx | No response "
        "| Page-cache hits |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        hits, cacheable = r["cache_hits"]
        hit_rate = f"{hits / cacheable:.0%}" if cacheable else ""
        lines.append(
            f"| {r['kind']} | {r['requests']:,} | {r['per_second']:.1f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {r['ok']:,} | {r['4xx']} | {r['5xx']} | {r['no_response']} "
            f"| {hit_rate} |"
        )
    return "\n".join(lines)


def refusals(requests: list[list]) -> str:
    """Each kind's 4xx statuses with their counts: "edit 409 ×3, vote 429 ×1"."""
    counted = defaultdict(int)
    for kind, _milliseconds, status, *_rest in requests:
        if 400 <= status < 500:
            counted[(kind, status)] += 1
    return ", ".join(f"{kind} {status} ×{n}" for (kind, status), n in sorted(counted.items()))


def verdict(rows: list[dict], exceptions: list[str], checks: dict[str, list[str]]) -> list[str]:
    """Why the run fails; [] when it passes. Zero 5xx is the bar."""
    total = rows[-1]
    failures = []
    if total["5xx"]:
        failures.append(f"{total['5xx']} responses were 5xx")
    if total["no_response"]:
        failures.append(f"{total['no_response']} requests got no response")
    if exceptions:
        failures.append(f"{len(exceptions)} errors in the load script, e.g. {exceptions[:3]}")
    for name, problems in checks.items():
        failures += [f"{name}: {problem}" for problem in problems]
    return failures


def writes_accepted(rows: list[dict]) -> list[str]:
    """A write kind that was tried and never accepted makes the 'nothing lost' checks vacuous."""
    return [
        f"no {r['kind']} was accepted ({r['4xx']} refused)"
        for r in rows
        if r["kind"] in WRITES and r["requests"] and not r["ok"]
    ]


# --- main ---


def parse_arguments(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadtest",
        description="A mixed load with Locust, then checks that nothing was lost.",
    )
    parser.add_argument("--questions", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=500, help="members in the data set")
    parser.add_argument("--members", type=int, default=50, help="members writing (Locust users)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument(
        "--think",
        type=float,
        default=0.5,
        help="mean seconds a Locust user waits between tasks (uniform in 0..2×)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=None, help="gunicorn port (default: free)")
    parser.add_argument("--seed", type=int, default=None, help="data set seed (default: fixed)")
    parser.add_argument("--regenerate", action="store_true", help="build the data set again")
    parser.add_argument("--processes", type=int, default=None, help="generator processes")
    parser.add_argument("--sample", type=int, default=1000, help="questions, tags, users to use")
    parser.add_argument("--page-sample", type=int, default=300, help="cached pages to compare")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    admin_url, server_description = database.server_url()
    run_url = prepare_databases(options, admin_url)
    env = bench_run.server_environment(run_url)
    # This process checks what the server did: the same settings, database and cache.
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connections

    from bench import loadcheck
    from bench.generate import DEFAULT_SEED

    seed = DEFAULT_SEED if options.seed is None else options.seed
    cache.clear()
    members = members_create(options.members)
    plan = make_plan(members=members, sample=options.sample, seed=seed,
                     think_seconds=options.think)  # fmt: skip
    connections.close_all()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    plan_path = RESULTS_DIR / "loadtest-plan.json"
    records_path = RESULTS_DIR / "loadtest-records.json"
    records_path.unlink(missing_ok=True)
    plan_path.write_text(json.dumps({**plan, "records_path": str(records_path)}), encoding="utf-8")
    _say("Collecting static files.")
    bench_run._manage("collectstatic", "--noinput", "-v", "0", env=env)
    load_before = bench_run._load_average()
    server = bench_run.Server(env, workers=options.workers, port=options.port,
                              log_path=RESULTS_DIR / "loadtest-gunicorn.log")  # fmt: skip
    try:
        server.wait_ready()
        _say(
            f"gunicorn ({options.workers} workers) is up at {server.base_url}; Locust runs "
            f"{options.members} members for {options.duration} s."
        )
        started = time.monotonic()
        run_locust(options, base_url=server.base_url, plan_path=plan_path,
                   log_path=RESULTS_DIR / "loadtest-locust.log")  # fmt: skip
        _say(f"Locust done in {time.monotonic() - started:.0f} s.")
    finally:
        server.stop()
    load_after = bench_run._load_average()
    if not records_path.exists():
        _say(f"Locust wrote no records; see {RESULTS_DIR / 'loadtest-locust.log'}.")
        return 1
    records = json.loads(records_path.read_text(encoding="utf-8"))
    # From the first user's start to Locust's exit: it includes the end, when users finish the
    # task in hand (up to --stop-timeout), so req/s is if anything a little low.
    seconds = (records["stopped_at"] or 0) - (records["started_at"] or 0)
    seconds = seconds if seconds > 0 else options.duration
    rows = summarise(records["requests"], seconds)

    _say("Checking what the run left.")
    page_cache_on = settings.PAGE_CACHE_ENABLED and bool(settings.REDIS_URL)
    pages = loadcheck.cached_page_check(
        records["read_paths"], host=f"127.0.0.1:{server.port}", sample=options.page_sample,
        seed=seed,
    )  # fmt: skip
    page_problems = list(pages.problems)
    if page_cache_on and not pages.compared:
        page_problems.append("no cached page was compared (is the cache on, and shared?)")
    checks = {
        "writes accepted": writes_accepted(rows),
        "every 2xx write is there": loadcheck.missing_writes(records),
        "data invariants (scores = votes, revisions 1..n, counters)": (
            loadcheck.database_problems(seed=seed)
        ),
        "reputation ledger reconciles (reconcile_reputation)": loadcheck.ledger_problems(),
        "cached pages equal fresh renders": page_problems,
    }
    failures = verdict(rows, records["exceptions"], checks)

    description = database.dataset_get(run_url) or {}
    info = bench_run.machine_info(run_url, description, server_description)
    written = {kind: len(records[kind]) for kind in ("answers", "comments", "edits", "votes")}
    lines = ["# Mianjing load test", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    lines += [
        f"- **Run**: gunicorn {options.workers} sync workers, DEBUG=0, cache "
        f"{bench_run._cache_name()}, page cache {'on' if settings.PAGE_CACHE_ENABLED else 'off'}; "
        f"Locust headless, {options.members} members, think time 0–{options.think * 2:g} s, "
        f"{options.duration} s ({seconds:.1f} s from start to exit); mix {MIX}; load average "
        f"{load_before} before, {load_after} after",
        "",
        table(rows),
        "",
        "Writes answered 2xx: " + ", ".join(f"{n:,} {kind}" for kind, n in written.items()) + ".",
        f"Refused (4xx): {refusals(records['requests']) or 'none'}.",
        f"Cached pages: {pages.compared} compared with a fresh render, {pages.superseded} "
        f"superseded (never served again), {pages.absent} not cached"
        + ("" if page_cache_on else " (page cache off: no REDIS_URL)")
        + ".",
        "",
    ]
    lines += [f"- {'❌' if problems else '✅'} {name}" for name, problems in checks.items()]
    lines.append("")
    if failures:
        lines += ["**FAILED**:", *(f"- {failure}" for failure in failures)]
        lines.append(
            f"Server log: {server.log_path}; Locust's: {RESULTS_DIR / 'loadtest-locust.log'}."
        )
    else:
        lines.append("PASSED")
    text = "\n".join(lines) + "\n"
    print(text)
    (RESULTS_DIR / "loadtest.md").write_text(text, encoding="utf-8")
    _say(f"Written to {RESULTS_DIR / 'loadtest.md'}.")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _say("Interrupted.")
        sys.exit(130)
