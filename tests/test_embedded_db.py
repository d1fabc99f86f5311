"""`make run` without DATABASE_URL starts the embedded PostgreSQL; stopping the site with SIGTERM
(kill, systemd, docker stop), not only Ctrl-C, stops that server too (config/embedded_db.py).

Slow (initdb and a server start, some tens of seconds): it runs `manage.py runserver`, with its
autoreloader as `make run` does, on an embedded data directory of its own."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PORT = 8127


def _wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _listening() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", PORT)) == 0


def _postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    first_line = pid_file.read_text().splitlines()[:1]
    return int(first_line[0]) if first_line and first_line[0].isdigit() else None


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Every process whose command line names this data directory (the postmaster and its
    children carry `-D <dir>` or are its descendants)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "postgres" in command and str(data_dir) in command:
            found.append(process)
    return found


@pytest.fixture
def runserver(tmp_path):
    """`manage.py runserver` on an embedded database under tmp_path; stopped at the end in any
    case (SIGKILL to what is left, so a failing test leaves no processes behind)."""
    data_dir = tmp_path / "data"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(DATA_DIR=str(data_dir), DEBUG="1", PYTHONUNBUFFERED="1")
    log = (tmp_path / "runserver.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process, data_dir, tmp_path / "runserver.log"
    for leftover in [*_children(process.pid), *_postgres_processes(data_dir)]:
        leftover.kill()
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_sigterm_to_runserver_stops_the_embedded_postgres(runserver):
    process, data_dir, log = runserver
    _wait_for(lambda: process.poll() is not None or _listening(), seconds=180,
              what="runserver to listen")  # fmt: skip
    assert process.poll() is None, log.read_text()
    postmaster = _postmaster_pid(data_dir)
    assert postmaster is not None and psutil.pid_exists(postmaster), log.read_text()

    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)

    _wait_for(lambda: not psutil.pid_exists(postmaster), seconds=60,
              what=f"the embedded postmaster ({postmaster}) to stop")  # fmt: skip
    assert _postgres_processes(data_dir) == []
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
