"""Where does a page's time go? Requests a path in-process against the bench database (made by
`python -m bench.run`) with production settings and reports time per request, the SQL queries
with their time, and optionally a cProfile of the Python side.

    .venv/bin/python -m bench.profile /questions/123/ [--repeat 50] [--queries]
        [--cprofile [--sort tottime]] [--viewer member|moderator] [--fresh]
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict

from bench import database
from bench.run import server_environment


def _setup() -> None:
    admin_url, _description = database.server_url()
    bench_url = database.with_database(admin_url, database.BENCH_DATABASE)
    # The settings bench.run serves with; Django's test client asks for host "testserver".
    os.environ.update(server_environment(bench_url), ALLOWED_HOSTS="testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


class QueryLog:
    """Every SQL statement run, with its duration (a connection execute wrapper: no DEBUG)."""

    def __init__(self):
        self.entries: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append((sql, time.perf_counter() - started))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cprofile", action="store_true", help="print the top functions")
    parser.add_argument("--queries", action="store_true", help="print each query of one request")
    parser.add_argument(
        "--viewer",
        choices=["", "member", "moderator"],
        default="",
        help="request signed in, as bench.run's member or moderator (a session in the bench DB)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="send Cache-Control: no-cache: a member's page rendered anew, not from their cache",
    )
    parser.add_argument(
        "--sort", default="cumulative", choices=["cumulative", "tottime"], help="cProfile order"
    )
    options = parser.parse_args(argv)
    _setup()
    from django.db import connection
    from django.test import Client

    client = Client(**({"HTTP_CACHE_CONTROL": "no-cache"} if options.fresh else {}))
    if options.viewer:
        from django.contrib.auth import get_user_model

        from kb.permissions import MODERATOR_GROUP

        users = get_user_model().objects.filter(is_active=True, is_system=False)
        moderators = users.filter(groups__name=MODERATOR_GROUP)
        if options.viewer == "moderator":
            client.force_login(moderators.order_by("pk").first())
        else:
            members = users.exclude(pk__in=moderators.values("pk"))
            client.force_login(members.order_by("-reputation", "pk").first())
    for path in options.paths:
        response = client.get(path)  # warm: templates compiled, connection open
        if response.status_code != 200:
            print(f"{path}: HTTP {response.status_code}", file=sys.stderr)
            return 1
        log = QueryLog()
        with connection.execute_wrapper(log):
            client.get(path)
        one_request = list(log.entries)
        profiler = cProfile.Profile() if options.cprofile else None
        log = QueryLog()
        started, cpu_started = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(log):
            if profiler:
                profiler.enable()
            for _ in range(options.repeat):
                client.get(path)
            if profiler:
                profiler.disable()
        total = (time.perf_counter() - started) / options.repeat * 1000
        cpu = (time.process_time() - cpu_started) / options.repeat * 1000
        sql = sum(duration for _sql, duration in log.entries) / options.repeat * 1000
        # CPU time is what this process used: on a busy machine it stays put while wall time grows.
        print(
            f"{path}: {total:.1f} ms per request, {len(one_request)} queries taking "
            f"{sql:.1f} ms, {total - sql:.1f} ms outside SQL of which {cpu:.1f} ms CPU "
            f"({len(response.content):,} bytes)"
        )
        by_statement: dict[str, float] = defaultdict(float)
        for statement, duration in log.entries:
            by_statement[statement[:160]] += duration / options.repeat * 1000
        slowest = sorted(by_statement.items(), key=lambda item: -item[1])[:5]
        for statement, milliseconds in slowest:
            print(f"  {milliseconds:6.2f} ms  {statement}")
        if options.queries:
            for statement, duration in one_request:
                print(f"  [{duration * 1000:6.2f} ms] {statement}")
        if profiler:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats(options.sort)
            stats.print_stats(30)
            print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
