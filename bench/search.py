"""`make bench`, search part: index build time, index size and search latency at 100,000 posts.

    .venv/bin/python -m bench.search [--questions 25000 | --posts 100000] [--queries 200]
        [--copies 1] [--regenerate]
    .venv/bin/python -m bench.search --skip-index --profile [--profile-sort cumulative]

bench.generate fills its own database, `mianjing_search_bench` (created UTF-8 with a C.UTF-8 ctype
on the DATABASE_URL server, or on the embedded one), with realistic mixed Chinese/English posts:
25,000 questions with 3 answers each are 100,000 posts. The data set is kept for the next run
(--regenerate builds it again). Every run then re-segments every post with the real service
(`search_reindex(everything=True)`, what `manage.py reindex_search --all` does) and times it,
measures the search tables and indexes, and runs each query through the real selector
(kb.selectors.search.search: parsing, tag lookup, ranking, fallbacks, hydration, snippets) in
one process, after one warm-up pass. Latency is also shown by how many posts match the query's
words (all of them, before any fallback). The report goes to stdout and bench/results/search.md.

--copies N generates 1/N of the questions and repeats those questions, their answers and tags N
times under new ids (SQL, seconds): bench.generate writes about 20 questions a second on a busy
2-core machine, too slow for 1,000,000 posts, while the corpus is drawn from a few dozen sentence
templates anyway, so N copies change the posting lists' shape little. The index is still built
from every post, copies included; the report says how many were generated. --copy-index goes
further: only the generated posts are segmented (and timed), their search rows are copied to the
copies in SQL and the GIN indexes built afterwards (a copied post's document is the same text;
one is segmented again and compared). For latency and sizes at 1,000,000 posts when a full
build (about 1,400 posts/s on a quiet 2-core machine, 120 on a busy one) does not fit:

    .venv/bin/python -m bench.search --posts 1000000 --copies 40 --copy-index
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
POSTS_PER_QUESTION = 4  # a question and bench.generate's ANSWERS_PER_QUESTION (3) answers
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
    # A batch job like manage.py's commands: no web statement_timeout (a COPY of a large data
    # set's ledger or an index build on a busy machine runs longer than 5 s).
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
        "copies": options.copies,
        "seed": DEFAULT_SEED,
        "generator_version": GENERATOR_VERSION,
    }


def _generate(options) -> None:
    from django.db import connections

    from bench.generate import Plan, generate

    started = time.monotonic()
    generated = options.questions // options.copies
    _say(f"Generating {generated:,} questions with {options.processes} process(es).")

    def progress(counts: dict[str, int]) -> None:
        print(
            f"\r  {counts['questions']:,}/{generated:,} questions "
            f"({time.monotonic() - started:.0f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    # No search index here: build_index rebuilds it from scratch (and times it) on every run.
    counts = generate(
        Plan(questions=generated),
        processes=options.processes,
        progress=progress,
        search_index=False,
    )
    connections.close_all()
    _say(f"\n  done in {time.monotonic() - started:.0f} s: {counts}")
    if options.copies > 1:
        started = time.monotonic()
        _copy_posts(options.copies)
        _say(f"  copied {options.copies} times in {time.monotonic() - started:.0f} s")


# Columns that hold ids of the copied tables: each copy shifts them by that table's offset.
_COPIED = {
    "kb_question": {"id": "kb_question", "accepted_answer_id": "kb_answer",
                    "duplicate_of_id": "kb_question"},
    "kb_answer": {"id": "kb_answer", "question_id": "kb_question"},
    "kb_question_tags": {"id": "kb_question_tags", "question_id": "kb_question"},
}  # fmt: skip


def _copy_posts(copies: int) -> None:
    """Repeat every question, answer and question-tag row `copies - 1` more times with ids
    shifted past the previous copy; other rows (revisions, votes, comments) are not searched and
    stay single. Triggers (the change feed) are off while copying: the rows are consistent."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        sizes = {}
        for table in _COPIED:
            # Table and column names come from _COPIED and the catalogue, numbers from max(id).
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
            sizes[table] = cursor.fetchone()[0]
        for table, shifted in _COPIED.items():
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            )
            columns = [row[0] for row in cursor.fetchall()]
            for copy in range(1, copies):
                values = [
                    f"{column} + {copy * sizes[shifted[column]]}" if column in shifted else column
                    for column in columns
                ]
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                    f"SELECT {', '.join(values)} FROM {table} WHERE id <= {sizes[table]}"
                )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "  # noqa: S608
                f"FROM {table}"
            )


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
    _say(
        f"Segmenting and indexing {posts:,} posts "
        + ("(the generated ones, then copies)." if options.copy_index else "(search_reindex).")
    )
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

    if options.copy_index:
        index = _index_by_copying(options, progress)
        _say("")
        _vacuum_analyze()
        return {"posts": posts, **index}
    written = search_reindex(
        everything=True, batch_size=250, processes=options.processes, progress=progress
    )
    seconds = time.monotonic() - started
    _say("")
    _vacuum_analyze()
    return {"posts": posts, "written": written, "seconds": seconds}


def _index_batch(question_ids: list[int]) -> int:
    from django.db import transaction

    from kb.services.search_index import search_index_questions

    with transaction.atomic():
        return search_index_questions(question_ids=question_ids)


def _index_by_copying(options, progress) -> dict:
    """--copy-index: segment and store the generated posts with the real service, then copy their
    search rows to the copies (whose documents are the same text) in SQL, the GIN indexes dropped
    and built again afterwards. Gives the 1,000,000-post index in minutes where a full build on a
    busy machine takes hours; the build time is then measured on the generated posts only. One
    copied question and its answers are segmented again and must equal their copied rows."""
    import multiprocessing

    from django.db import connection, connections, transaction

    from kb import search as text
    from kb.models import Answer, Question, SearchWord
    from kb.services.search_index import _documents, search_words_add

    generated = options.questions // options.copies
    ids = list(
        Question.objects.filter(pk__lte=generated).order_by("pk").values_list("pk", flat=True)
    )
    posts = len(ids) + Answer.objects.filter(question_id__lte=generated).count()
    SearchWord.objects.all().delete()
    search_words_add(words=text.dictionary_latin_words())
    batches = [ids[start : start + 250] for start in range(0, len(ids), 250)]
    started = time.monotonic()
    connections.close_all()  # the workers must not share this process's connection
    with multiprocessing.get_context("fork").Pool(options.processes) as pool:
        done = 0
        for batch, _written in zip(batches, pool.imap(_index_batch, batches), strict=True):
            done += len(batch)
            progress(done, len(ids))
    segment_seconds = time.monotonic() - started
    _say(f"\n  copying the search rows of {posts:,} posts {options.copies} times")
    started = time.monotonic()
    tables = {"kb_questionsearch": ("question_id", "kb_question"),
              "kb_answersearch": ("answer_id", "kb_answer")}  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # No foreign-key triggers (the copied ids exist): pending ones would block CREATE INDEX.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexdef LIKE '%% USING gin %%'",
            [list(tables)],
        )
        gin_indexes = cursor.fetchall()
        # What writing row by row (search_reindex, a live site) left for the generated posts;
        # CREATE INDEX below packs the index tighter.
        inserted_sizes = {}
        for name, _definition in gin_indexes:
            cursor.execute("SELECT pg_relation_size(%s::regclass)", [name])
            inserted_sizes[name] = cursor.fetchone()[0]
        for name, _definition in gin_indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table, (key, posts_table) in tables.items():
            cursor.execute(f"SELECT max(id) FROM {posts_table}")  # noqa: S608
            total = cursor.fetchone()[0]
            size = total // options.copies
            for copy in range(1, options.copies):
                # Names are constants above; numbers come from max(id).
                cursor.execute(
                    f"INSERT INTO {table} ({key}, vector, search_version) "  # noqa: S608
                    f"SELECT {key} + {copy * size}, vector, search_version FROM {table} "
                    f"WHERE {key} <= {size}"
                )
        for _name, definition in gin_indexes:
            cursor.execute(definition)
    copy_seconds = time.monotonic() - started
    last = options.questions  # the last copy's last question, segmented afresh
    documents = _documents([last])
    with connection.cursor() as cursor:
        for table, key, rows in [
            ("kb_questionsearch", "question_id", documents.question_rows),
            ("kb_answersearch", "answer_id", documents.answer_rows),
        ]:
            for pk, vector, _guard in rows:
                cursor.execute(
                    f"SELECT vector = %s::tsvector FROM {table} WHERE {key} = %s",  # noqa: S608
                    [vector, pk],
                )
                if not cursor.fetchone()[0]:
                    raise SystemExit(
                        f"{table} row {pk}: the copied vector differs from a fresh one."
                    )
    return {
        "seconds": segment_seconds,
        "segmented_posts": posts,
        "copy_seconds": copy_seconds,
        "inserted_sizes": inserted_sizes,
        "written": None,
    }


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


def run_queries(queries: list[tuple[str, str]], *, sort: str = "relevance") -> list[dict]:
    from django.contrib.auth.models import AnonymousUser

    from kb.selectors.search import search

    viewer = AnonymousUser()
    for _kind, query in queries:  # warm-up: caches, the segmenter, the connection
        search(viewer=viewer, query=query, sort=sort)
    rows = []
    for kind, query in queries:
        started = time.perf_counter()
        results = search(viewer=viewer, query=query, sort=sort)
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
        f"--queries {options.queries}"
        + (f" --sort {options.sort}" if options.sort != "relevance" else "")
        + (f" --copies {options.copies}" if options.copies > 1 else "")
        + (" --copy-index" if options.copy_index else "")
        + "`",
        f"- **CPU**: {os.cpu_count()} cores; PostgreSQL {postgres}, {server_description}",
    ]
    if index and "segmented_posts" in index:
        rate = index["segmented_posts"] / index["seconds"]
        lines.append(
            f"- **Index build** (--copy-index): the {index['segmented_posts']:,} generated posts "
            f"segmented and written in {index['seconds']:.0f} s ({rate:,.0f} posts/s, "
            f"{options.processes} segmenting processes); their search rows copied to all "
            f"{index['posts']:,} posts and the GIN indexes built in {index['copy_seconds']:.0f} s. "
            f"A full build at that rate: about {index['posts'] / rate / 60:,.0f} min"
        )
        lines.append(
            "- **GIN indexes built by CREATE INDEX** (below); written row by row for the "
            f"{index['segmented_posts']:,} generated posts they were: "
            + ", ".join(f"{name} {_mib(size)}" for name, size in index["inserted_sizes"].items())
        )
    elif index:
        lines.append(
            f"- **Index build**: {index['posts']:,} posts ({options.questions:,} questions, "
            f"{index['posts'] - options.questions:,} answers) segmented and written in "
            f"{index['seconds']:.0f} s ({index['posts'] / index['seconds']:,.0f} posts/s, "
            f"{options.processes} segmenting processes)"
        )
    if options.copies > 1:
        lines.append(
            f"- **Data set**: {options.questions // options.copies:,} generated questions with "
            f"their answers and tags, each repeated {options.copies} times under new ids"
        )
    lines += ["", "| Search storage | Size |", "|---|--:|"]
    lines += [f"| {name} | {_mib(size)} |" for name, size in sizes]
    lines += [
        "",
        f"**Latency over {len(rows)} queries, sorted by {options.sort}** (full service: parse, "
        "tags, rank, fallbacks, "
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
    parser.add_argument(
        "--posts",
        type=int,
        default=None,
        help="posts in all instead of --questions: --posts 1000000 is 250,000 questions",
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--sort",
        choices=["relevance", "newest", "score"],
        default="relevance",
        help="the order asked for (newest and score do not rank: the first 500 matches)",
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="generate 1/COPIES of the questions and repeat them COPIES times (see above)",
    )
    parser.add_argument(
        "--copy-index",
        action="store_true",
        help="with --copies: segment the generated posts only and copy their search rows",
    )
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
    parser.add_argument("--profile-sort", default="tottime", choices=["cumulative", "tottime"])
    options = parser.parse_args(argv)
    if options.posts is not None:
        if options.posts < POSTS_PER_QUESTION:
            parser.error(f"--posts must be at least {POSTS_PER_QUESTION}")
        options.questions = options.posts // POSTS_PER_QUESTION
    if options.copies < 1 or options.questions % options.copies:
        parser.error("--copies must be at least 1 and divide the number of questions")
    if options.copy_index and options.copies < 2:
        parser.error("--copy-index needs --copies")
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
        print(profile_queries(queries, options.profile_sort))
        return
    _say(f"Running {len(queries)} queries (after a warm-up pass).")
    rows = run_queries(queries, sort=options.sort)
    text = report(options, index, sizes, rows, server_description)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "search.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
