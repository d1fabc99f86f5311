"""Reads to PostgreSQL streaming replicas, writes to the primary (DATABASE_REPLICA_URLS).

`PrimaryReplicaRouter` sends a read to a replica only inside a web request that may use one
(`config.read_your_writes.ReadYourWritesMiddleware` opens a `RequestRouting` for each request).
Everything else reads the primary:

- management commands, the shell, tests and anything else outside a request;
- a request with an unsafe method (POST, PUT, PATCH, DELETE), or one that has written already
  (any `db_for_write`, which includes `select_for_update`, `get_or_create` and session saves);
- every read inside a transaction on the primary (`transaction.atomic`): a service reads what it
  is about to change where it changes it;
- a member or visitor who wrote recently, until the replica has replayed their write's WAL
  position (the middleware's cookie; `DATABASE_REPLICA_PIN_SECONDS` at most);
- a block under `primary_reads()` (the anonymous page cache renders pages it stores there: a page
  rendered from a lagging replica would be stored under versions that are already current).

A replica is skipped, and the primary read instead, when it cannot be reached or lags more than
`DATABASE_REPLICA_MAX_LAG_SECONDS` (logged on `mianjing.replicas` when its state changes). Each
process remembers a replica's state for `DATABASE_REPLICA_CHECK_SECONDS`: this memory is a
per-process optimisation only, nothing another process needs.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger("mianjing.replicas")

PRIMARY = DEFAULT_DB_ALIAS

# One query on the replica: is it a standby, how far has it replayed (bytes since 0/0), and how
# far behind is it. The lag is 0 when everything received is replayed (an idle primary sends
# nothing, which is not lag), else the age of the last transaction replayed (unknown, so too
# much, when none was replayed since the standby started).
STATUS_SQL = """
SELECT pg_is_in_recovery(),
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), %s)
       END
"""
UNKNOWN_LAG_SECONDS = 1e9  # WAL waiting and nothing replayed since the standby started
# On the primary, after a write committed: the WAL position a replica must reach to show it. The
# insert position, not pg_current_wal_lsn() (the write position): with synchronous_commit=off a
# commit returns before its record is written out, so the write position may still be short of it.
PRIMARY_LSN_SQL = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


# --- A replica's state, as this process last saw it ------------------------------------------


@dataclass
class ReplicaStatus:
    checked_at: float = 0.0
    up: bool = False
    replayed_lsn: int | None = None  # None: not a standby, or nothing replayed yet
    lag_seconds: float = 0.0
    reason: str = "not checked"


_statuses: dict[str, ReplicaStatus] = {}
_statuses_lock = threading.Lock()


def _usable(status: ReplicaStatus) -> bool:
    return status.up and status.lag_seconds <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS


def _record(alias: str, status: ReplicaStatus) -> ReplicaStatus:
    with _statuses_lock:
        previous = _statuses.get(alias)
        _statuses[alias] = status
    if previous is None or _usable(previous) != _usable(status):
        if _usable(status):
            logger.info("replica %s is in use again (lag %.1f s)", alias, status.lag_seconds)
        else:
            logger.warning("replica %s is skipped: %s", alias, status.reason)
    return status


def replica_mark_down(alias: str, reason: str) -> None:
    _record(alias, ReplicaStatus(checked_at=time.monotonic(), up=False, reason=reason))


def replica_check(alias: str) -> ReplicaStatus:
    """Ask the replica how far it has replayed and how far behind it is (one query)."""
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        with connection.cursor() as cursor:
            cursor.execute(STATUS_SQL, [UNKNOWN_LAG_SECONDS])
            in_recovery, replayed, lag = cursor.fetchone()
    except (OperationalError, InterfaceError, DatabaseError) as error:
        with suppress(DatabaseError):
            connection.close()
        first_line = (str(error).strip().splitlines() or [repr(error)])[0]
        reason = f"unreachable ({first_line})"
        return _record(alias, ReplicaStatus(checked_at=time.monotonic(), reason=reason))
    lag = float(lag or 0)
    status = ReplicaStatus(
        checked_at=time.monotonic(),
        up=True,
        replayed_lsn=int(replayed) if in_recovery and replayed is not None else None,
        lag_seconds=lag,
        reason=f"lagging {lag:.1f} s behind the primary"
        if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        else "ok",
    )
    return _record(alias, status)


def replica_status(alias: str) -> ReplicaStatus:
    """The remembered state, checked again once it is older than DATABASE_REPLICA_CHECK_SECONDS."""
    status = _statuses.get(alias)
    if status is None or time.monotonic() - status.checked_at > (
        settings.DATABASE_REPLICA_CHECK_SECONDS
    ):
        status = replica_check(alias)
    return status


def replica_choose(*, min_lsn: int | None = None) -> str | None:
    """A replica that is up, not lagging beyond the bound and (when `min_lsn` is given) has
    replayed at least that WAL position; None when there is none (read the primary)."""
    aliases = replica_aliases()
    random.shuffle(aliases)
    for alias in aliases:
        status = replica_status(alias)
        if not _usable(status):
            continue
        connection = connections[alias]
        try:  # Django's per-request health check, then connect: a replica gone since is skipped
            connection.close_if_health_check_failed()
            reconnecting = connection.connection is None
            connection.ensure_connection()
        except (OperationalError, InterfaceError, DatabaseError) as error:
            replica_mark_down(alias, f"unreachable ({error})")
            continue
        # While a replica runs its replay position only moves forward, so a remembered position
        # far enough still holds. One short of `min_lsn`, or remembered from before a new
        # connection (the replica may have restarted, replaying from an earlier point), is asked
        # again.
        if min_lsn is not None and (reconnecting or (status.replayed_lsn or 0) < min_lsn):
            status = replica_check(alias)
            if not _usable(status) or (status.replayed_lsn or 0) < min_lsn:
                continue
        return alias
    return None


def primary_lsn() -> int:
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(PRIMARY_LSN_SQL)
        return int(cursor.fetchone()[0])


# --- What one request may read from ----------------------------------------------------------


@dataclass
class RequestRouting:
    """Where one request reads from. `pinned` names why it reads the primary (None: it may use a
    replica); `min_lsn` is the WAL position a replica must have replayed for this visitor."""

    pinned: str | None = None
    min_lsn: int | None = None
    wrote: bool = False
    replica: str | None = None
    replica_failed: bool = False
    _resolved: bool = False
    _wrappers: list = field(default_factory=list)

    def read_alias(self) -> str:
        if self.pinned or self.wrote:
            return PRIMARY
        if not self._resolved:
            self._resolved = True
            self.replica = replica_choose(min_lsn=self.min_lsn)
            if self.replica is not None:
                self._watch(self.replica)
        return self.replica or PRIMARY

    def _watch(self, alias: str) -> None:
        """Note a connection error on the replica, so the middleware can answer from the primary."""

        def wrapper(execute, sql, params, many, context):
            try:
                return execute(sql, params, many, context)
            except (OperationalError, InterfaceError):
                self.replica_failed = True
                raise

        connections[alias].execute_wrappers.append(wrapper)
        self._wrappers.append((alias, wrapper))

    def close(self) -> None:
        for alias, wrapper in self._wrappers:
            wrappers = connections[alias].execute_wrappers
            if wrapper in wrappers:
                wrappers.remove(wrapper)
        self._wrappers.clear()


_routing: ContextVar[RequestRouting | None] = ContextVar("mianjing_db_routing", default=None)


def current_routing() -> RequestRouting | None:
    return _routing.get()


@contextmanager
def request_routing(routing: RequestRouting) -> Iterator[RequestRouting]:
    token = _routing.set(routing)
    try:
        yield routing
    finally:
        routing.close()
        _routing.reset(token)


@contextmanager
def primary_reads(reason: str = "primary_reads") -> Iterator[None]:
    """Every read in the block goes to the primary."""
    routing = _routing.get()
    if routing is None or routing.pinned:
        yield
        return
    routing.pinned = reason
    try:
        yield
    finally:
        routing.pinned = None


class PrimaryReplicaRouter:
    """Writes and migrations: the primary. Reads: see the module's note."""

    def db_for_read(self, model, **hints):
        routing = _routing.get()
        if routing is None or not replica_aliases():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return routing.read_alias()

    def db_for_write(self, model, **hints):
        routing = _routing.get()
        if routing is not None:
            routing.wrote = True
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
