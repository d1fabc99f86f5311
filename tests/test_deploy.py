"""Production configuration, checked the way an operator meets it: in fresh processes.

Each test starts `manage.py` (or `docker compose`) with an environment built here, so the settings
module is imported anew with DEBUG=0. The database is whatever this test run uses (DATABASE_URL,
else the embedded server); none of these commands queries it.
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables that change what settings.py does; each test sets the ones it means.
SETTINGS_VARIABLES = {
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "DJANGO_SETTINGS_MODULE", "REDIS_URL", "EMAIL_HOST",
}  # fmt: skip


def production_env(**overrides: str | None) -> dict[str, str]:
    """The documented production environment (README, "Production"), with overrides; an override
    of None removes the variable."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL="redis://127.0.0.1:6379/0",  # never connected to by `check`
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_reports_no_issues_with_the_documented_production_env():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_check_deploy_warns_when_the_cache_is_not_shared():
    result = manage("check", "--deploy", env=production_env(REDIS_URL=None))
    output = result.stdout + result.stderr
    assert "mianjing.W001" in output
    assert "REDIS_URL" in output


def test_check_deploy_warns_about_a_short_secret_key():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="x")
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_production_refuses_to_start_with_an_empty_secret_key():
    result = manage("check", env=production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = manage("check", env=production_env(ALLOWED_HOSTS=None))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG=0" in result.stderr


def test_production_refuses_to_start_with_only_blank_allowed_hosts():
    result = manage("check", env=production_env(ALLOWED_HOSTS=" , "))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DEBUG=0" in result.stderr


# --- docker-compose.yml ------------------------------------------------------------------------


def docker_compose_available() -> tuple[bool, str]:
    if shutil.which("docker") is None:
        return False, "no docker client on PATH"
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"`docker compose version` failed: {error}"
    if probe.returncode != 0:
        return False, "the docker client has no compose plugin (`docker compose version` failed)"
    return True, ""


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    available, reason = docker_compose_available()
    if not available:
        pytest.skip(reason)
    return subprocess.run(
        ["docker", "compose", "--file", "docker-compose.yml", "config"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def compose_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without anything the compose file interpolates."""
    names = {"SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "DEBUG", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(overrides)
    return env


def test_docker_compose_accepts_the_compose_file():
    result = compose_config(compose_env(SECRET_KEY="a-secret-only-for-this-test"))
    assert result.returncode == 0, result.stderr
    assert "postgres:16" in result.stdout
    assert "redis:7" in result.stdout
    assert "--locale=C.UTF-8 --encoding=UTF8" in result.stdout


def test_docker_compose_refuses_to_run_without_secret_key():
    result = compose_config(compose_env())
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr
