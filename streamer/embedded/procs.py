"""Process and port helpers of the embedded services: who is alive, which port is free."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

__all__ = [
    "ServiceError",
    "alive",
    "cmdline",
    "free_port",
    "port_free",
    "port_open",
    "run_checked",
    "tail",
    "wait_dead",
]


class ServiceError(RuntimeError):
    """An embedded service could not be started, inspected or stopped."""


def free_port(avoid: frozenset[int] = frozenset({5432, 6379})) -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise ServiceError("no free TCP port found on 127.0.0.1")


def port_free(port: int) -> bool:
    """Whether a server could bind ``port`` on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the servers do: TIME_WAIT leftovers of a just-stopped server don't count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` (empty when it is gone or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return True


def wait_dead(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for ``pid`` to end; True when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def run_checked(argv: list[str], what: str) -> None:
    """Run a service tool in its own session.

    Raises:
        ServiceError: it exited non-zero (with the end of its output).
    """
    proc = subprocess.run(argv, capture_output=True, text=True, start_new_session=True, timeout=120)
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()[-2000:]
        raise ServiceError(f"{what} failed (exit {proc.returncode}): {output}")


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' when unreadable)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
