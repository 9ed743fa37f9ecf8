"""Live run progress over Redis: channel and key names, publish, subscribe, cancel flags.

The render job publishes one JSON event per playlist update, progress tick
and status change on ``artdag:run:<id>:events``; the API relays them (SSE) and
sets ``artdag:run:<id>:cancel`` to ask the job to stop. Event shapes::

    {"type": "playlist", "run_id", "playlist_cid", "segment_cid", "index",
     "duration", "segment_count", "ended"}
    {"type": "progress", "run_id", "frames", "total_frames", "progress", "fps"}
    {"type": "status", "run_id", "status", "error"?, "output_cid"?}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

__all__ = [
    "CANCEL_TTL",
    "cancel_key",
    "cancel_requested",
    "events_channel",
    "publish_event",
    "request_cancel",
    "subscribe_events",
]

CANCEL_TTL = 24 * 3600  # a flag outlives any queue wait, then expires


def events_channel(run_id: str) -> str:
    """Pub/sub channel of a run's events."""
    return f"artdag:run:{run_id}:events"


def cancel_key(run_id: str) -> str:
    """Key whose presence asks the render job of ``run_id`` to stop."""
    return f"artdag:run:{run_id}:cancel"


async def publish_event(redis: Any, run_id: str, event: dict[str, Any]) -> int:
    """Publish ``event`` (``run_id`` added) as JSON; returns the number of receivers."""
    payload = json.dumps({**event, "run_id": run_id}, separators=(",", ":"), default=str)
    return int(await redis.publish(events_channel(run_id), payload))


async def request_cancel(redis: Any, run_id: str) -> None:
    """Set the cancel flag of ``run_id`` (the job polls it)."""
    await redis.set(cancel_key(run_id), "1", ex=CANCEL_TTL)


async def cancel_requested(redis: Any, run_id: str) -> bool:
    """Whether the cancel flag of ``run_id`` is set."""
    return bool(await redis.exists(cancel_key(run_id)))


async def subscribe_events(
    redis: Any, run_id: str, *, poll: float = 1.0
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield the run's events as dicts; yields None every ``poll`` seconds without one.

    The None ticks let a consumer re-check state (or send a keep-alive) and
    notice a client that went away. The subscription is closed when the
    generator is closed.
    """
    pubsub = redis.pubsub()
    await pubsub.subscribe(events_channel(run_id))
    try:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll)
            if message is None:
                yield None
                continue
            data = message.get("data")
            if isinstance(data, bytes):
                data = data.decode()
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                continue
            if isinstance(event, dict):
                yield event
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(pubsub.unsubscribe())
        with contextlib.suppress(Exception):
            await pubsub.aclose()
