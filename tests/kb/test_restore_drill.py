"""The restore drill: a backup made with `export_kb --with-credentials`, loaded with `import_kb`
into a new, empty, migrated database (as an operator would, in a subprocess) and re-indexed with
`reindex_search --all`, holds every table row by row as the site it came from.

Tables a restore does not carry, each with the reason (docs/dump-format.md, "Never exported"),
are listed in NOT_RESTORED; the test fails when a table is neither compared nor listed there, so a
new table cannot be forgotten by the backup.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import psycopg.types.string
import pytest
from django.core.management import call_command
from django.db import connection

from tests.kb.test_dump import populated  # noqa: F401 (the fixture: a row in every table)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

NOT_RESTORED = {
    "django_migrations": "written by `migrate` on the new database",
    "django_content_type": "written by `migrate`",
    "auth_permission": "written by `migrate`",
    "auth_group_permissions": "unused: permissions come from the rulebook, not Django groups",
    "accounts_user_user_permissions": "unused, as above",
    "django_session": "sessions are not backed up: members log in again",
    "django_admin_log": "the Django admin's own history is not part of the site",
    "axes_accessattempt": "login-attempt records (django-axes) start afresh",
    "axes_accessfailurelog": "as above",
    "axes_accesslog": "as above",
    "axes_accessattemptexpiration": "as above",
    "accounts_apitoken": "API tokens are credentials of the running site: members issue new ones",
    "kb_change": "the change feed restarts: a restored site's triggers record every imported row "
    "as created, with the new database's transaction ids (mirrors start again from a dump)",
}

# Tables whose surrogate ids a restore makes anew: compared by what identifies a row.
BY_NATURAL_KEY = {
    "auth_group": "SELECT name FROM auth_group ORDER BY name",
    "accounts_user_groups": (
        "SELECT ug.user_id, g.name FROM accounts_user_groups ug "
        "JOIN auth_group g ON g.id = ug.group_id ORDER BY 1, 2"
    ),
    "kb_tagalias": "SELECT tag_id, name FROM kb_tagalias ORDER BY 1, 2",
    "kb_question_tags": "SELECT question_id, tag_id FROM kb_question_tags ORDER BY 1, 2",
    "kb_searchword": "SELECT word FROM kb_searchword ORDER BY 1",
}

# Tables the populated site leaves empty on purpose (none today): the drill must see rows in
# every compared table, or it proves nothing about it.
MAY_BE_EMPTY: set[str] = set()


def _tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def _rows(cursor, table: str) -> list[tuple]:
    query = BY_NATURAL_KEY.get(table) or f'SELECT * FROM "{table}" ORDER BY 1'  # noqa: S608
    cursor.execute(query)
    return cursor.fetchall()


def _manage(*args: str, database_url: str) -> None:
    environment = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def empty_database():
    """A new database of its own (dropped afterwards); its URL."""
    settings = connection.settings_dict
    name = f"{settings['NAME']}_restore"
    server = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }

    def admin(statement: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin_connection:
            admin_connection.execute(statement)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    password = f":{server['password']}" if server["password"] else ""
    url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    yield url, {**server, "dbname": name}
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_every_table_row_by_row(populated, empty_database, tmp_path):  # noqa: F811
    url, target = empty_database
    backup = tmp_path / "backup.jsonl"
    call_command("export_kb", str(backup), "--with-credentials", stdout=io.StringIO())
    call_command("reindex_search", "--all", stdout=io.StringIO())  # the source's index, afresh

    _manage("migrate", "--noinput", database_url=url)
    _manage("import_kb", str(backup), database_url=url)
    _manage("reindex_search", "--all", database_url=url)

    with connection.cursor() as cursor, psycopg.connect(**target) as restored:
        # Django reads jsonb as text (it parses JSON itself): read it the same way here.
        restored.adapters.register_loader("jsonb", psycopg.types.string.TextLoader)
        source_tables = _tables(cursor)
        with restored.cursor() as restored_cursor:
            assert _tables(restored_cursor) == source_tables
            compared = [t for t in source_tables if t not in NOT_RESTORED]
            differences, empty = [], []
            for table in compared:
                original = _rows(cursor, table)
                if not original and table not in MAY_BE_EMPTY:
                    empty.append(table)
                restored_rows = _rows(restored_cursor, table)
                if restored_rows != original:
                    first = next(
                        (pair for pair in zip(original, restored_rows, strict=False)
                         if pair[0] != pair[1]),
                        (len(original), len(restored_rows)),
                    )  # fmt: skip
                    differences.append((table, first))
    assert differences == [], "\n".join(
        f"{table}: {[(i, a, b) for i, (a, b) in enumerate(zip(*pair, strict=False)) if a != b]}"
        if isinstance(pair[0], tuple)
        else f"{table}: {pair[0]} rows, restored {pair[1]}"
        for table, pair in differences
    )
    assert empty == [], "the drill has no rows in these tables, so it proves nothing about them"
    assert {"kb_reviewvote", "kb_closevote", "notifications_questionfollow"} <= set(compared)
