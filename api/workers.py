"""``GET /api/workers``: the queue, its workers and recent results (see :mod:`streamer.jobs.monitor`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from litestar import Router, get
from litestar.params import Parameter
from redis.exceptions import RedisError

from api.errors import BadRequest, ServiceUnavailable
from api.workers_models import WorkerStatus
from streamer.jobs.monitor import DEFAULT_RECENT, MAX_RECENT, QUEUE_NAME_RE, worker_status
from streamer.present.deps import Res

__all__ = ["workers_router"]

_STATUS_TIMEOUT = 5.0


@get("/api/workers", summary="Worker and queue status")
async def get_workers(
    res: Res,
    queue: Annotated[
        str | None,
        Parameter(
            description="arq queue name (default: the server's queue)",
            schema_extra={"pattern": QUEUE_NAME_RE.pattern},
        ),
    ] = None,
    recent: Annotated[
        int,
        Parameter(
            description="how many recent job results to include",
            schema_extra={"minimum": 0, "maximum": MAX_RECENT},
        ),
    ] = DEFAULT_RECENT,
) -> WorkerStatus:
    """Queue length, jobs in progress, each worker's health record and recent results."""
    if not 0 <= recent <= MAX_RECENT:
        raise BadRequest(f"recent={recent}: expected 0-{MAX_RECENT}", field="recent")
    if queue is not None and not QUEUE_NAME_RE.match(queue):
        raise BadRequest(
            f"queue={queue!r}: expected 1-200 letters, digits, '_', ':', '.' or '-'",
            field="queue",
        )
    name = queue or str(res.keys.queue)
    redis = res.redis
    if redis is None:
        raise ServiceUnavailable("Redis is not configured")
    try:
        doc = await asyncio.wait_for(worker_status(redis, name, recent=recent), _STATUS_TIMEOUT)
    except (RedisError, OSError, TimeoutError) as exc:
        raise ServiceUnavailable(f"Redis is not reachable: {type(exc).__name__}: {exc}") from exc
    return msgspec.convert(doc, WorkerStatus)


workers_router = Router(path="/", route_handlers=[get_workers], tags=["workers"])
