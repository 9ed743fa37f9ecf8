"""docker/compose.yaml and docker/Dockerfile, checked without Docker (none on this machine).

The compose file is parsed with pyyaml, its ``${VAR:-default}`` interpolation
resolved as Compose does with an empty environment, and the resulting
environment fed to the real ``Settings.from_env``; the commands and health
checks that run ``artdag`` are parsed by the real CLI parser. The Dockerfile is
read instruction by instruction (continuations joined) and checked stage by
stage. The health-check script runs against a real HTTP server.
"""

from __future__ import annotations

import fnmatch
import http.server
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import streamer.settings
from streamer.entry.cli import build_parser
from streamer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
ARTDAG_SERVICES = ("l1-server", "l1-worker", "l1-monitor")
SPEC_VARIABLES = {  # the specification's configuration table
    "HOST",
    "PORT",
    "REDIS_URL",
    "DATABASE_URL",
    "CACHE_DIR",
    "IPFS_API",
    "IPFS_GATEWAY_URL",
    "IPFS_PRIMARY",
    "L1_PUBLIC_URL",
    "L2_SERVER",
    "L2_DOMAIN",
    "ARTDAG_CLUSTER_KEY",
}

# --- compose interpolation ---------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Resolve ``$$``, ``${V}``, ``${V:-d}``, ``${V-d}``, ``${V:?m}`` as Compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg, current = m.group("op"), m.group("arg") or "", env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?") and not current:
            raise AssertionError(f"compose requires {name}: {arg}")
        return current or ""

    return _INTERPOLATION.sub(sub, value)


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any]) -> dict[str, Any]:
    """The compose model as ``docker compose config`` would see it with no variables set."""
    return interpolate(raw_compose, {})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def settings_variables() -> set[str]:
    """Every variable ``Settings.from_env`` reads (from its source, so new ones are caught)."""
    source = inspect.getsource(streamer.settings.Settings.from_env)
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"REDIS_URL", "DATABASE_URL", "IPFS_API"} <= names  # the pattern still matches
    return names


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def artdag_args(test_or_command: list[str]) -> list[str] | None:
    """The arguments after ``artdag`` in a health-check test, or None if it does not run it."""
    words = list(test_or_command)
    if words and words[0] in ("CMD", "CMD-SHELL"):
        words = words[1:] if words[0] == "CMD" else shlex.split(words[1])
    return words[1:] if words and words[0] == "artdag" else None


# --- compose -------------------------------------------------------------------------


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


def _mount(service: dict[str, Any], target: str) -> str | None:
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            return source
    return None


def test_cache_dir_is_one_volume_shared_by_server_and_workers(
    services: dict[str, Any], compose: dict[str, Any]
) -> None:
    cache = Path(Settings.from_env(env_of(services["l1-server"])).storage.cache_dir)
    sources = set()
    for name in ("l1-server", "l1-worker"):
        mounts = {
            _mount(services[name], str(p)) for p in (cache, *cache.parents) if p != Path("/")
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
    assert _mount(services["postgres"], "/var/lib/postgresql/data") in declared
    assert _mount(services["ipfs"], "/data/ipfs") in declared
    assert _mount(services["redis"], "/data") in declared


def test_ipfs_listens_for_other_containers(services: dict[str, Any]) -> None:
    init_dir = _mount(services["ipfs"], "/container-init.d")
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


# --- Dockerfile ----------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_instructions() -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined; comments dropped."""
    logical = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.partition(" ")
        yield keyword.upper(), rest.strip()
        logical = ""
    assert not logical, "Dockerfile ends inside a continuation"


def stages() -> list[Stage]:
    out: list[Stage] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert m, f"unnamed stage: FROM {rest}"
            out.append(Stage(m.group(1), m.group(2)))
        elif out:
            out[-1].instructions.append((keyword, rest))
    return out


def last_stage() -> Stage:
    return stages()[-1]


def instructions_of(stage: Stage) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for keyword, rest in stage.instructions:
        found.setdefault(keyword, []).append(rest)
    return found


def global_args() -> dict[str, str]:
    args = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args[name] = value
    return args


def test_dockerfile_stages() -> None:
    names = [s.name for s in stages()]
    assert names == ["web", "builder", "runtime"]
    args = global_args()
    base = {s.name: re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], s.base) for s in stages()}
    assert base["web"].startswith("node:")
    assert base["builder"].startswith("python:3.11")
    assert base["runtime"].startswith("python:3.11") and "slim" in base["runtime"]


def test_web_stage_builds_the_assets() -> None:
    web = instructions_of(stages()[0])
    runs = " ".join(web["RUN"])
    assert "npm ci" in runs and "npm run build:css" in runs
    scripts = json.loads((ROOT / "web/package.json").read_text())["scripts"]
    assert "build/app.css" in scripts["build:css"]
    copies = instructions_of(last_stage())["COPY"]
    for asset in ("web/build", "hls.js/dist", "htmx.org/dist"):
        assert any(c.startswith("--from=web ") and asset in c for c in copies), asset


def test_builder_installs_the_pinned_set() -> None:
    builder = instructions_of(stages()[1])
    assert any("constraints.txt" in c for c in builder["COPY"])
    runs = " ".join(builder["RUN"])
    assert "-c constraints.txt" in runs and "pip install --no-deps -e /app" in runs
    for path in ("constraints.txt", "pyproject.toml", "web/package.json", "web/package-lock.json"):
        assert (ROOT / path).is_file(), path


def test_runtime_is_non_root_warm_and_has_no_ffmpeg_package() -> None:
    runtime = last_stage()
    seq = runtime.instructions
    users = [rest for kw, rest in seq if kw == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    user = users[-1]
    runs = " ".join(rest for kw, rest in seq if kw == "RUN")
    assert re.search(rf"useradd [^&]*--gid {user}\b[^&]* {user}(\s|$)", runs), runs
    assert "apt-get" not in runs and "ffmpeg" not in runs  # PyAV bundles FFmpeg
    env = " ".join(rest for kw, rest in seq if kw == "ENV")
    cache = re.search(r"NUMBA_CACHE_DIR=(\S+)", env)
    assert cache, "NUMBA_CACHE_DIR not set in the runtime stage"
    cache_dir = cache.group(1)
    user_at = seq.index(("USER", user))
    warm = [i for i, (kw, rest) in enumerate(seq) if kw == "RUN" and "warm_up()" in rest]
    assert warm and warm[0] > user_at  # compiled by the runtime user...
    owned = [
        rest
        for kw, rest in seq[:user_at]
        if kw == "RUN" and f"-o {user}" in rest and cache_dir in rest
    ]
    assert owned, "the numba cache directory is not created for the runtime user"
    last_copy = max(i for i, (kw, _) in enumerate(seq) if kw == "COPY")
    assert warm[0] > last_copy  # ...after the last change to the sources (mtime in the key)
    assert "from effects.warmup import warm_up" in seq[warm[0]][1]
    from effects.warmup import warm_up

    assert callable(warm_up)


def test_healthcheck_and_entrypoint() -> None:
    runtime = instructions_of(last_stage())
    (check,) = runtime["HEALTHCHECK"]
    assert '"/app/docker/healthcheck.py"' in check and "--interval=" in check
    assert (DOCKER / "healthcheck.py").is_file()
    assert runtime["CMD"] == ['["serve", "--no-worker"]']
    assert runtime["EXPOSE"] == ["8000"]


def test_dockerignore_keeps_what_the_build_needs() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(
            fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns
        )

    for path in (".venv", ".git", "web/node_modules", "tools/ipfs-node/node_modules"):
        assert ignored(path), path
    for path in (
        "pyproject.toml",
        "constraints.txt",
        "web/package.json",
        "web/package-lock.json",
        "web/templates",
        "docker/healthcheck.py",
        "effects/warmup.py",
        "streamer/cli.py",
    ):
        assert not ignored(path), path


# --- the health-check script against a real HTTP server ------------------------------


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = b'{"status": "ok"}' if self.path == "/health" else b"{}"
        self.send_response(type(self).status if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _run_check(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py")],
        env={**os.environ, "PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(("status", "code"), [(200, 0), (503, 1)])
def test_healthcheck_script(status: int, code: int) -> None:
    handler = type("Handler", (_Health,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = _run_check(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == code, result.stdout + result.stderr
    assert f"/health: {status}" in result.stdout


def test_healthcheck_script_no_server() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    result = _run_check(port)
    assert result.returncode == 1 and f"127.0.0.1:{port}/health" in result.stdout


# --- the Dockerfile's warm-up step, run as the build runs it ---------------------------


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_warm_up_step_fills_the_numba_cache_dir(tmp_path: Path) -> None:
    """The runtime stage's warm-up RUN line, in a shell, with NUMBA_CACHE_DIR on an
    empty directory: it compiles into that directory, and a second run (a container
    start) loads from it instead of compiling."""
    (line,) = [
        rest for kw, rest in last_stage().instructions if kw == "RUN" and "warm_up()" in rest
    ]
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    def run() -> float:
        result = subprocess.run(
            ["sh", "-c", line], env=env, cwd=ROOT, capture_output=True, text=True, timeout=800
        )
        assert result.returncode == 0, result.stdout + result.stderr
        m = re.search(r"numba warm-up: ([\d.]+) s", result.stdout)
        assert m, result.stdout
        return float(m.group(1))

    cold = run()
    index = list(cache.rglob("*.nbi"))
    objects = list(cache.rglob("*.nbc"))
    assert len(index) >= 10 and len(objects) >= len(index), (index, objects)
    # the image's cache holds the kernels of /app/effects, nothing from elsewhere
    assert all("effects" in p.parent.name or "kernels" in p.parent.name for p in index)
    warm = run()
    assert warm < cold / 2, (cold, warm)
