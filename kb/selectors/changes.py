"""Reads of the change feed (GET /api/v1/changes/).

Rows are ordered by (xid, id): the writing transaction's id, then the row's. A transaction that
started earlier can commit later than one that started after it, so "everything after the last
row I saw" would skip its rows. The feed therefore serves only rows whose xid is below the
horizon (xmin) of the reading statement's snapshot: every transaction with a smaller id has
finished, committed or not (SNAPSHOT_HORIZON passes over transactions in other databases). A row
can then never appear later below a cursor already handed out: no skips, no repeats."""

from dataclasses import dataclass

from django.db.models import Q
from django.db.models.expressions import RawSQL

from kb.dump import public_records
from kb.models import Change

KINDS = ("question", "answer", "comment", "tag")
# The statement snapshot's horizon for this database: the smallest transaction id still in
# progress, or the snapshot's xmax when none is. Transactions that pg_stat_activity shows working
# in another database of the cluster cannot write here and are passed over; any other (one whose
# database we cannot see, a prepared transaction) holds the feed back: unknown means wait.
SNAPSHOT_HORIZON = """(
  SELECT least(
    pg_snapshot_xmax(snap)::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap) AS x
      WHERE x::text::bigint %% 4294967296 NOT IN (
        SELECT backend_xid::text::bigint FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())))
  FROM pg_current_snapshot() AS snap
)"""


class CursorError(ValueError):
    pass


def cursor_parse(text: str | None) -> tuple[int, int]:
    """'<xid>-<id>' as handed out; empty or '0' is the beginning."""
    if text in (None, "", "0"):
        return (0, 0)
    xid, sep, pk = text.partition("-")
    if not sep or not xid.isdigit() or not pk.isdigit():
        raise CursorError(text)
    return (int(xid), int(pk))


def cursor_of(change: Change) -> str:
    return f"{change.xid}-{change.id}"


@dataclass
class ChangePage:
    changes: list[Change]
    records: dict[tuple[str, int], dict]  # the current public record; missing = tombstone
    has_more: bool


def change_page(*, viewer, since: tuple[int, int], limit: int) -> ChangePage:
    """The next `limit` changes after `since`, with the public record of each changed object as
    it is now (one query for the changes, one per kind for the records). The feed is the public
    dump's view whoever asks: what it leaves out is a tombstone."""
    xid, pk = since
    rows = list(
        Change.objects.filter(Q(xid__gt=xid) | Q(xid=xid, id__gt=pk))
        .filter(xid__lt=RawSQL(SNAPSHOT_HORIZON, []))  # noqa: S611 (constant SQL)
        .order_by("xid", "id")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    records = {}
    for kind in KINDS:
        ids = {row.object_id for row in rows if row.kind == kind}
        if ids:
            for record_id, record in public_records(kind, ids).items():
                records[(kind, record_id)] = record
    return ChangePage(changes=rows, records=records, has_more=has_more)
