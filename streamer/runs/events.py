"""Live run events over Redis: typed events, one serialiser, publish, subscribe, cancel flags.

Jobs publish one event per playlist update, progress tick and status change on
:meth:`streamer.keys.RedisKeys.run_events`; the API relays them as Server-Sent
Events and sets :meth:`~streamer.keys.RedisKeys.run_cancel` to ask the jobs to
stop. On the wire each event is the JSON of :func:`event_json`::

    {"type": "playlist", "run_id", "playlist_cid", "segment_cid", "index",
     "duration", "segment_count", "ended", "ipfs"}
    {"type": "progress", "run_id", "progress", "frames", "total_frames", "fps"}
    {"type": "status", "run_id", "status", "stage"?, "error"?, "output_cid"?}
    {"type": "step", "run_id", "step_id", "state", "cached"}

The progress event has the same fields on every path: the batch path (which
counts steps, not frames) sends ``frames``, ``total_frames`` and ``fps`` as null.
Step events come from the batch path only (``streamer.jobs.execute.run_recipe``):
``running`` when a plan step is handed to a worker, then ``done`` (``cached``
true when its output was already in the cache and nothing ran) or ``failed``.
The live render computes all steps in one graph: its ``playlist`` and
``progress`` events mean every step is running, its final ``status`` that all
are done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, ClassVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from streamer.keys import RedisKeys
from streamer.runs.status import RunStatus

__all__ = [
    "CANCEL_TTL",
    "PlaylistEvent",
    "ProgressEvent",
    "RunEvent",
    "StatusEvent",
    "StepEvent",
    "StepState",
    "cancel_requested",
    "event_json",
    "publish_event",
    "request_cancel",
    "subscribe_events",
]

log = logging.getLogger(__name__)

CANCEL_TTL = 24 * 3600  # a flag outlives any queue wait, then expires


@dataclass(frozen=True)
class PlaylistEvent:
    """A segment was listed: the playlist changed (and got a new CID on IPFS)."""

    type: ClassVar[str] = "playlist"
    playlist_cid: str | None
    segment_cid: str | None
    index: int
    duration: float
    segment_count: int
    ended: bool
    ipfs: bool


@dataclass(frozen=True)
class ProgressEvent:
    """How far the run is: ``progress`` in [0, 1]; frame figures where frames are counted."""

    type: ClassVar[str] = "progress"
    progress: float
    frames: int | None = None
    total_frames: int | None = None
    fps: float | None = None


@dataclass(frozen=True)
class StatusEvent:
    """The run's status changed (``stage`` says what a running run is doing)."""

    type: ClassVar[str] = "status"
    status: RunStatus
    stage: str | None = None
    error: str | None = None
    output_cid: str | None = None


class StepState(StrEnum):
    """Where one plan step of a batch run is (the ``state`` of a :class:`StepEvent`)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class StepEvent:
    """A plan step of a batch run started, finished or failed.

    Attributes:
        step_id: The plan step (``PlanStep.step_id``).
        state: What happened to it.
        cached: With ``done``: its output was cached already; nothing was executed.
    """

    type: ClassVar[str] = "step"
    step_id: str
    state: StepState
    cached: bool = False


RunEvent = PlaylistEvent | ProgressEvent | StatusEvent | StepEvent


def event_json(run_id: str, event: RunEvent) -> dict[str, Any]:
    """The one wire form of an event: ``type`` and ``run_id`` first; a status
    event leaves out its unset optional fields."""
    body = asdict(event)
    if isinstance(event, StatusEvent):
        body = {k: v for k, v in body.items() if v is not None}
        body["status"] = str(event.status)
    elif isinstance(event, StepEvent):
        body["state"] = str(event.state)
    return {"type": event.type, "run_id": run_id, **body}


async def publish_event(redis: Redis, keys: RedisKeys, run_id: str, event: RunEvent) -> int:
    """Publish ``event`` as JSON; returns the number of receivers."""
    payload = json.dumps(event_json(run_id, event), separators=(",", ":"))
    return int(await redis.publish(keys.run_events(run_id), payload))


async def request_cancel(redis: Redis, keys: RedisKeys, run_id: str) -> None:
    """Set the cancel flag of ``run_id`` (the jobs poll it)."""
    await redis.set(keys.run_cancel(run_id), "1", ex=CANCEL_TTL)


async def cancel_requested(redis: Redis, keys: RedisKeys, run_id: str) -> bool:
    """Whether the cancel flag of ``run_id`` is set."""
    return bool(await redis.exists(keys.run_cancel(run_id)))


async def subscribe_events(
    redis: Redis, keys: RedisKeys, run_id: str, *, poll: float = 1.0
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield the run's events (their JSON objects); None every ``poll`` seconds without one.

    The None ticks let a consumer re-check state (or send a keep-alive) and
    notice a client that went away. A Redis that goes away (a restart) does
    not end the stream: it yields None ticks and subscribes again every
    ``poll`` seconds until Redis answers; events published meanwhile are lost
    (pub/sub keeps nothing), the run row has their state. The subscription is
    closed when the generator is closed.
    """
    channel = keys.run_events(run_id)
    while True:
        pubsub: Any = redis.pubsub()  # redis-py leaves PubSub.aclose unannotated
        broken = False
        try:
            await pubsub.subscribe(channel)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=poll)
                if message is None:
                    yield None
                    continue
                event = _event_of(message)
                if event is not None:
                    yield event
        except (RedisError, OSError) as exc:
            broken = True
            log.info("events of run %s: Redis unreachable (%s); subscribing again", run_id, exc)
        finally:
            if not broken:  # a broken connection has nothing to unsubscribe from
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.unsubscribe())
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        yield None
        await asyncio.sleep(poll)


def _event_of(message: dict[str, Any]) -> dict[str, Any] | None:
    data: Any = message.get("data")
    if isinstance(data, bytes):
        data = data.decode()
    try:
        event = json.loads(data)
    except (TypeError, ValueError):
        return None
    return event if isinstance(event, dict) else None
