"""scripts/services/ipfs.sh and s3.sh: start, status, stop, and recovery after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "services"
NODE_MODULES = Path(__file__).resolve().parents[2] / "tools" / "ipfs-node" / "node_modules"


def _run(
    script: str, cmd: str, state: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / script), cmd, str(state)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _env(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _post_ok(url: str) -> bool:
    req = urllib.request.Request(url, method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as resp:
        ok: bool = resp.status == 200
        return ok


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(
    not NODE_MODULES.is_dir(), reason="js-ipfs not installed (ipfs.sh start installs it)"
)
def test_ipfs_script_recovers_from_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "ipfs"
    try:
        first = _run("ipfs.sh", "start", state)
        assert first.returncode == 0, first.stderr
        env = _env(first.stdout)
        assert env["API"].startswith("/ip4/127.0.0.1/tcp/")
        assert env["GATEWAY"].startswith("http://127.0.0.1:") and env["GATEWAY"].endswith("/ipfs")
        assert _run("ipfs.sh", "status", state).returncode == 0

        os.kill(int((state / "ipfs.pid").read_text()), signal.SIGKILL)
        time.sleep(0.5)
        assert (state / "repo" / "repo.lock").exists()  # what blocks a naive restart
        assert _run("ipfs.sh", "status", state).returncode == 1

        again = _run("ipfs.sh", "start", state)
        assert again.returncode == 0, again.stderr
        port = _env(again.stdout)["API"].rsplit("/", 1)[1]
        assert _post_ok(f"http://127.0.0.1:{port}/api/v0/id")
        # a restart keeps the node's addresses (clients holding them reconnect)
        assert _env(again.stdout) == env
    finally:
        stopped = _run("ipfs.sh", "stop", state, timeout=60)
    assert stopped.returncode == 0
    assert _run("ipfs.sh", "status", state).returncode == 1
    assert not (state / "repo" / "repo.lock").exists()


def test_s3_script_start_status_stop(tmp_path: Path) -> None:
    state = tmp_path / "s3"
    try:
        started = _run("s3.sh", "start", state, timeout=120)
        assert started.returncode == 0, started.stderr
        endpoint = _env(started.stdout)["ENDPOINT"]
        assert endpoint.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(endpoint + "/", timeout=10) as resp:
            assert resp.status == 200
        status = _run("s3.sh", "status", state)
        assert status.returncode == 0 and endpoint in status.stdout
    finally:
        assert _run("s3.sh", "stop", state).returncode == 0
    assert _run("s3.sh", "status", state).returncode == 1


def test_scripts_reject_bad_usage(tmp_path: Path) -> None:
    for script in ("ipfs.sh", "s3.sh"):
        done = _run(script, "restart", tmp_path)
        assert done.returncode == 2
        assert "usage" in done.stderr
