"""The page cache is on by default, with or without Redis, and its versions are shared by every
web process: checked in fresh processes, the way `make run` (DEBUG=1) and `make serve` (DEBUG=0,
gunicorn's workers) import the settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SHOW = (
    "from django.conf import settings as s; "
    "print(s.PAGE_CACHE_ENABLED, s.CACHES[s.PAGE_VERSIONS_CACHE]['BACKEND'].rsplit('.', 1)[-1])"
)


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PAGE_CACHE", "DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.org",
    )
    env.update(overrides)
    return env


def shell(command: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_cache_is_on_without_redis_in_development_and_in_production(tmp_path):
    assert shell(SHOW, _env(tmp_path, DEBUG="1")) == "True LocMemCache"
    assert shell(SHOW, _env(tmp_path, DEBUG="0")) == "True FileBasedCache"
    assert shell(SHOW, _env(tmp_path, DEBUG="0", PAGE_CACHE="0")) == "False FileBasedCache"


def test_without_redis_a_write_in_one_worker_moves_the_version_another_worker_reads(tmp_path):
    # Two gunicorn workers are two processes: each shell below is one of them.
    env = _env(tmp_path, DEBUG="0")
    read = "from kb.services import page_cache as p; print(p.versions_get(['list'])['list'])"
    before = shell(read, env)
    assert shell(read, env) == before  # a version, once started, is shared
    shell("from kb.services import page_cache as p; p._bump_now(['list'])", env)
    assert shell(read, env) != before
