"""Which errors mean "PostgreSQL is not there right now", and the bounded retry."""

from __future__ import annotations

import asyncpg
import pytest

from streamer.db.outage import database_unavailable, retry_db
from streamer.embedded.procs import free_port


def test_connection_errors_are_outages_and_misuse_is_not() -> None:
    assert database_unavailable(asyncpg.ConnectionDoesNotExistError("closed mid-query"))
    assert database_unavailable(asyncpg.CannotConnectNowError("the database is starting up"))
    assert database_unavailable(asyncpg.AdminShutdownError("terminating connection"))
    assert database_unavailable(asyncpg.TooManyConnectionsError("too many clients"))
    assert database_unavailable(asyncpg.InterfaceError("connection is closed"))
    assert not database_unavailable(asyncpg.InterfaceError("another operation is in progress"))
    assert not database_unavailable(asyncpg.DataError("invalid byte sequence"))
    assert not database_unavailable(asyncpg.UniqueViolationError("duplicate key"))
    # an OSError counts only when asyncpg raised it (not a file error of a handler)
    assert not database_unavailable(ConnectionRefusedError(111, "refused"))
    assert not database_unavailable(TimeoutError())
    wrapped = RuntimeError("while listing runs")
    wrapped.__cause__ = asyncpg.ConnectionDoesNotExistError("gone")
    assert database_unavailable(wrapped)


async def test_a_refused_connect_inside_asyncpg_is_an_outage() -> None:
    with pytest.raises(OSError) as info:
        await asyncpg.connect(f"postgresql://x@127.0.0.1:{free_port()}/x", timeout=5)
    assert database_unavailable(info.value)


async def test_retry_db_retries_outages_only_and_within_its_budget() -> None:
    tries: list[int] = []

    async def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise asyncpg.ConnectionDoesNotExistError("restarting")
        return "written"

    assert await retry_db(flaky, "row") == "written" and len(tries) == 3

    async def broken() -> str:
        raise asyncpg.UniqueViolationError("duplicate key")

    with pytest.raises(asyncpg.UniqueViolationError):
        await retry_db(broken, "row")

    async def down() -> str:
        tries.append(1)
        raise asyncpg.CannotConnectNowError("shutting down")

    tries.clear()
    with pytest.raises(asyncpg.CannotConnectNowError):
        await retry_db(down, "row", budget=1.0)
    assert 2 <= len(tries) <= 5  # 0.2 + 0.4 s of backoff, then the budget is spent
