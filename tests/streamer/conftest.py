"""Fixtures for the streamer tests: per-test databases, Settings pointing at
the harness services, and helpers for process checks."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

from streamer.settings import Settings


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_dsn(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A brand-new empty database for one test, dropped afterwards."""
    import asyncpg

    name = f"artdag_streamer_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield urlunsplit(urlsplit(pg_admin_dsn)._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(pg_admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def db(fresh_dsn: str) -> AsyncIterator[Any]:
    """An asyncpg pool on a fresh, migrated database."""
    from streamer.db.pool import apply_migrations, create_pool

    pool = await create_pool(fresh_dsn, max_size=2)
    await apply_migrations(pool)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def service_settings(fresh_dsn: str, redis_url: str, tmp_path: Path) -> Settings:
    """Settings whose PostgreSQL/Redis are the harness services (not embedded)."""
    env = {
        "DATABASE_URL": fresh_dsn,
        "REDIS_URL": redis_url,
        "ARTDAG_DATA_DIR": str(tmp_path / "data"),
    }
    return Settings.from_env(env)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def pid_alive() -> Callable[[int], bool]:
    """``pid_alive(pid)``: True when the process exists and is not a zombie."""
    return _pid_alive
