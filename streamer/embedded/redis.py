"""An embedded Redis under ``<root>`` (config, AOF, pid and log), on a loopback TCP port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from streamer.embedded.binaries import find_redis_server
from streamer.embedded.postgres import START_TIMEOUT
from streamer.embedded.procs import ServiceError, alive, cmdline, tail, wait_dead

__all__ = ["EmbeddedRedis"]


def _command(port: int, command: bytes, timeout: float) -> bytes | None:
    """Send one inline command; the first reply bytes, or None when nobody answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(command + b"\r\n")
            return sock.recv(64)
    except OSError:
        return None


class EmbeddedRedis:
    """One redis-server whose folder is ``root``.

    Args:
        root: config, data, pid and log live here.
        binary: the ``redis-server`` to run (found when None).
    """

    def __init__(self, root: Path, *, binary: Path | None = None) -> None:
        self.root = root
        self.conf = root / "redis.conf"
        self._binary = binary

    @staticmethod
    def url(port: int) -> str:
        """The URL of database 0 on ``port``."""
        return f"redis://127.0.0.1:{port}/0"

    @staticmethod
    def ping(port: int) -> bool:
        """Whether a Redis answers PING on ``port``."""
        reply = _command(port, b"PING", 1)
        return reply is not None and reply.startswith(b"+PONG")

    def pid(self) -> int | None:
        """The pid in ``redis.pid`` (may be stale)."""
        try:
            return int((self.root / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def is_ours(self, pid: int | None) -> bool:
        """Whether ``pid`` is a live redis-server running from this folder."""
        if pid is None or not alive(pid):
            return False
        args = cmdline(pid)
        if not args or "redis-server" not in " ".join(args):
            return False
        # redis rewrites its argv to "redis-server 127.0.0.1:PORT"; check its cwd too.
        try:
            return Path(os.readlink(f"/proc/{pid}/cwd")) == self.conf.parent
        except OSError:
            return str(self.conf) in " ".join(args)

    def running(self) -> bool:
        """Whether this folder's redis-server is up."""
        return self.is_ours(self.pid())

    def _write_conf(self, port: int) -> Path:
        pidfile, logfile = self.root / "redis.pid", self.root / "redis.log"
        lines = [
            "# written by artdag (streamer/embedded/redis.py); rewritten on each start",
            "bind 127.0.0.1",
            f"port {port}",
            "protected-mode no",
            "daemonize no",
            f'dir "{self.root}"',
            f'pidfile "{pidfile}"',
            f'logfile "{logfile}"',
            "appendonly yes",
            "save 60 1000",
            "",
        ]
        self.conf.write_text("\n".join(lines))
        return logfile

    def start(self, port: int) -> None:
        """Start redis-server on ``port`` and wait for PING.

        Raises:
            ServiceError: it exited or did not answer in time (log tail included).
        """
        binary = self._binary or find_redis_server()
        self.root.mkdir(parents=True, exist_ok=True)
        if (self.root / "redis.pid").exists() and not self.running():
            (self.root / "redis.pid").unlink()
        logfile = self._write_conf(port)
        proc = subprocess.Popen(
            [str(binary), str(self.conf)],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(f"redis-server exited with {proc.returncode}\n" + tail(logfile))
            if self.ping(port) and self.pid() == proc.pid:
                return
            time.sleep(0.05)
        proc.kill()
        raise ServiceError("redis-server did not answer PING in time\n" + tail(logfile))

    def stop(self, port: int | None) -> None:
        """SHUTDOWN over ``port`` (SIGTERM when it cannot be reached), SIGKILL as a last resort."""
        pid = self.pid()
        if pid is None or not self.is_ours(pid):
            (self.root / "redis.pid").unlink(missing_ok=True)
            return
        sent = port is not None and _command(port, b"SHUTDOWN", 2) is not None
        if not sent:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if not wait_dead(pid, 15):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_dead(pid, 5)
        if not alive(pid):
            (self.root / "redis.pid").unlink(missing_ok=True)
        # reap it if it is our own child (started by this process)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
