"""Redis claims on the real Redis: atomic, expiring, renewed, waited on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from streamer.jobs.claims import (
    ClaimKeeper,
    ClaimLost,
    claim,
    claim_owner,
    holder,
    new_token,
    release,
    renew,
    wait_for_result,
)
from streamer.keys import RedisKeys

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def rds(redis_url: str) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def key(redis_prefix: str) -> str:
    return RedisKeys(queue=f"{redis_prefix}claims").claim(uuid.uuid4().hex)


async def test_exactly_one_of_many_concurrent_claimants_wins(redis_url: str, key: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(12)]
    try:
        tokens = [new_token(f"w{i}") for i in range(12)]
        won = await asyncio.gather(
            *(claim(c, key, t, 5) for c, t in zip(clients, tokens, strict=True))
        )
        assert sum(won) == 1
        winner = tokens[won.index(True)]
        assert await holder(clients[0], key) == winner
        assert claim_owner(winner) == f"w{won.index(True)}"
    finally:
        for c in clients:
            await c.aclose()


async def test_only_the_owner_renews_or_releases(rds: Any, key: str) -> None:
    assert await claim(rds, key, "a/1", 5)
    assert not await claim(rds, key, "b/2", 5)
    assert not await renew(rds, key, "b/2", 5)
    assert not await release(rds, key, "b/2")
    assert await holder(rds, key) == "a/1"
    assert await renew(rds, key, "a/1", 10)
    assert 5000 < await rds.pttl(key) <= 10000
    assert await release(rds, key, "a/1")
    assert await holder(rds, key) is None
    with pytest.raises(ValueError, match="ttl"):
        await claim(rds, key, "a/1", 0)


async def test_an_unrenewed_claim_expires_and_is_taken_over(rds: Any, key: str) -> None:
    assert await claim(rds, key, "crashed/1", 0.3)
    assert not await claim(rds, key, "next/2", 5)
    await asyncio.sleep(0.45)
    assert await claim(rds, key, "next/2", 5)
    # the crashed owner can no longer touch the new owner's claim
    assert not await renew(rds, key, "crashed/1", 5)
    assert not await release(rds, key, "crashed/1")
    assert await holder(rds, key) == "next/2"


async def test_keeper_renews_while_working_and_releases(rds: Any, key: str) -> None:
    assert await claim(rds, key, "a/1", 0.3)
    async with ClaimKeeper(rds, key, "a/1", 0.3) as keeper:
        await asyncio.sleep(1.0)  # > 3 ttl: only renewal keeps it
        assert await holder(rds, key) == "a/1"
        assert keeper.renewals >= 3
        keeper.check()
    assert await holder(rds, key) is None


async def test_keeper_takes_back_a_claim_redis_forgot(rds: Any, key: str) -> None:
    assert await claim(rds, key, "a/1", 0.3)
    async with ClaimKeeper(rds, key, "a/1", 0.3) as keeper:
        await rds.delete(key)  # a Redis restart without persistence
        await asyncio.sleep(0.25)  # one renewal period
        assert await holder(rds, key) == "a/1"
        assert not keeper.lost
        keeper.check()
    assert await holder(rds, key) is None


async def test_keeper_notices_a_lost_claim(rds: Any, key: str) -> None:
    assert await claim(rds, key, "a/1", 0.3)
    async with ClaimKeeper(rds, key, "a/1", 0.3) as keeper:
        await rds.set(key, "thief/9")
        await asyncio.sleep(0.3)
        assert keeper.lost
        with pytest.raises(ClaimLost):
            keeper.check()
    assert await holder(rds, key) == "thief/9"  # not released by the old owner


async def test_second_claimant_waits_for_the_result(rds: Any, key: str) -> None:
    results: dict[str, str] = {}
    executed: list[str] = []

    async def work(token: str) -> str:
        if await claim(rds, key, token, 0.5):
            async with ClaimKeeper(rds, key, token, 0.5):
                executed.append(token)
                await asyncio.sleep(0.8)  # longer than the ttl: renewal matters
                results["out"] = f"done by {token}"
            return results["out"]

        async def lookup() -> str | None:
            return results.get("out")

        got = await wait_for_result(rds, key, lookup, poll=0.05, timeout=10)
        assert got is not None
        return got

    t0 = time.monotonic()
    a, b = await asyncio.gather(work("a/1"), work("b/2"))
    assert len(executed) == 1
    assert a == b == f"done by {executed[0]}"
    assert time.monotonic() - t0 >= 0.8


async def test_waiter_gets_none_when_the_owner_dies(rds: Any, key: str) -> None:
    assert await claim(rds, key, "dead/1", 0.3)  # never renewed, never finished

    async def lookup() -> str | None:
        return None

    t0 = time.monotonic()
    assert await wait_for_result(rds, key, lookup, poll=0.05, timeout=10) is None
    assert 0.2 < time.monotonic() - t0 < 5
    assert await claim(rds, key, "me/2", 5)


async def test_wait_times_out_while_the_claim_is_held(rds: Any, key: str) -> None:
    assert await claim(rds, key, "slow/1", 30)

    async def lookup() -> str | None:
        return None

    with pytest.raises(TimeoutError, match="still held"):
        await wait_for_result(rds, key, lookup, poll=0.05, timeout=0.3)
