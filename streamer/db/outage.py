"""PostgreSQL outages: which errors mean "the database is not there right now", and retries.

One place decides it (:func:`database_unavailable`): the API answers those
errors with 503 and ``Retry-After`` (:mod:`api.errors`) instead of 500, and the
workers retry the run rows they must not lose (:func:`retry_db`). The asyncpg
pool heals by itself: a connection the server closed is dropped at its next
acquire and a new one is made, so nothing has to be restarted once PostgreSQL
is back.

What counts as an outage:

- ``asyncpg.PostgresConnectionError`` (the connection broke mid-query,
  ``ConnectionDoesNotExistError``, ``ConnectionFailureError``);
- ``OperatorInterventionError`` (``AdminShutdownError`` when the server stops,
  ``CannotConnectNowError`` while it starts or shuts down,
  ``CrashShutdownError``, a cancelled statement);
- ``TooManyConnectionsError``;
- ``InterfaceError`` on a closed connection;
- ``OSError`` (refused, reset, unreachable) and ``TimeoutError`` (the pool's
  bounded connect and command timeouts) raised inside asyncpg.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import asyncpg
from asyncpg import exceptions as pg_errors

__all__ = [
    "RETRY_AFTER_SECONDS",
    "RETRY_BUDGET_SECONDS",
    "UNAVAILABLE_DETAIL",
    "database_unavailable",
    "retry_db",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a client is told to wait before retrying (``Retry-After``, seconds).
RETRY_AFTER_SECONDS = 2
#: The detail of the API's 503 answer.
UNAVAILABLE_DETAIL = "database unavailable, retry"
#: How long a worker keeps retrying a row it must not lose (a run's final status).
RETRY_BUDGET_SECONDS = 600.0
_RETRY_FIRST, _RETRY_MAX = 0.2, 5.0

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    pg_errors.OperatorInterventionError,
    pg_errors.TooManyConnectionsError,
)


def _raised_in_asyncpg(tb: TracebackType | None) -> bool:
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def _one_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGE_TYPES):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc)  # not the misuse errors (another operation in progress)
    # a refused connect or a bounded timeout: only when asyncpg raised it
    return isinstance(exc, OSError | TimeoutError) and _raised_in_asyncpg(exc.__traceback__)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means PostgreSQL cannot be reached right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _one_unavailable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


async def retry_db(
    call: Callable[[], Awaitable[T]],
    what: str,
    *,
    budget: float = RETRY_BUDGET_SECONDS,
) -> T:
    """``await call()``, again with capped backoff while PostgreSQL is unavailable.

    Args:
        call: Makes a fresh awaitable per try (e.g. ``lambda: runs_db.update_run(...)``).
        what: For the log (``"run 1234 final status"``).
        budget: Give up after about this many seconds of outage.

    Raises:
        Whatever ``call`` raises that is not an outage, and the last outage error
        once ``budget`` is spent.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    delay = _RETRY_FIRST
    failures = 0
    while True:
        try:
            result = await call()
        except Exception as exc:
            if not database_unavailable(exc) or loop.time() + delay > deadline:
                raise
            failures += 1
            if failures == 1:
                log.warning("%s: PostgreSQL unavailable (%s); retrying", what, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
            continue
        if failures:
            log.info("%s: written after %d failed tries", what, failures)
        return result
