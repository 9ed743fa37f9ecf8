"""Wake idle workers the moment a job is queued, instead of at their next poll.

arq workers find jobs by polling the queue every ``poll_delay`` seconds. Every
enqueue in artdag goes through :func:`enqueue_job`, which queues the job with
arq as before and then publishes one message on the queue's wake channel
(:attr:`streamer.keys.RedisKeys.queue_wake`). Each worker runs a
:class:`QueueWaker`: it listens on that channel and runs one extra poll of
arq's own (``poll``) per burst of messages. The queue stays arq's alone; the
message only says "look now". A lost message (Redis pub/sub is at most once)
costs nothing but the regular poll, which stays the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from arq import ArqRedis
from arq.jobs import Job
from redis.asyncio import Redis
from redis.exceptions import RedisError

from streamer.keys import RedisKeys

__all__ = ["WAKE_MESSAGE", "QueueWaker", "enqueue_job", "wake_workers"]

log = logging.getLogger(__name__)

WAKE_MESSAGE = b"1"
_RETRY_MIN, _RETRY_MAX = 0.5, 10.0


async def wake_workers(redis: Redis, keys: RedisKeys) -> None:
    """Tell the workers of ``keys.queue`` to poll now (a failure only costs latency)."""
    try:
        await redis.publish(keys.queue_wake, WAKE_MESSAGE)
    except (RedisError, OSError) as exc:
        log.debug("wake-up not published (workers find the job at their next poll): %s", exc)


async def enqueue_job(
    arq: ArqRedis, keys: RedisKeys, function: str, *args: Any, **kwargs: Any
) -> Job | None:
    """``arq.enqueue_job(function, *args, _queue_name=keys.queue, **kwargs)``, then a wake-up.

    Returns:
        arq's job, or None when a job with the same ``_job_id`` exists (nothing is woken).
    """
    job = await arq.enqueue_job(function, *args, _queue_name=keys.queue, **kwargs)
    if job is not None:
        await wake_workers(arq, keys)
    return job


class QueueWaker:
    """Runs ``poll`` whenever a wake-up arrives on ``channel`` (one task; reconnects).

    Messages that arrive while a poll runs are coalesced into one more poll
    after it, so a job queued mid-poll is never missed and a burst of
    enqueues costs at most two polls.

    Args:
        redis: Client to subscribe with (takes one connection of its pool).
        channel: The wake channel (``RedisKeys.queue_wake``).
        poll: The worker's poll of its queue.

    Attributes:
        wakeups: Wake-up messages received.
        subscribed: Set while subscribed to the channel.
    """

    def __init__(self, redis: Redis, channel: str, poll: Callable[[], Awaitable[None]]) -> None:
        self.redis = redis
        self.channel = channel
        self.poll = poll
        self.wakeups = 0
        self.subscribed = asyncio.Event()
        self._pending = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start listening (in a task of the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"wake:{self.channel}")

    async def stop(self) -> None:
        """Stop listening."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        poller = asyncio.create_task(self._poll_on_wake(), name=f"wake-poll:{self.channel}")
        try:
            await self._listen()
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def _listen(self) -> None:
        delay = _RETRY_MIN
        while True:
            # redis-py leaves PubSub.aclose unannotated
            pubsub: Any = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                delay = _RETRY_MIN
                async for _ in pubsub.listen():
                    self.wakeups += 1
                    self._pending.set()
            except (RedisError, OSError) as exc:
                log.warning("wake channel %s: %s; retrying in %.1f s", self.channel, exc, delay)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _poll_on_wake(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                await self.poll()
            except (RedisError, OSError) as exc:  # the regular poll loop meets it too
                log.warning("poll on wake-up failed: %s", exc)
            except Exception:  # keep listening: the regular poll loop stays arq's
                log.exception("poll on wake-up failed")
