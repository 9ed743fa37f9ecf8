"""arq job functions. They must live at module level: arq finds them by name.

Each job receives arq's ``ctx``, holding the worker's
:class:`~streamer.resources.Resources` (read with
:func:`streamer.resources.resources_of`); see :mod:`streamer.entry.worker`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from streamer.jobs.chunk_render import render_chunk
from streamer.jobs.chunk_supervisor import OWNER_FUNCTIONS
from streamer.jobs.execute import EXEC_FUNCTIONS
from streamer.jobs.federation import FEDERATION_FUNCTIONS
from streamer.jobs.render import render_run
from streamer.jobs.replicate import REPLICATE_FUNCTIONS
from streamer.resources import resources_of

__all__ = ["JOB_FUNCTIONS", "ping", "render_chunk", "render_run"]


async def ping(ctx: dict[str, Any], message: str = "ping") -> dict[str, Any]:
    """Round trip through the worker: touches PostgreSQL and Redis and echoes.

    Returns:
        ``{"pong": message, "database": 1, "redis": True, "worker": "host:pid",
        "job_id": ..., "try": n}``
    """
    res = resources_of(ctx)
    database = await res.db.fetchval("SELECT 1")
    redis_ok = bool(await res.redis.ping())
    return {
        "pong": message,
        "database": database,
        "redis": redis_ok,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "job_id": ctx.get("job_id"),
        "try": ctx.get("job_try"),
    }


# plain coroutines, or arq ``func(...)`` wrappers carrying a timeout / max_tries
JOB_FUNCTIONS: list[Callable[..., Any] | Any] = [
    ping,
    render_run,
    render_chunk,
    *OWNER_FUNCTIONS,
    *EXEC_FUNCTIONS,
    *FEDERATION_FUNCTIONS,
    *REPLICATE_FUNCTIONS,
]
