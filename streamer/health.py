"""Whether the backing services answer: PostgreSQL and Redis, each within a short timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from streamer.resources import Resources

__all__ = ["CHECK_TIMEOUT", "service_status"]

CHECK_TIMEOUT = 2.0


async def _check(probe: Awaitable[Any]) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


async def service_status(res: Resources) -> dict[str, str]:
    """``{"database": ..., "redis": ...}``: ``"ok"``, ``"not configured"`` or ``"error: ..."``."""
    db = res.db
    redis = res.redis
    result: dict[str, str] = {}
    result["database"] = await _check(db.fetchval("SELECT 1")) if db else "not configured"
    result["redis"] = await _check(redis.ping()) if redis else "not configured"
    return result
