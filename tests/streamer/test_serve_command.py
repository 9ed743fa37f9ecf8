"""`artdag serve` as a real subprocess on the embedded default."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from streamer.embedded.stack import EmbeddedStack, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # outside pytest's basetemp (see test_embedded_stack.py)
    path = Path(tempfile.mkdtemp(prefix="artdag-serve-", dir="/tmp"))
    try:
        yield path
    finally:
        EmbeddedStack(path / "services").down()
        shutil.rmtree(path, ignore_errors=True)


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(ARTDAG_DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1", **extra)
    return env


def _artdag(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamer.entry.cli", *args]


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 90) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "serving on " in line:
            return line.split("serving on ", 1)[1].strip()
    raise AssertionError("serve never printed its URL:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


def test_serve_embedded_answers_and_exits_cleanly(
    data_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        _artdag("serve"),
        env=_env(data_dir, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = _wait_for_url(proc)
        assert url == f"http://127.0.0.1:{port}/"
        assert proc.stdout is not None
        sign_in = proc.stdout.readline()
        assert "sign in" in sign_in, sign_in
        link = sign_in.rsplit(" ", 1)[1].strip()
        assert link.startswith(f"http://localhost:{port}/auth/link/")
        signed = httpx.get(link.replace("localhost", "127.0.0.1"), timeout=10)
        assert signed.status_code == 303 and "artdag_session" in signed.cookies
        index = httpx.get(url, timeout=10)
        assert index.status_code == 200
        body = index.json()
        assert body["services"] == {"database": "ok", "redis": "ok"}
        assert body["embedded_services"] is True
        assert httpx.get(url + "health", timeout=10).status_code == 200
        assert httpx.get(url + "docs", timeout=10).status_code == 200
        status = EmbeddedStack(data_dir / "services").status()
        pg_pid, redis_pid = status["postgres"]["pid"], status["redis"]["pid"]
        assert pg_pid and redis_pid
        # IPFS_API unset: an offline node of its own, listed with the services
        ipfs_pid = status["ipfs"]["pid"]
        assert ipfs_pid and pid_alive(ipfs_pid) and status["ipfs"]["api"]
        assert (
            json.loads((data_dir / "services" / "state.json").read_text())["owner_pid"] == proc.pid
        )
    finally:
        code = _stop(proc)
    assert code == 0
    assert not pid_alive(pg_pid), "postgres left running"
    assert not pid_alive(redis_pid), "redis left running"
    assert not pid_alive(ipfs_pid), "the IPFS node left running"
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)


def test_serve_reuses_a_detached_stack_and_leaves_it_running(
    data_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    env = _env(data_dir, free_port())
    up = subprocess.run(_artdag("services", "up"), env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    assert "DATABASE_URL=postgresql://artdag:artdag@127.0.0.1:" in up.stdout
    status = EmbeddedStack(data_dir / "services").status()
    pg_pid = status["postgres"]["pid"]

    proc = subprocess.Popen(
        _artdag("serve", "--no-worker"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = _wait_for_url(proc)
        assert httpx.get(url + "health", timeout=10).status_code == 200
    finally:
        assert _stop(proc) == 0
    assert pid_alive(pg_pid), "serve stopped a stack it did not start"

    down = subprocess.run(_artdag("services", "down"), env=env, capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    assert not pid_alive(pg_pid)
    st = subprocess.run(_artdag("services", "status"), env=env, capture_output=True, text=True)
    assert st.returncode == 1 and "stopped" in st.stdout


def test_serve_with_urls_set_starts_nothing(data_dir: Path, fresh_dsn: str, redis_url: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        _artdag("serve", "--no-worker"),
        # every service configured (IPFS_API too: unset, serve would start a node)
        env=_env(
            data_dir,
            port,
            DATABASE_URL=fresh_dsn,
            REDIS_URL=redis_url,
            IPFS_API="/ip4/127.0.0.1/tcp/1",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = _wait_for_url(proc)
        body = httpx.get(url, timeout=10).json()
        assert body["embedded_services"] is False
        assert body["services"] == {"database": "ok", "redis": "ok"}
    finally:
        assert _stop(proc) == 0
    assert not (data_dir / "services").exists()


def test_serve_fails_cleanly_when_the_port_is_taken(
    data_dir: Path, pid_alive: Callable[[int], bool]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            _artdag("serve"), env=_env(data_dir, port), capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1, done.stderr
    assert "failed to start" in done.stderr and "address already in use" in done.stderr
    state = json.loads((data_dir / "services" / "state.json").read_text())
    status = EmbeddedStack(data_dir / "services").status()
    assert not status["postgres"]["running"] and not status["redis"]["running"]
    assert state["pg_pid"] is None or not pid_alive(state["pg_pid"])


@pytest.mark.parametrize(
    ("env", "port", "public"),
    [
        ({}, 8765, "http://localhost:8765"),  # follows the port served
        ({"PORT": "8123"}, None, "http://localhost:8123"),
        ({"L1_PUBLIC_URL": "https://l1.example.org"}, 8765, "https://l1.example.org"),
    ],
)
def test_public_url_names_this_server_unless_set(
    env: dict[str, str], port: int | None, public: str
) -> None:
    from streamer.entry.commands.serve import served_settings
    from streamer.settings import Settings

    settings = served_settings(Settings.from_env(env), None, port)
    assert settings.server.public_url.rstrip("/") == public


def test_bad_port_is_refused() -> None:
    from streamer.entry.commands.serve import served_settings
    from streamer.settings import Settings

    with pytest.raises(ValueError, match="--port 0"):
        served_settings(Settings.from_env({}), None, 0)
