"""PostgreSQL access: the asyncpg pool factory and ordered SQL migrations.

Migrations are the files ``NNNN_<name>.sql`` in ``streamer/migrations``. Each
runs inside its own transaction and is recorded in ``schema_version``; applying
again is a no-op. A session-level advisory lock serialises concurrent appliers
(the server and a worker starting together).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

__all__ = [
    "COMMAND_TIMEOUT",
    "CONNECT_TIMEOUT",
    "MIGRATIONS_DIR",
    "Migration",
    "MigrationError",
    "apply_migrations",
    "create_pool",
    "load_migrations",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME_RE = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.sql$")
_LOCK_KEY = 0x4A7DA6  # arbitrary, constant: "artdag migrations"
#: Seconds to open a connection: a server that does not answer fails the request
#: (503, :mod:`streamer.db.outage`) instead of hanging it.
CONNECT_TIMEOUT = 5.0
#: Seconds one statement may take before it is cancelled (same reason).
COMMAND_TIMEOUT = 60.0


class MigrationError(RuntimeError):
    """A migration file is malformed or failed; ``path`` names it."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out as Python objects.
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Create an asyncpg pool whose connections map json/jsonb to Python objects.

    Connects and statements are bounded (:data:`CONNECT_TIMEOUT`,
    :data:`COMMAND_TIMEOUT`); a connection the server closed (a restart) is
    replaced at its next acquire, so the pool recovers by itself.
    """
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        timeout=CONNECT_TIMEOUT,
        command_timeout=COMMAND_TIMEOUT,
    )
    assert pool is not None
    return pool


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """List the migrations in ``directory`` ordered by version.

    Raises:
        MigrationError: a ``.sql`` file is misnamed or two share a version.
    """
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME_RE.match(path.name)
        if not match:
            raise MigrationError(path, "expected a name like 0002_add_things.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(path, f"version {version} also used by {found[version].path.name}")
        found[version] = Migration(version, path)
    return [found[v] for v in sorted(found)]


async def apply_migrations(
    conn_or_pool: asyncpg.Connection | asyncpg.Pool, directory: Path = MIGRATIONS_DIR
) -> list[int]:
    """Apply the pending migrations in order; return the versions applied.

    Raises:
        MigrationError: naming the file whose SQL failed; its transaction is
            rolled back and later files are not applied.
    """
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with conn_or_pool.acquire() as conn:
            return await _apply(conn, directory)
    return await _apply(conn_or_pool, directory)


async def _apply(conn: Any, directory: Path) -> list[int]:
    migrations = load_migrations(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_version (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_version")}
        applied: list[int] = []
        for migration in migrations:
            if migration.version in done:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.path.name,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(migration.path, f"{type(exc).__name__}: {exc}") from exc
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
