"""docker/compose.yaml, checked without Docker (none on this machine).

The compose file is parsed with pyyaml, its ``${VAR:-default}`` interpolation
resolved as Compose does with an empty environment, and the resulting
environment fed to the real ``Settings.from_env``; the commands and health
checks that run ``artdag`` are parsed by the real CLI parser. The Dockerfile
is checked in test_dockerfile.py, the health-check script in
test_docker_healthcheck.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamer.entry.cli import build_parser
from streamer.settings import Settings
from tests.docker.compose_model import (
    ARTDAG_SERVICES,
    SPEC_VARIABLES,
    artdag_args,
    env_of,
    interpolate,
    mount_source,
    settings_variables,
)
from tests.docker.docker_files import COMPOSE, DOCKERFILE, ROOT, instructions_of, last_stage


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any]) -> dict[str, Any]:
    """The compose model as ``docker compose config`` would see it with no variables set."""
    model: dict[str, Any] = interpolate(raw_compose, {})
    return model


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_the_spec_stack_and_nothing_else(services: dict[str, Any]) -> None:
    assert set(services) == {"redis", "postgres", "ipfs", *ARTDAG_SERVICES}


def test_images_and_versions(services: dict[str, Any], raw_compose: dict[str, Any]) -> None:
    assert re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", services["redis"]["image"])
    assert re.fullmatch(r"postgres:16(\.\d+)*(-\w+)?", services["postgres"]["image"])
    assert re.fullmatch(r"ipfs/kubo:v\d+\.\d+\.\d+", services["ipfs"]["image"])  # pinned
    images = {services[name]["image"] for name in ARTDAG_SERVICES}
    assert len(images) == 1, images  # one image for server, workers and monitor
    for name in ARTDAG_SERVICES:
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DOCKERFILE
    # the anchors are used, not copies that could drift apart
    assert "x-artdag-env" in raw_compose and "x-artdag-image" in raw_compose


def test_postgres_has_the_artdag_user_and_database(services: dict[str, Any]) -> None:
    env = env_of(services["postgres"])
    assert env["POSTGRES_USER"] == "artdag" and env["POSTGRES_DB"] == "artdag"
    assert env["POSTGRES_PASSWORD"]
    url = Settings.from_env(env_of(services["l1-server"])).services.database_url
    assert url == f"postgresql://artdag:{env['POSTGRES_PASSWORD']}@postgres:5432/artdag"


def test_server_environment_has_every_variable_and_parses(services: dict[str, Any]) -> None:
    env = env_of(services["l1-server"])
    missing = (settings_variables() | SPEC_VARIABLES) - set(env)
    assert not missing, f"l1-server lacks {sorted(missing)}"
    settings = Settings.from_env(env)
    assert not settings.services.embedded  # both URLs set: no embedded PostgreSQL/Redis
    assert settings.services.redis_url == "redis://redis:6379/5"
    api = settings.ipfs.api
    assert (api.protocol, api.host, api.port) == ("dns", "ipfs", 5001)
    assert str(settings.storage.cache_dir) == "/data/cache"
    assert settings.server.public_url == "http://localhost:8100"
    assert settings.server.host == "0.0.0.0"
    # the published port reaches the server's PORT (L1_PUBLIC_URL's default port)
    assert f"8100:{settings.server.port}" in services["l1-server"]["ports"]


def test_workers_and_monitor_share_the_server_configuration(services: dict[str, Any]) -> None:
    server = Settings.from_env(env_of(services["l1-server"]))
    for name in ("l1-worker", "l1-monitor"):
        env = env_of(services[name])
        # HOST/PORT only bind the HTTP server
        assert not (settings_variables() - {"HOST", "PORT"} - set(env)), name
        other = Settings.from_env(env)
        assert other.services == server.services, name
        assert other.storage.cache_dir == server.storage.cache_dir, name
        assert other.ipfs == server.ipfs and other.hls == server.hls, name
        assert other.federation == server.federation, name


def test_cache_dir_is_one_volume_shared_by_server_and_workers(
    services: dict[str, Any], compose: dict[str, Any]
) -> None:
    cache = Path(Settings.from_env(env_of(services["l1-server"])).storage.cache_dir)
    sources = set()
    for name in ("l1-server", "l1-worker"):
        mounts = {
            mount_source(services[name], str(p)) for p in (cache, *cache.parents) if p != Path("/")
        } - {None}
        assert len(mounts) == 1, f"{name}: CACHE_DIR {cache} is not on one volume"
        sources |= mounts
    (volume,) = sources
    assert volume in compose["volumes"]  # a named volume, declared


def test_commands_parse_with_the_real_cli(services: dict[str, Any]) -> None:
    parser = build_parser()
    # the image's ENTRYPOINT is `artdag`, so `command` is artdag's argument list
    assert instructions_of(last_stage())["ENTRYPOINT"] == ['["artdag"]']
    server = parser.parse_args(services["l1-server"]["command"])
    assert server.no_worker is True and server.func.__module__ == "streamer.entry.commands.serve"
    worker = parser.parse_args(services["l1-worker"]["command"])
    assert worker.action == "run" and worker.func.__module__ == "streamer.entry.commands.worker"
    assert worker.concurrency >= 1
    monitor = parser.parse_args(services["l1-monitor"]["command"])
    assert monitor.action == "status" and monitor.watch and monitor.watch > 0
    assert monitor.iterations is None  # runs until stopped


def test_every_service_has_a_health_check(services: dict[str, Any]) -> None:
    parser = build_parser()
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no health check"
        test = check["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), name
        assert check["interval"] and check["retries"] >= 1, name
        args = artdag_args(test)
        if args is not None:  # runs our CLI: it must parse
            parser.parse_args(args)
    assert services["l1-server"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "/app/docker/healthcheck.py",
    ]
    worker_args = artdag_args(services["l1-worker"]["healthcheck"]["test"])
    assert worker_args and parser.parse_args(worker_args).local is True  # this replica's worker
    assert "PONG" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "--api=/ip4/127.0.0.1/tcp/5001" in services["ipfs"]["healthcheck"]["test"]


def test_two_worker_replicas(services: dict[str, Any]) -> None:
    worker = services["l1-worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker and "ports" not in worker  # replicas would clash
    assert worker["stop_grace_period"]


def test_depends_on_waits_for_healthy_services(services: dict[str, Any]) -> None:
    for name in ("l1-server", "l1-worker"):
        deps = services[name]["depends_on"]
        assert set(deps) == {"redis", "postgres", "ipfs"}, name
    assert set(services["l1-monitor"]["depends_on"]) == {"redis", "l1-worker"}
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dep}"
            assert dep in services and "healthcheck" in services[dep], f"{name} -> {dep}"
    # no cycles: a topological order exists
    order: list[str] = []
    pending = dict(services)
    while pending:
        ready = [n for n, s in pending.items() if set(s.get("depends_on", {})) <= set(order)]
        assert ready, f"depends_on cycle among {sorted(pending)}"
        order += ready
        for n in ready:
            del pending[n]


def test_volumes_are_declared_and_binds_exist(
    services: dict[str, Any], compose: dict[str, Any]
) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (COMPOSE.parent / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"
                used.add(source)
    assert used == declared
    assert mount_source(services["postgres"], "/var/lib/postgresql/data") in declared
    assert mount_source(services["ipfs"], "/data/ipfs") in declared
    assert mount_source(services["redis"], "/data") in declared


def test_ipfs_listens_for_other_containers(services: dict[str, Any]) -> None:
    init_dir = mount_source(services["ipfs"], "/container-init.d")
    assert init_dir is not None
    script = COMPOSE.parent / init_dir / "001-listen.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "Addresses.API /ip4/0.0.0.0/tcp/5001" in text
    assert "Addresses.Gateway /ip4/0.0.0.0/tcp/8080" in text
    # the gateway the browser is sent to is the published one
    gateway = Settings.from_env(env_of(services["l1-server"])).ipfs.gateway_url
    assert gateway == "http://localhost:8080/ipfs"
    assert "127.0.0.1:8080:8080" in services["ipfs"]["ports"]
    assert not any("5001" in str(p) for p in services["ipfs"]["ports"])  # RPC stays internal


def test_required_overrides_are_honoured(raw_compose: dict[str, Any]) -> None:
    env = {"POSTGRES_PASSWORD": "s3cret", "L1_PUBLIC_URL": "https://l1.example.org"}
    services = interpolate(raw_compose, env)["services"]
    settings = Settings.from_env(env_of(services["l1-server"]))
    assert settings.services.database_url == "postgresql://artdag:s3cret@postgres:5432/artdag"
    assert env_of(services["postgres"])["POSTGRES_PASSWORD"] == "s3cret"
    assert settings.server.public_url == "https://l1.example.org"
