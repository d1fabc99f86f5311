"""The benchmark's own database, `mianjing_bench`, next to the application's database.

The server is the one DATABASE_URL names, or else the embedded PostgreSQL under .data/postgres
(started through config.embedded_db, which keeps it running while this process lives). A small
table, bench_dataset, records which data set the database holds so a later run can reuse it.
"""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
# BENCH_DATABASE names another one (several checkouts sharing a server).
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "mianjing_bench")


def server_url() -> tuple[str, str]:
    """(a URL of a database on the server, a description without credentials)."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urlsplit(url)
        return url, f"DATABASE_URL server {parts.hostname or 'local socket'}:{parts.port or 5432}"
    from config.embedded_db import embedded_database_url

    data_dir = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))
    return embedded_database_url(data_dir / "postgres"), f"embedded ({data_dir / 'postgres'})"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connect(url: str) -> psycopg.Connection:
    """A connection for CREATE/DROP DATABASE: to the URL's database, or else to `postgres`."""
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError:
        return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def database_exists(admin_url: str, name: str) -> bool:
    with _admin_connect(admin_url) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def database_create(admin_url: str, name: str) -> None:
    """UTF-8 with a C.UTF-8 ctype, like config.embedded_db: the trigram and full-text parsers
    ignore CJK characters under LC_CTYPE=C."""
    with _admin_connect(admin_url) as connection:
        connection.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(name))
        )


def database_copy(admin_url: str, source: str, name: str) -> None:
    """A new database `name` holding what `source` holds (a file copy: fast; nobody may be
    connected to `source` meanwhile)."""
    with _admin_connect(admin_url) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )


def database_drop(admin_url: str, name: str) -> None:
    with _admin_connect(admin_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def dataset_get(url: str) -> dict | None:
    """What bench.generate wrote into this database, with its live question count; or None."""
    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SELECT to_regclass('bench_dataset')").fetchone()[0] is None:
            return None
        row = connection.execute("SELECT description FROM bench_dataset").fetchone()
        if (
            row is None
            or connection.execute("SELECT to_regclass('kb_question')").fetchone()[0] is None
        ):
            return None
        dataset = json.loads(row[0])
        dataset["questions_in_table"] = connection.execute(
            "SELECT count(*) FROM kb_question"
        ).fetchone()[0]
        return dataset


def dataset_record(url: str, description: dict) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_dataset (description text NOT NULL)")
        connection.execute("DELETE FROM bench_dataset")
        connection.execute(
            "INSERT INTO bench_dataset (description) VALUES (%s)", [json.dumps(description)]
        )


def vacuum_analyze(url: str) -> None:
    """Fresh statistics and a visibility map, as a database that has been running a while has."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def server_version(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]
