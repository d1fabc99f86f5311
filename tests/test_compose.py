"""docker-compose.yml as a scalable deployment: read with PyYAML (no Docker daemon needed).

`docker compose up --scale web=3` needs: web copies that publish no port and carry no fixed name,
a proxy in front with the only published port, one migration job before any web server, a replica
service streaming from the primary, and health checks on every long-running service.
tests/test_deploy.py also runs `docker compose config` where the compose plugin exists.
"""

from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
LONG_RUNNING = ("postgres", "postgres-replica", "redis", "web", "proxy")


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def test_web_can_be_scaled(services):
    web = services["web"]
    assert "ports" not in web  # copies would fight over a published port
    assert "container_name" not in web
    assert "migrate" not in " ".join(web["command"])  # copies must not migrate at once


def test_the_proxy_is_the_only_way_in(services):
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    mount = next(v for v in services["proxy"]["volumes"] if "nginx.conf" in v)
    nginx = (BASE_DIR / mount.split(":")[0]).read_text(encoding="utf-8")
    assert "server web:8000 resolve" in nginx  # every copy, found again as they come and go
    assert "proxy_pass http://web;" in nginx


def test_migrations_run_once_before_web_servers_start(services):
    assert "manage.py migrate" in " ".join(services["migrate"]["command"])
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "mailer"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_every_long_running_service_has_a_health_check(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name


def test_web_health_check_asks_healthz_and_readyz(services):
    test = " ".join(services["web"]["healthcheck"]["test"])
    assert "/healthz" in test
    assert "/readyz" in test


def test_web_reads_from_the_replica_and_shares_redis(services):
    environment = services["web"]["environment"]
    assert "@postgres-replica:5432/" in environment["DATABASE_REPLICA_URLS"]
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:")


def test_the_replica_streams_from_the_primary(services):
    primary = " ".join(services["postgres"]["command"])
    assert "wal_level=replica" in primary
    init = next(v for v in services["postgres"]["volumes"] if "primary-init" in v)
    assert "REPLICATION" in (BASE_DIR / init.split(":")[0]).read_text(encoding="utf-8")
    replica = services["postgres-replica"]
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    entrypoint = next(v for v in replica["volumes"] if "replica-entrypoint" in v)
    script = (BASE_DIR / entrypoint.split(":")[0]).read_text(encoding="utf-8")
    assert "pg_basebackup --host=postgres" in script
    assert "--write-recovery-conf" in script
    assert "hot_standby=on" in script
    assert replica["volumes"][0].split(":")[0] != services["postgres"]["volumes"][0].split(":")[0]
