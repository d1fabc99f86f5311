"""A PostgreSQL primary and its streaming replica, built from the machine's PostgreSQL binaries.

    python -m tools.replica up      # build both under a temporary folder, print their URLs
    python -m tools.replica down    # stop them and remove the folder

The pair is self-contained, so it needs nothing from the machine's own server: `initdb` makes a
primary (port 5434 by default) with `wal_level=replica`, `pg_basebackup -R` copies it into a
standby that streams from it (port 5433 by default), and both start with `pg_ctl`. Every database
created on the primary afterwards streams to the replica too. Run as root, the servers run as the
`postgres` system user (PostgreSQL refuses root). tests/test_replicas.py builds one per test run;
README, "Read replicas", describes the set-up for a real deployment.

Settings: REPLICA_PG_BINDIR (default: the newest /usr/lib/postgresql/<n>/bin, else `pg_config
--bindir`), REPLICA_PRIMARY_PORT, REPLICA_STANDBY_PORT.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = Path(tempfile.gettempdir()) / "mianjing-replica-pair.json"


class ReplicaUnavailable(RuntimeError):
    """The pair cannot be built here (no PostgreSQL binaries, ports in use, ...)."""


def bindir() -> Path:
    configured = os.environ.get("REPLICA_PG_BINDIR")
    if configured:
        return Path(configured)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        output = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if output.returncode == 0:
            return Path(output.stdout.strip())
    raise ReplicaUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)")


@dataclass
class ReplicaPair:
    root: Path
    bindir: Path
    primary_port: int
    standby_port: int
    user: str = "postgres"

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def standby_dir(self) -> Path:
        return self.root / "standby"

    def url(self, database: str, *, standby: bool = False) -> str:
        port = self.standby_port if standby else self.primary_port
        return f"postgres://{self.user}@127.0.0.1:{port}/{database}"

    # --- running the binaries, as the postgres system user when we are root ---

    def _run(self, *args: str, timeout: float = 60) -> str:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode != 0:
            raise ReplicaUnavailable(
                f"{' '.join(args[:2])} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-800:]}"
            )
        return result.stdout

    def _pg_ctl(self, data_dir: Path, action: str, *extra: str) -> None:
        self._run("pg_ctl", action, "-D", str(data_dir), "-w", "-t", "30", *extra)

    def start_standby(self) -> None:
        self._pg_ctl(self.standby_dir, "start", "-l", str(self.root / "standby.log"))

    def stop_standby(self) -> None:
        """As if the server died: no shutdown checkpoint, connections cut at once."""
        self._pg_ctl(self.standby_dir, "stop", "-m", "immediate")

    def build(self) -> ReplicaPair:
        for name in ("initdb", "pg_ctl", "pg_basebackup"):
            if not (self.bindir / name).exists():
                raise ReplicaUnavailable(f"{self.bindir / name} is missing")
        if os.geteuid() == 0:
            try:
                postgres = pwd.getpwnam("postgres")
            except KeyError as error:
                raise ReplicaUnavailable("running as root without a postgres user") from error
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
        # A UTF-8 ctype: under C, pg_trgm and the full-text parser drop CJK characters.
        self._run(
            "initdb", "-D", str(self.primary_dir), "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", timeout=120,
        )  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": self.primary_port,
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "wal_keep_size": "'64MB'",
            "hot_standby": "on",
            "shared_buffers": "'32MB'",
            "max_connections": 60,
            # A throw-away test server: durability is not the point, speed is.
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
        }
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tools/replica.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # initdb's pg_hba.conf with --auth=trust already allows replication from 127.0.0.1.
        self._pg_ctl(self.primary_dir, "start", "-l", str(self.root / "primary.log"))
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", self.user,
            "-D", str(self.standby_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
            timeout=120,
        )  # fmt: skip
        with (self.standby_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
        self.start_standby()
        return self

    def destroy(self) -> None:
        for data_dir in (self.standby_dir, self.primary_dir):
            if (data_dir / "postmaster.pid").exists():
                with contextlib.suppress(ReplicaUnavailable):
                    self._pg_ctl(data_dir, "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def to_json(self) -> str:
        return json.dumps(
            {
                "root": str(self.root),
                "bindir": str(self.bindir),
                "primary_port": self.primary_port,
                "standby_port": self.standby_port,
            }  # fmt: skip
        )


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def replica_pair_build(
    *, primary_port: int | None = None, standby_port: int | None = None
) -> ReplicaPair:
    """Build and start a primary and its streaming standby; raises ReplicaUnavailable."""
    primary_port = primary_port or int(os.environ.get("REPLICA_PRIMARY_PORT", "5434"))
    standby_port = standby_port or int(os.environ.get("REPLICA_STANDBY_PORT", "5433"))
    for port in (primary_port, standby_port):
        if not _port_free(port):
            raise ReplicaUnavailable(f"port {port} is in use")
    root = Path(tempfile.mkdtemp(prefix="mianjing-replica-"))
    pair = ReplicaPair(
        root=root, bindir=bindir(), primary_port=primary_port, standby_port=standby_port
    )
    try:
        return pair.build()
    except BaseException:
        pair.destroy()
        raise


def wait_replayed(pair: ReplicaPair, *, timeout: float = 30) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    import psycopg

    with psycopg.connect(pair.url("postgres"), autocommit=True) as primary:
        target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(pair.url("postgres", standby=True), autocommit=True) as standby:
        while time.monotonic() < deadline:
            behind = standby.execute(
                "SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", [target]
            ).fetchone()[0]
            if behind is False:
                return
            time.sleep(0.05)
    raise TimeoutError(f"the standby did not replay {target} within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    options = parser.parse_args()
    if options.action == "up":
        if STATE_FILE.exists():
            sys.exit(f"a pair is up already ({STATE_FILE}); `python -m tools.replica down` first")
        try:
            pair = replica_pair_build()
        except ReplicaUnavailable as error:
            sys.exit(f"cannot build a replica: {error}")
        STATE_FILE.write_text(pair.to_json())
        print(f"primary: {pair.url('postgres')}")
        print(f"replica: {pair.url('postgres', standby=True)}")
        print("Create databases on the primary; they stream to the replica. Then run with")
        print("  DATABASE_URL=<primary>/<db> DATABASE_REPLICA_URLS=<replica>/<db>")
    else:
        if not STATE_FILE.exists():
            sys.exit("no pair is up")
        state = json.loads(STATE_FILE.read_text())
        ReplicaPair(
            root=Path(state["root"]), bindir=Path(state["bindir"]),
            primary_port=state["primary_port"], standby_port=state["standby_port"],
        ).destroy()  # fmt: skip
        STATE_FILE.unlink()
        print("stopped and removed")


if __name__ == "__main__":
    main()
