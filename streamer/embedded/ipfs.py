"""An embedded, offline IPFS node under ``<root>``: Kubo when ``ipfs`` is on PATH, else js-ipfs.

js-ipfs is the project's own offline node (``tools/ipfs-node``, installed with
``npm ci``; a checkout only). Either way the node binds its RPC API, gateway
and swarm to 127.0.0.1, has no bootstrap peers and no discovery: it serves
what this machine adds, which is what the live HLS path needs (segments and
playlists added as they are made, the playlist CID through the callback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamer.embedded.procs import ServiceError, alive, tail, wait_dead

__all__ = ["EmbeddedIPFS", "IPFSPorts", "find_ipfs_node"]

log = logging.getLogger(__name__)

START_TIMEOUT = 90.0  # js-ipfs takes a while on its first start
#: The project's own node, beside the packages in a checkout.
NODE_DIR = Path(__file__).resolve().parents[2] / "tools" / "ipfs-node"


@dataclass(frozen=True)
class IPFSPorts:
    """The node's loopback ports."""

    api: int
    gateway: int
    swarm: int

    @property
    def api_multiaddr(self) -> str:
        """The RPC API as ``IPFS_API`` takes it."""
        return f"/ip4/127.0.0.1/tcp/{self.api}"

    @property
    def gateway_url(self) -> str:
        """The node's gateway as ``IPFS_GATEWAY_URL`` takes it."""
        return f"http://127.0.0.1:{self.gateway}/ipfs"


def find_ipfs_node(node_dir: Path = NODE_DIR) -> tuple[str, Path] | None:
    """``("kubo", ipfs)`` when Kubo is on PATH, ``("js-ipfs", jsipfs)`` when the
    project's node is installed, else None."""
    kubo = shutil.which("ipfs")
    if kubo:
        return "kubo", Path(kubo)
    jsipfs = node_dir / "node_modules" / ".bin" / "jsipfs"
    if jsipfs.exists():
        return "js-ipfs", jsipfs
    return None


def _config(ports: IPFSPorts) -> dict[str, Any]:
    """The settings that keep the node local and offline."""
    return {
        "Addresses": {
            "Swarm": [f"/ip4/127.0.0.1/tcp/{ports.swarm}"],
            "Announce": [],
            "NoAnnounce": [],
            "API": ports.api_multiaddr,
            "Gateway": f"/ip4/127.0.0.1/tcp/{ports.gateway}",
        },
        "Bootstrap": [],
        "Discovery": {"MDNS": {"Enabled": False}},
    }


def _merge(config: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


class EmbeddedIPFS:
    """One IPFS node whose repo is ``<root>/repo``.

    Args:
        root: repo, pid file and log live here.
        node: ``(kind, binary)`` as :func:`find_ipfs_node` gives (found when None).
    """

    def __init__(self, root: Path, *, node: tuple[str, Path] | None = None) -> None:
        self.root = root
        self.repo = root / "repo"
        self.pidfile = root / "ipfs.pid"
        self.logfile = root / "ipfs.log"
        self._node = node

    @property
    def node(self) -> tuple[str, Path]:
        """The node kind and binary.

        Raises:
            ServiceError: neither Kubo nor the project's js-ipfs node is installed.
        """
        if self._node is None:
            self._node = find_ipfs_node()
        if self._node is None:
            raise ServiceError(
                "no IPFS node: install Kubo (`ipfs` on PATH) or run `npm ci` in "
                f"{NODE_DIR} (scripts/bootstrap.sh does); or pass --no-ipfs"
            )
        return self._node

    def pid(self) -> int | None:
        """The node's recorded pid (may be stale)."""
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        """Whether the recorded node process is alive."""
        return alive(self.pid())

    @staticmethod
    def api_ready(port: int) -> bool:
        """Whether the RPC API answers ``POST /api/v0/id`` on ``port``."""
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v0/id", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _configure(self, kind: str, binary: Path, ports: IPFSPorts) -> list[str]:
        """Write the repo config; the daemon's argv."""
        self.root.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "IPFS_PATH": str(self.repo)}
        config_file = self.repo / "config"
        fresh = not config_file.exists()
        if kind == "kubo":
            if fresh:
                argv = [str(binary), "init", "--profile", "test", "--empty-repo"]
                subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)
            doc = _merge(json.loads(config_file.read_text()), _config(ports))
            config_file.write_text(json.dumps(doc, indent=2))
            return [str(binary), "daemon", "--offline"]
        # js-ipfs re-applies --init-profile on every start: pass it only when initialising
        if fresh:
            init = self.root / "init-config.json"
            init.write_text(json.dumps(_config(ports)))
            base = [str(binary), "daemon", "--enable-preload=false"]
            return [*base, "--init-profile", "test", "--init-config", str(init)]
        doc = _merge(json.loads(config_file.read_text()), _config(ports))
        config_file.write_text(json.dumps(doc, indent=2))
        return [str(binary), "daemon", "--enable-preload=false"]

    def start(self, ports: IPFSPorts) -> None:
        """Start the daemon and wait until its API answers.

        Raises:
            ServiceError: no node installed, it exited, or it did not answer in time.
        """
        kind, binary = self.node
        for name in ("repo.lock", "api"):  # a killed daemon leaves them and blocks the next
            (self.repo / name).unlink(missing_ok=True)
        argv = self._configure(kind, binary, ports)
        with open(self.logfile, "ab") as log_fh:
            proc = subprocess.Popen(
                argv,
                env={**os.environ, "IPFS_PATH": str(self.repo)},
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(f"{kind} exited with {proc.returncode}\n{tail(self.logfile)}")
            if self.api_ready(ports.api):
                log.info("embedded IPFS (%s) on %s", kind, ports.api_multiaddr)
                return
            time.sleep(0.1)
        proc.kill()
        raise ServiceError(
            f"{kind} did not answer on port {ports.api} in time\n{tail(self.logfile)}"
        )

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 15 s); clears the locks a killed daemon leaves."""
        pid = self.pid()
        if pid is not None and alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not wait_dead(pid, 15):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                wait_dead(pid, 5)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        self.pidfile.unlink(missing_ok=True)
        for name in ("repo.lock", "api"):
            (self.repo / name).unlink(missing_ok=True)
