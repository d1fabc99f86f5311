"""`make bench`, search part: index build time, index size and search latency at 100,000 posts.

    .venv/bin/python -m bench.search [--questions 25000] [--queries 200] [--regenerate]
    .venv/bin/python -m bench.search --skip-index --profile [--sort tottime]   # where time goes

bench.generate fills its own database, `mianjing_search_bench` (created UTF-8 with a C.UTF-8 ctype
on the DATABASE_URL server, or on the embedded one), with realistic mixed Chinese/English posts:
25,000 questions with 3 answers each are 100,000 posts. The data set is kept for the next run
(--regenerate builds it again). Every run then re-segments every post with the real service
(`search_reindex(everything=True)`, what `manage.py reindex_search --all` does) and times it,
measures the search tables and indexes, and runs each query through the real selector
(kb.selectors.search.search: parsing, tag lookup, ranking, fallbacks, hydration, snippets) in
one process, after one warm-up pass. Latency is also shown by how many posts match the query's
words (all of them, before any fallback). The report goes to stdout and bench/results/search.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
# SEARCH_BENCH_DATABASE names another one (several checkouts sharing a server).
SEARCH_BENCH_DATABASE = os.environ.get("SEARCH_BENCH_DATABASE", "mianjing_search_bench")
QUERY_SEED = 20250601
TARGET_MEDIAN_MS = 20
TARGET_P95_MS = 100
BUCKETS = [("under 1k", 0, 1_000), ("1k–10k", 1_000, 10_000), ("over 10k", 10_000, None)]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the database --------------------------------------------------------------------------


def prepare_database(options) -> str:
    """Point Django at the search bench database, creating or emptying it when needed; returns
    a description of the server."""
    from bench import database

    admin_url, server_description = database.server_url()
    bench_url = database.with_database(admin_url, SEARCH_BENCH_DATABASE)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Generating and indexing run long statements (a COPY of 300,000 rows): like manage.py's
    # commands, the bench is not held to a web request's statement timeout.
    os.environ.setdefault("MIANJING_COMMAND", "1")
    import django

    django.setup()  # connects lazily: the database may not exist yet
    from django.core.management import call_command

    exists = database.database_exists(admin_url, SEARCH_BENCH_DATABASE)
    stored = database.dataset_get(bench_url) if exists else None
    wanted = _dataset_description(options)
    reuse = (
        not options.regenerate
        and stored is not None
        and all(stored.get(key) == value for key, value in wanted.items())
        and stored["questions_in_table"] == options.questions
    )
    if exists and not reuse:
        _say(f"Dropping {SEARCH_BENCH_DATABASE} to generate it again.")
        database.database_drop(admin_url, SEARCH_BENCH_DATABASE)
    if not reuse:
        database.database_create(admin_url, SEARCH_BENCH_DATABASE)
    call_command("migrate", "--noinput", verbosity=0)
    if reuse:
        _say(f"Reusing {SEARCH_BENCH_DATABASE} ({options.questions:,} questions).")
    else:
        _generate(options)
        database.dataset_record(bench_url, wanted)
    return server_description


def _dataset_description(options) -> dict:
    from bench.generate import DEFAULT_SEED, GENERATOR_VERSION

    return {
        "questions": options.questions,
        "seed": DEFAULT_SEED,
        "generator_version": GENERATOR_VERSION,
    }


def _generate(options) -> None:
    from django.db import connections

    from bench.generate import Plan, generate

    started = time.monotonic()
    _say(f"Generating {options.questions:,} questions with {options.processes} process(es).")

    def progress(counts: dict[str, int]) -> None:
        print(
            f"\r  {counts['questions']:,}/{options.questions:,} questions "
            f"({time.monotonic() - started:.0f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    counts = generate(
        Plan(questions=options.questions), processes=options.processes, progress=progress
    )
    connections.close_all()
    _say(f"\n  done in {time.monotonic() - started:.0f} s: {counts}")


def _vacuum_analyze() -> None:
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("ANALYZE kb_questionsearch, kb_answersearch")
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'kb_questionsearch'")
        if not cursor.fetchone()[0]:
            raise SystemExit("The search tables have no statistics after ANALYZE.")
        # A live site searches an index written long before: write the build's 600 MB out now,
        # not in the background while the queries are timed (needs a superuser; else skipped).
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            _say("  (no CHECKPOINT: the bench's database user may not run one)")


# --- the index -------------------------------------------------------------------------------


def build_index(options) -> dict:
    from django.db import connection

    from kb.models import Answer, Question
    from kb.services.search_index import search_reindex

    posts = Question.objects.count() + Answer.objects.count()
    with connection.cursor() as cursor:  # a fresh build: sizes without a previous build's bloat
        cursor.execute("TRUNCATE kb_questionsearch, kb_answersearch, kb_searchword")
    _say(f"Segmenting and indexing {posts:,} posts (search_reindex(everything=True)).")
    started = time.monotonic()
    last = [started]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 5 or done == total:
            last[0] = time.monotonic()
            print(
                f"\r  {done:,}/{total:,} questions with their answers ({last[0] - started:.0f} s)",
                end="",
                file=sys.stderr,
                flush=True,
            )

    written = search_reindex(
        everything=True, batch_size=250, processes=options.processes, progress=progress
    )
    seconds = time.monotonic() - started
    _say("")
    _vacuum_analyze()
    return {"posts": posts, "written": written, "seconds": seconds}


def index_sizes() -> list[tuple[str, int]]:
    """Bytes of the search tables (with TOAST) and of each search index."""
    from django.db import connection

    names = [
        ("kb_questionsearch (table + TOAST)", "pg_table_size('kb_questionsearch')"),
        ("question_search_vector (GIN)", "pg_relation_size('question_search_vector')"),
        ("kb_answersearch (table + TOAST)", "pg_table_size('kb_answersearch')"),
        ("answer_search_vector (GIN)", "pg_relation_size('answer_search_vector')"),
        ("question_title_trgm (GIN)", "pg_relation_size('question_title_trgm')"),
        ("kb_searchword + searchword_trgm", "pg_total_relation_size('kb_searchword')"),
        (
            "for comparison: kb_question + kb_answer",
            "pg_total_relation_size('kb_question') + pg_total_relation_size('kb_answer')",
        ),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(expression for _name, expression in names))
        values = cursor.fetchone()
    return [(name, int(value)) for (name, _expression), value in zip(names, values, strict=True)]


# --- the queries -----------------------------------------------------------------------------

CHINESE = [
    "显存占用",
    "数值稳定性",
    "归纳偏置",
    "训练稳定性",
    "长上下文",
    "吞吐量",
    "通信开销",
    "偏好数据",
    "参考模型",
    "低秩",
    "旋转角度",
    "相对位置",
    "路由",
    "首 token 延迟",
    "消融实验",
    "互信息",
    "混合精度",
    "梯度",
    "注意力矩阵",
    "多模态",
    "视觉特征",
    "工程实践",
    "超参数",
    "面试官",
    "模型",
    "复杂度",
    "显存",
    "量化",
    "解码",
    "数据分布",
]
QUESTIONS = [
    "{t} 和 {u} 有什么区别",
    "为什么大模型都用 {t}",
    "{t} 的原理是什么",
    "如何用 {t} 降低显存",
    "{t} 训练时 loss 出现 NaN 怎么办",
    "{t} 的计算复杂度",
    "多模态模型中 {t} 的作用",
    "what is {t}",
    "{t} vs {u}",
]


def _typo(rng: random.Random, word: str) -> str:
    letters = [c for c in word.lower() if c.isalpha()]
    if len(letters) < 5:
        return word.lower() + "x"
    index = rng.randrange(1, len(letters) - 2)
    letters[index], letters[index + 1] = letters[index + 1], letters[index]
    return "".join(letters)


def make_queries(count: int, tag_names: list[str]) -> list[tuple[str, str]]:
    """(kind, query) pairs, deterministic: the mix a search box sees."""
    import opencc

    from bench.corpus import TERMS

    rng = random.Random(QUERY_SEED)
    traditional = opencc.OpenCC("s2t")
    makers = [
        ("english term", lambda: rng.choice(TERMS)),
        ("two english terms", lambda: " ".join(rng.sample(TERMS, 2))),
        ("chinese words", lambda: rng.choice(CHINESE)),
        (
            "chinese question",
            lambda: rng.choice(QUESTIONS).format(t=rng.choice(TERMS), u=rng.choice(TERMS)),
        ),
        ("mixed", lambda: f"{rng.choice(TERMS)} {rng.choice(CHINESE)}"),
        ("typo", lambda: _typo(rng, rng.choice([t for t in TERMS if len(t) > 5]))),
        (
            "traditional",
            lambda: traditional.convert(f"{rng.choice(CHINESE)} {rng.choice(CHINESE)}"),
        ),
        ("phrase", lambda: f'"{rng.choice([t for t in TERMS if " " in t])}"'),
        ("tag and words", lambda: f"[{rng.choice(tag_names)}] {rng.choice(CHINESE)}"),
        ("answers only", lambda: f"is:answer {rng.choice(TERMS)}"),
        ("filters", lambda: f"{rng.choice(TERMS)} score:2 accepted:yes"),
        (
            "no match",
            lambda: rng.choice(
                ["qwertyuiopasdf", "完全不存在的词组合 zzyzx", "tokenizationxyz 蛋白质折叠"]
            ),
        ),
    ]
    return [(kind, make()) for kind, make in (makers[i % len(makers)] for i in range(count))]


def matching_rows(query: str) -> int:
    """Posts whose document has every word of the query (the first, strict step)."""
    from kb import search as text
    from kb.models import AnswerSearch, QuestionSearch
    from kb.selectors.search import RawTsQuery

    parsed = text.parse_query(query)
    tsquery = text.build_plan(parsed).tsquery()
    if not tsquery:
        return 0
    model = AnswerSearch if parsed.kind == "answer" else QuestionSearch
    return model.objects.filter(vector=RawTsQuery(tsquery)).count()


def run_queries(queries: list[tuple[str, str]]) -> list[dict]:
    from django.contrib.auth.models import AnonymousUser

    from kb.selectors.search import search

    viewer = AnonymousUser()
    for _kind, query in queries:  # warm-up: caches, the segmenter, the connection
        search(viewer=viewer, query=query)
    rows = []
    for kind, query in queries:
        started = time.perf_counter()
        results = search(viewer=viewer, query=query)
        milliseconds = (time.perf_counter() - started) * 1000
        rows.append({"kind": kind, "query": query, "ms": milliseconds, "count": results.count})
    # Counted afterwards: a count reads every matching row and, run between two searches, it
    # leaves the next one about 4 ms slower than searches that follow each other.
    for row in rows:
        row["matching"] = matching_rows(row["query"])
    return rows


def profile_queries(queries: list[tuple[str, str]], sort: str) -> str:
    """Where a search's time goes: SQL (each statement's time, grouped by its start) against
    Python, and a cProfile of the Python side. Runs the queries after a warm-up pass."""
    import cProfile
    import io
    import pstats
    from collections import defaultdict

    from django.contrib.auth.models import AnonymousUser
    from django.db import connection

    from kb.selectors.search import search

    viewer = AnonymousUser()
    for _kind, query in queries:
        search(viewer=viewer, query=query)
    statements: dict[str, list[float]] = defaultdict(list)

    def log(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements[" ".join(sql.split())[:90]].append(time.perf_counter() - started)

    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(log):
        profiler.enable()
        for _kind, query in queries:
            search(viewer=viewer, query=query)
        profiler.disable()
    total = (time.perf_counter() - started) * 1000 / len(queries)
    sql = sum(sum(times) for times in statements.values()) * 1000 / len(queries)
    count = sum(len(times) for times in statements.values()) / len(queries)
    lines = [
        f"{len(queries)} queries: {total:.1f} ms a search (under cProfile), {count:.1f} SQL "
        f"statements taking {sql:.1f} ms, {total - sql:.1f} ms in Python",
        "",
        "ms a search  calls  statement",
    ]
    for statement, times in sorted(statements.items(), key=lambda item: -sum(item[1])):
        lines.append(f"{sum(times) * 1000 / len(queries):10.2f}  {len(times):5d}  {statement}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(35)
    return "\n".join(lines) + "\n\n" + out.getvalue()


# --- the report ------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MiB"


def report(options, index: dict | None, sizes, rows, server_description: str) -> str:
    from bench import database

    postgres = database.server_version(os.environ["DATABASE_URL"])
    times = [row["ms"] for row in rows]
    median, p95 = statistics.median(times), _percentile(times, 0.95)
    ok = "✅" if median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS else "❌ missed"
    lines = [
        "# Mianjing search benchmark",
        "",
        f"- **Date**: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- **Command**: `.venv/bin/python -m bench.search --questions {options.questions} "
        f"--queries {options.queries}`",
        f"- **CPU**: {os.cpu_count()} cores; PostgreSQL {postgres}, {server_description}",
    ]
    if index:
        lines.append(
            f"- **Index build**: {index['posts']:,} posts ({options.questions:,} questions, "
            f"{index['posts'] - options.questions:,} answers) segmented and written in "
            f"{index['seconds']:.0f} s ({index['posts'] / index['seconds']:,.0f} posts/s, "
            f"{options.processes} segmenting processes)"
        )
    lines += ["", "| Search storage | Size |", "|---|--:|"]
    lines += [f"| {name} | {_mib(size)} |" for name, size in sizes]
    lines += [
        "",
        f"**Latency over {len(rows)} queries** (full service: parse, tags, rank, fallbacks, "
        f"page of 30 with snippets): median **{median:.1f} ms**, p95 **{p95:.1f} ms** "
        f"(target ≤ {TARGET_MEDIAN_MS} / ≤ {TARGET_P95_MS} ms {ok}); max {max(times):.1f} ms.",
        "",
        "| Posts matching every word | Queries | Median ms | p95 ms | Max ms |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, low, high in BUCKETS:
        bucket = [
            r["ms"] for r in rows if r["matching"] >= low and (high is None or r["matching"] < high)
        ]
        if bucket:
            lines.append(
                f"| {name} | {len(bucket)} | {statistics.median(bucket):.1f} | "
                f"{_percentile(bucket, 0.95):.1f} | {max(bucket):.1f} |"
            )
    lines += [
        "",
        "| Kind of query | Queries | Median ms | p95 ms | Example |",
        "|---|--:|--:|--:|---|",
    ]
    kinds = sorted({row["kind"] for row in rows})
    for kind in kinds:
        bucket = [r for r in rows if r["kind"] == kind]
        values = [r["ms"] for r in bucket]
        example = bucket[0]["query"].replace("|", "\\|")
        lines.append(
            f"| {kind} | {len(bucket)} | {statistics.median(values):.1f} | "
            f"{_percentile(values, 0.95):.1f} | `{example}` |"
        )
    slowest = sorted(rows, key=lambda r: r["ms"], reverse=True)[:5]
    lines += [
        "",
        "Slowest: "
        + "; ".join(
            f"`{r['query']}` {r['ms']:.0f} ms ({r['matching']:,} matching)" for r in slowest
        ),
    ]
    return "\n".join(lines) + "\n"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.search", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--questions",
        type=int,
        default=25_000,
        help="questions (each with 3 answers); 25,000 make 100,000 posts",
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--regenerate", action="store_true", help="build the data set again")
    parser.add_argument(
        "--skip-index",
        action="store_true",
        help="keep the index the last run built (when it is current)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes that generate and segment posts (default: the CPUs)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing: SQL statements and a cProfile of the queries (no report file)",
    )
    parser.add_argument("--sort", default="tottime", choices=["cumulative", "tottime"])
    options = parser.parse_args(argv)
    options.processes = options.processes or len(os.sched_getaffinity(0))
    return options


def main(argv=None) -> None:
    options = parse_arguments(argv)
    server_description = prepare_database(options)
    from kb.models import Tag
    from kb.services.search_index import stale_question_ids

    index = None
    if not options.skip_index or stale_question_ids():
        index = build_index(options)
    sizes = index_sizes()
    tag_names = list(Tag.objects.order_by("name").values_list("name", flat=True))
    queries = make_queries(options.queries, tag_names)
    if options.profile:
        print(profile_queries(queries, options.sort))
        return
    _say(f"Running {len(queries)} queries (after a warm-up pass).")
    rows = run_queries(queries)
    text = report(options, index, sizes, rows, server_description)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "search.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
