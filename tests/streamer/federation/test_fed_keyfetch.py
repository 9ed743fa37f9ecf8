"""Signers' keys: parsed from actor documents, fetched behind the guard, cached in Redis."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from aiohttp import web

from streamer.federation.errors import PeerError, SignatureError
from streamer.federation.keyfetch import KeyStore, public_key_of
from streamer.federation.peer_http import peer_request
from streamer.keys import RedisKeys
from tests.api.l2_standin import L2StandIn

ACTOR = "https://peer.example/actor"
KEY = f"{ACTOR}#main-key"
PEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


def test_public_key_of_actor_shapes() -> None:
    as_object = {"id": ACTOR, "publicKey": {"id": KEY, "owner": ACTOR, "publicKeyPem": PEM}}
    assert public_key_of(as_object, KEY).owner == ACTOR
    as_list = {"id": ACTOR, "publicKey": [{"id": "x"}, {"id": KEY, "publicKeyPem": PEM}]}
    assert public_key_of(as_list, KEY).pem == PEM  # the owner defaults to the actor
    key_doc = {"id": KEY, "owner": ACTOR, "publicKeyPem": PEM}  # a key served on its own
    assert public_key_of(key_doc, KEY).owner == ACTOR
    bad: list[tuple[Any, str]] = [
        ([], "not a JSON object"),
        ({"id": ACTOR}, "no such key"),
        ({"id": ACTOR, "publicKey": {"id": "other", "publicKeyPem": PEM}}, "no such key"),
        ({"id": ACTOR, "publicKey": {"id": KEY, "publicKeyPem": 5}}, "publicKeyPem"),
        (
            {
                "id": ACTOR,
                "publicKey": {"id": KEY, "owner": "https://evil.example/a", "publicKeyPem": PEM},
            },
            "owner",
        ),
    ]
    for doc, why in bad:
        with pytest.raises(SignatureError, match=why):
            public_key_of(doc, KEY)


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    client = aioredis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def peer() -> Iterator[L2StandIn]:
    server = L2StandIn(l1_public_pem="", l1_audience="").start()
    try:
        yield server
    finally:
        server.stop()


def _store(redis: Any, redis_prefix: str) -> KeyStore:
    keys = RedisKeys(prefix=f"{redis_prefix}kf:{uuid.uuid4().hex[:8]}:")
    return KeyStore(redis, keys, allow_private=True, signer=None, ttl=60)


async def test_fetched_once_then_cached(
    redis_client: Any, redis_prefix: str, peer: L2StandIn
) -> None:
    store = _store(redis_client, redis_prefix)
    info = await store.get(peer.key_id)
    assert info.owner == peer.actor and "BEGIN PUBLIC KEY" in info.pem
    assert (await store.get(peer.key_id)) == info
    assert peer.actor_fetches == 1


async def test_a_rotated_key_is_fetched_again(
    redis_client: Any, redis_prefix: str, peer: L2StandIn
) -> None:
    store = _store(redis_client, redis_prefix)
    body = b'{"type": "Follow"}'
    headers = peer.signed_headers("POST", "https://l1.example/inbox", body)
    verified, _ = await store.verify("POST", "/inbox", headers, body)
    assert verified.key_id == peer.key_id and peer.actor_fetches == 1
    rotated = L2StandIn(l1_public_pem="", l1_audience="")
    peer.key = rotated.key  # the peer rotates its key; ours is cached
    headers = peer.signed_headers("POST", "https://l1.example/inbox", body)
    verified, info = await store.verify("POST", "/inbox", headers, body)
    assert peer.actor_fetches == 2  # the cached key failed: fetched afresh, once
    assert info.owner == peer.actor


async def test_a_key_that_cannot_be_had_is_a_signature_error(
    redis_client: Any, redis_prefix: str, peer: L2StandIn
) -> None:
    store = _store(redis_client, redis_prefix)
    body = b"{}"
    headers = peer.signed_headers("POST", "https://l1.example/inbox", body)
    headers = {k.lower(): v for k, v in headers.items()}
    headers["signature"] = headers["signature"].replace("/actor#main-key", "/gone#main-key")
    with pytest.raises(SignatureError, match=r"cannot be fetched.*HTTP 404"):
        await store.verify("POST", "/inbox", headers, body)


@pytest_asyncio.fixture(loop_scope="session")
async def odd_peer() -> AsyncIterator[str]:
    """A loopback server with a huge answer and a redirect to a metadata address."""

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(40):
            await resp.write(b"x" * 65536)
        return resp

    async def away(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data")

    app = web.Application()
    app.router.add_get("/huge", huge)
    app.router.add_get("/away", away)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_answers_are_size_limited(odd_peer: str) -> None:
    with pytest.raises(PeerError, match="more than 1048576 bytes"):
        await peer_request("GET", f"{odd_peer}/huge", allow_private=True)


async def test_redirects_to_refused_addresses_are_not_followed(
    odd_peer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and str(address[0]) not in ("127.0.0.1", "::1"):
            attempts.append(address)
            raise AssertionError(f"a connection was attempted to {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    # the loopback peer is allowed (the setting); where it redirects to is checked first
    with pytest.raises(PeerError, match="metadata"):
        await peer_request("GET", f"{odd_peer}/away", allow_private=True, max_redirects=3)
    resp = await peer_request("GET", f"{odd_peer}/away", allow_private=True, max_redirects=0)
    assert resp.status == 302  # not followed unless asked
    assert not attempts
