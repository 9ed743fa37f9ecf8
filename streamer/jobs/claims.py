"""Redis claims: at most one worker executes a plan step (one cache id) at a time.

A claim is a Redis key (:meth:`streamer.keys.RedisKeys.claim`) holding the owner's
token, set with ``SET NX PX`` (atomic: exactly one of several concurrent
claimants wins) and an expiry. The owner renews it while it works
(:class:`ClaimKeeper`); a crashed owner stops renewing, the key expires and
the next claimant takes the step over. Renewal and release are Lua
check-and-set scripts, so an owner whose claim already expired can neither
extend nor delete a newer owner's claim. A claim that vanished while nobody
else took it (Redis restarted and forgot it) is taken again by its owner at
its next renewal, so a waiter (:mod:`streamer.jobs.step_wait`) sees that the
step is still being worked on.

A claimant that loses waits (:func:`wait_for_result`) by polling for the
result (e.g. the ``step_cache`` row) instead of doing the work again; if the
claim disappears without a result (the owner failed), the wait returns None
and the caller may claim the step itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_TTL",
    "ClaimKeeper",
    "ClaimLost",
    "claim",
    "claim_owner",
    "holder",
    "new_token",
    "release",
    "renew",
    "wait_for_result",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TTL = 30.0

_RENEW = """
local owner = redis.call('get', KEYS[1])
if owner == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
if owner == false then
    redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class ClaimLost(Exception):
    """The claim expired or was taken by another worker while its owner worked."""


def new_token(worker: str | None = None) -> str:
    """A unique owner token, ``<worker>/<random>`` (the worker part is for humans)."""
    who = worker or f"{socket.gethostname()}:{os.getpid()}"
    return f"{who}/{uuid.uuid4().hex[:12]}"


def claim_owner(token: str) -> str:
    """The worker part of a token made by :func:`new_token`."""
    return token.rsplit("/", 1)[0]


def _ms(ttl: float) -> int:
    if ttl <= 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")
    return max(1, round(ttl * 1000))


async def claim(redis: Any, key: str, token: str, ttl: float = DEFAULT_TTL) -> bool:
    """Take the claim atomically; True when ``token`` now owns it."""
    return bool(await redis.set(key, token, nx=True, px=_ms(ttl)))


async def renew(redis: Any, key: str, token: str, ttl: float = DEFAULT_TTL) -> bool:
    """Extend the claim to ``ttl`` from now (taking it again when nobody holds it);
    False when another token holds it."""
    return bool(await redis.eval(_RENEW, 1, key, token, _ms(ttl)))


async def release(redis: Any, key: str, token: str) -> bool:
    """Delete the claim if ``token`` owns it; returns whether it did."""
    return bool(await redis.eval(_RELEASE, 1, key, token))


async def holder(redis: Any, key: str) -> str | None:
    """The token holding the claim, or None."""
    value = await redis.get(key)
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class ClaimKeeper:
    """Hold a claim and renew it in the background until the block exits.

    Usage::

        if await claim(redis, key, token, ttl):
            async with ClaimKeeper(redis, key, token, ttl) as keeper:
                ...work...
                keeper.check()   # raises ClaimLost if the claim was lost

    Renewal runs every ``ttl / 3`` seconds; exiting releases the claim.

    Args:
        redis: A ``redis.asyncio.Redis`` (arq's ``ArqRedis`` is one).
        key: The claim key.
        token: The owner token used to take it.
        ttl: Expiry in seconds after each renewal.
    """

    def __init__(self, redis: Any, key: str, token: str, ttl: float = DEFAULT_TTL) -> None:
        self.redis = redis
        self.key = key
        self.token = token
        self.ttl = ttl
        self.renewals = 0
        self.lost = False
        self._task: asyncio.Task[None] | None = None

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                if await renew(self.redis, self.key, self.token, self.ttl):
                    self.renewals += 1
                else:
                    self.lost = True
                    log.warning("claim %s lost by %s", self.key, self.token)
                    return
            except Exception as exc:  # a Redis hiccup: try again next period
                log.warning("renewing claim %s failed: %s", self.key, exc)

    def check(self) -> None:
        """Raise :class:`ClaimLost` if the claim was lost."""
        if self.lost:
            raise ClaimLost(f"claim {self.key} is no longer held by {self.token}")

    async def __aenter__(self) -> ClaimKeeper:
        self._task = asyncio.create_task(self._renew_loop(), name=f"renew {self.key}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await release(self.redis, self.key, self.token)


async def wait_for_result(
    redis: Any,
    key: str,
    result: Callable[[], Awaitable[T | None]],
    *,
    poll: float = 0.2,
    timeout: float | None = None,
) -> T | None:
    """Wait while another worker holds the claim; return its result.

    Polls ``result()`` (e.g. a ``step_cache`` lookup) every ``poll`` seconds.
    Returns the first non-None result, or None once the claim is gone without
    a result (its owner failed or crashed and the claim expired): the caller
    should then try to claim the work itself.

    Raises:
        TimeoutError: ``timeout`` seconds passed with the claim still held.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        value = await result()
        if value is not None:
            return value
        if await redis.exists(key) == 0:
            # the owner may have stored the result just before releasing
            return await result()
        if deadline is not None and loop.time() >= deadline:
            raise TimeoutError(f"claim {key} still held after {timeout} s")
        await asyncio.sleep(poll)
