"""What `make loadtest` asserts once the load has stopped: nothing was lost or left inconsistent.

- `missing_writes(records)`: every write that was answered 2xx is in the database as answered
  (each answer, comment and edit by its id or revision number, with the text sent; each
  member's last answered vote on a post is the vote row there, or its absence).
- `database_problems()`: bench.invariants over all rows (scores are the sums of their votes,
  revision numbers run 1..n per post, counters, rendered HTML on a sample) and comment revisions
  numbered 1..n per comment.
- `ledger_problems()`: `manage.py reconcile_reputation` (without --fix) finds no difference
  between reputation and the ledger, or between scores and votes.
- `cached_page_check(paths)`: each cached anonymous page that would still be served equals the
  page rendered now with the cache bypassed, byte for byte (nothing is normalised: the pages carry
  no per-request value such as a CSP nonce).

Each returns lines of text describing what is wrong ([] when nothing is). The records are what
bench/locustfile.py writes: plain lists of dicts, built from the responses.
"""

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.utils import translation

from bench import invariants
from kb.models import Answer, Comment, Revision, Vote
from kb.services import page_cache as versions
from kb.views import page_cache

EXAMPLES = 5  # offending rows quoted per broken check

COMMENT_REVISIONS_CONTIGUOUS = """
    SELECT comment_id FROM kb_commentrevision
    GROUP BY comment_id HAVING max(number) <> count(*) OR min(number) <> 1
"""


def _first(lines: list[str]) -> list[str]:
    if len(lines) <= EXAMPLES:
        return lines
    return [*lines[:EXAMPLES], f"… and {len(lines) - EXAMPLES} more"]


# --- every 2xx write is there ---------------------------------------------------------------


def last_votes(votes: list[dict]) -> dict[tuple[str, str, int], int | None]:
    """(member, "question"/"answer", post id) -> the vote the last 2xx answer reported (None:
    retracted). Each member is one Locust user sending one request at a time, so a member's
    answers arrive in the order the server wrote them."""
    last = {}
    for vote in sorted(votes, key=lambda v: v["sequence"]):
        last[(vote["member"], vote["kind"], vote["post_id"])] = vote["value"]
    return last


def missing_writes(records: dict) -> list[str]:
    found = []
    answers = {
        a.pk: a
        for a in Answer.objects.filter(pk__in=[r["id"] for r in records["answers"]]).select_related(
            "author"
        )
    }
    # What was posted is the answer's first revision: its author may have edited it since (the
    # edit is checked below, as every edit is).
    first_bodies = dict(
        Revision.objects.filter(
            answer_id__in=[r["id"] for r in records["answers"]], number=1
        ).values_list("answer_id", "body")
    )
    for record in records["answers"]:
        answer = answers.get(record["id"])
        if answer is None:
            found.append(f"answer {record['id']} (201 to {record['member']}) is missing")
        elif (
            answer.author.username,
            answer.question_id,
            first_bodies.get(answer.pk),
            answer.is_deleted,
        ) != (record["member"], record["question_id"], record["body"], False):
            found.append(f"answer {record['id']} is not what {record['member']} posted")
    comments = {
        c.pk: c
        for c in Comment.objects.filter(
            pk__in=[r["id"] for r in records["comments"]]
        ).select_related("author")
    }
    for record in records["comments"]:
        comment = comments.get(record["id"])
        post_id = comment and (comment.question_id or comment.answer_id)
        kind = comment and ("question" if comment.question_id else "answer")
        if comment is None:
            found.append(f"comment {record['id']} (201 to {record['member']}) is missing")
        elif (comment.author.username, kind, post_id, comment.body, comment.is_deleted) != (
            record["member"],
            record["kind"],
            record["post_id"],
            record["body"],
            False,
        ):
            found.append(f"comment {record['id']} is not what {record['member']} posted")
    for record in records["edits"]:
        revision = (
            Revision.objects.filter(
                **{f"{record['kind']}_id": record["post_id"], "number": record["number"]}
            )
            .select_related("author")
            .first()
        )
        if revision is None:
            found.append(
                f"{record['kind']} {record['post_id']} has no revision {record['number']} "
                f"(200 to {record['member']})"
            )
        elif revision.author.username != record["member"] or record["marker"] not in revision.body:
            found.append(
                f"{record['kind']} {record['post_id']} revision {record['number']} is not "
                f"{record['member']}'s edit"
            )
    wanted = last_votes(records["votes"])
    stored = {}
    for kind in ("question", "answer"):
        ids = [post_id for (_member, k, post_id) in wanted if k == kind]
        rows = Vote.objects.filter(**{f"{kind}_id__in": ids}).values_list(
            "user__username", f"{kind}_id", "value"
        )
        stored.update({(username, kind, post_id): value for username, post_id, value in rows})
    for (member, kind, post_id), value in wanted.items():
        if stored.get((member, kind, post_id)) != value:
            found.append(
                f"{member}'s vote on {kind} {post_id}: answered {value}, "
                f"stored {stored.get((member, kind, post_id))}"
            )
    return _first(found)


# --- scores, revisions, counters, the ledger ------------------------------------------------


def database_problems(*, render_sample: int | None = 200, seed: int = 0) -> list[str]:
    found = invariants.problems(render_sample=render_sample, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute(COMMENT_REVISIONS_CONTIGUOUS)
        rows = [row[0] for row in cursor.fetchall()]
    if rows:
        found.append(f"comment revision numbers run 1..n without gaps: e.g. {rows[:EXAMPLES]}")
    return found


def ledger_problems() -> list[str]:
    """The `reconcile_reputation` command, as an operator runs it (it exits 1 on a difference)."""
    from io import StringIO

    output = StringIO()
    try:
        call_command("reconcile_reputation", stdout=output)
    except CommandError as error:
        lines = [line for line in output.getvalue().splitlines() if line]
        return _first(lines) + [f"reconcile_reputation: {error}"]
    return []


# --- cached pages equal fresh renders -------------------------------------------------------


@dataclass
class PageCheck:
    compared: int = 0  # cached, still current, rendered again and compared
    absent: int = 0  # not in the cache (never requested, evicted or expired): never served
    superseded: int = 0  # in the cache with an old version: never served again
    problems: list[str] = field(default_factory=list)


def _language_of(path: str) -> str:
    return translation.get_language_from_path(path) or settings.LANGUAGE_CODE


def cache_key_of(path: str) -> str:
    """The key the page cache stores an anonymous GET of `path` under (kb/views/page_cache.py)."""
    with translation.override(_language_of(path)):
        return page_cache.page_key(RequestFactory().get(path))


def _current(entry: dict) -> bool:
    return versions.versions_get(entry["deps"]) == entry["deps"]


def _first_difference(cached: bytes, fresh: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(cached, fresh, strict=False)) if a != b),
        min(len(cached), len(fresh)),
    )
    start = max(0, at - 60)

    def excerpt(content: bytes) -> str:
        return content[start : at + 60].decode("utf-8", "replace")

    return f"at byte {at}: cached …{excerpt(cached)!r}… fresh …{excerpt(fresh)!r}…"


def cached_page_check(
    paths: list[str], *, host: str = "testserver", sample: int | None = 300, seed: int = 0
) -> PageCheck:
    """Render a sample of `paths` with the page cache bypassed and compare each with its cached
    entry. An entry whose versions moved is skipped (it is never served again); so is one whose
    versions move while it is being checked (a fresh render counts a view, and a view-count
    flush moves the question's version)."""
    result = PageCheck()
    paths = sorted(set(paths))
    if sample is not None and len(paths) > sample:
        paths = random.Random(seed).sample(paths, sample)
    client = Client(HTTP_HOST=host)
    for path in paths:
        key = cache_key_of(path)
        entry = cache.get(key)
        if entry is None:
            result.absent += 1
            continue
        if not _current(entry):
            result.superseded += 1
            continue
        with override_settings(PAGE_CACHE_ENABLED=False):
            response = client.get(path)
        if response.status_code != 200:
            result.problems.append(f"{path}: cached, but renders {response.status_code} now")
            continue
        if response.content != entry["content"]:
            if not _current(entry):
                result.superseded += 1
                continue
            result.problems.append(
                f"{path}: the cached page differs from a fresh render "
                + _first_difference(entry["content"], response.content)
            )
            continue
        result.compared += 1
    result.problems = _first(result.problems)
    return result
