"""This L1 as an ActivityPub actor on the real app (PostgreSQL + Redis): WebFinger,
NodeInfo and the actor read by independent parsers (pyld with the ActivityStreams
contexts apmodel ships, apmodel's models), the signed inbox, the outbox."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import apmodel
import pytest
import redis.asyncio as aioredis
import requests
from apmodel._core._jsonjd.loader import create_document_loader
from apmodel.nodeinfo.nodeinfo import Nodeinfo
from cryptography.hazmat.primitives import serialization
from http_message_signatures import HTTPMessageSigner, algorithms
from http_message_signatures.resolvers import MappingKeyResolver
from litestar.testing import AsyncTestClient
from pyld import jsonld

from streamer.entry.app import create_app
from streamer.federation.actor_keys import ACTOR_KEY_FILE
from streamer.settings import Settings
from tests.api.helpers import api_error
from tests.api.l2_standin import L2StandIn

L1 = "https://testserver.local"
AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"


@pytest.fixture
def settings(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "L1_PUBLIC_URL": "https://l1.example",
            # the peer actor is served on loopback: a federation peer there needs this
            "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": "true",
            "ARTDAG_REDIS_PREFIX": f"{redis_prefix}fed:{uuid.uuid4().hex[:8]}:",
        }
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    async with AsyncTestClient(app=create_app(settings), base_url=L1) as c:
        yield c


@pytest.fixture
def peer() -> Iterator[L2StandIn]:
    """Another actor (served on loopback) that posts to our inbox."""
    server = L2StandIn(l1_public_pem="", l1_audience="").start()
    try:
        yield server
    finally:
        server.stop()


def _expand(doc: dict[str, Any]) -> dict[str, Any]:
    expanded = jsonld.expand(doc, options={"documentLoader": create_document_loader()})
    assert isinstance(expanded, list) and len(expanded) == 1
    result: dict[str, Any] = expanded[0]
    return result


async def test_webfinger(client: Any) -> None:
    resp = await client.get("/.well-known/webfinger", params={"resource": "acct:artdag@l1.example"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/jrd+json")
    jrd = resp.json()
    assert jrd["subject"] == "acct:artdag@l1.example"
    assert {
        "rel": "self",
        "type": "application/activity+json",
        "href": "https://l1.example/actor",
    } in jrd["links"]
    alias = await client.get(
        "/.well-known/webfinger", params={"resource": "https://l1.example/actor"}
    )
    assert alias.json() == jrd
    for unknown in ("acct:someone@l1.example", "acct:artdag@elsewhere.example"):
        doc = api_error(
            await client.get("/.well-known/webfinger", params={"resource": unknown}), 404
        )
        assert doc["field"] == "resource"
    api_error(await client.get("/.well-known/webfinger"), 400)


async def test_actor_read_by_independent_parsers(client: Any, settings: Settings) -> None:
    resp = await client.get("/actor", headers={"Accept": "application/activity+json"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/activity+json")
    doc = resp.json()
    # JSON-LD: every term is defined by the ActivityStreams and security contexts
    expanded = _expand(doc)
    assert expanded["@type"] == [f"{AS}Service"]
    assert expanded["@id"] == "https://l1.example/actor"
    assert expanded["http://www.w3.org/ns/ldp#inbox"] == [{"@id": "https://l1.example/inbox"}]
    assert expanded[f"{AS}outbox"] == [{"@id": "https://l1.example/outbox"}]
    assert not [k for k in expanded if k.startswith("_:")], "terms outside the contexts"
    key = expanded[f"{SEC}publicKey"][0]
    assert key["@id"] == "https://l1.example/actor#main-key"
    assert key[f"{SEC}owner"] == [{"@id": "https://l1.example/actor"}]
    pem = key[f"{SEC}publicKeyPem"][0]["@value"]
    # the key is the public half of the key file kept beside cluster.key
    private = serialization.load_pem_private_key(
        (settings.storage.data_dir / ACTOR_KEY_FILE).read_bytes(), password=None
    )
    public = serialization.load_pem_public_key(pem.encode())
    assert public.public_numbers() == private.public_key().public_numbers()  # type: ignore[union-attr]
    # apmodel's ActivityStreams models
    model = apmodel.load(doc)
    assert type(model).__name__ == "Service"
    assert model.inbox == "https://l1.example/inbox"
    assert model.public_key.public_key_pem == pem
    ld = await client.get("/actor", headers={"Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")


async def test_nodeinfo(client: Any) -> None:
    index = (await client.get("/.well-known/nodeinfo")).json()
    link = index["links"][0]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    assert link["href"] == "https://l1.example/nodeinfo/2.1"
    resp = await client.get("/nodeinfo/2.1")
    assert resp.status_code == 200, resp.text
    assert "nodeinfo.diaspora.software/ns/schema/2.1" in resp.headers["content-type"]
    info = Nodeinfo.model_validate(resp.json())  # apmodel's NodeInfo schema
    assert info.software.name == "artdag-l1"
    assert info.protocols == ["activitypub"]
    assert info.open_registrations is False


async def test_outbox_is_an_ordered_collection(client: Any) -> None:
    resp = await client.get("/outbox")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/activity+json")
    expanded = _expand(resp.json())
    assert expanded["@type"] == [f"{AS}OrderedCollection"]
    assert expanded["@id"] == "https://l1.example/outbox"


def _follow(peer: L2StandIn, kind: str = "Follow") -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.url}/activities/{uuid.uuid4().hex}",
        "type": kind,
        "actor": peer.actor,
        "object": "https://l1.example/actor",
    }


async def _post(client: Any, peer: L2StandIn, doc: Any, **kw: Any) -> Any:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    headers = peer.signed_headers("POST", f"{L1}/inbox", body, **kw)
    headers["Content-Type"] = "application/activity+json"
    return await client.post("/inbox", content=body, headers=headers)


async def _followers(settings: Settings) -> set[str]:
    r = aioredis.from_url(settings.services.redis_url)
    try:
        return {m.decode() for m in await r.smembers(settings.services.keys.followers)}
    finally:
        await r.aclose()


async def test_signed_follow_undo_delete(client: Any, peer: L2StandIn, settings: Settings) -> None:
    follow = _follow(peer)
    resp = await _post(client, peer, follow)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"accepted": True, "type": "Follow", "action": "followed"}
    assert await _followers(settings) == {peer.actor}
    # the key is cached: a second post does not fetch the actor again
    fetched = peer.actor_fetches
    undo = {**_follow(peer, "Undo"), "object": follow}
    resp = await _post(client, peer, undo)
    assert resp.json()["action"] == "unfollowed"
    assert peer.actor_fetches == fetched
    assert await _followers(settings) == set()
    await _post(client, peer, follow)
    resp = await _post(client, peer, {**_follow(peer, "Delete"), "object": peer.actor})
    assert resp.json()["action"] == "removed"
    assert await _followers(settings) == set()
    resp = await _post(client, peer, {**_follow(peer, "Like")})
    assert resp.status_code == 202 and resp.json()["action"] == "ignored"


async def test_rfc9421_signed_post(client: Any, peer: L2StandIn, settings: Settings) -> None:
    """A post signed by http-message-signatures (RFC 9421) is verified."""
    body = json.dumps(_follow(peer)).encode()
    request = requests.Request(
        "POST", f"{L1}/inbox", headers={"Content-Type": "application/activity+json"}, data=body
    ).prepare()
    HTTPMessageSigner(
        signature_algorithm=algorithms.RSA_V1_5_SHA256,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={peer.key_id: peer.key}),
    ).sign(
        request,
        key_id=peer.key_id,
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        body=body,
    )
    resp = await client.post("/inbox", content=body, headers=dict(request.headers))
    assert resp.status_code == 202, resp.text
    assert resp.json()["action"] == "followed"


async def test_bad_posts(client: Any, peer: L2StandIn) -> None:
    follow = json.dumps(_follow(peer)).encode()
    # unsigned
    resp = await client.post("/inbox", content=follow)
    assert api_error(resp, 401)["field"] == "Signature"
    assert resp.headers["www-authenticate"].startswith("Signature")
    # a body that does not match its digest
    headers = peer.signed_headers("POST", f"{L1}/inbox", follow)
    tampered = follow.replace(b"Follow", b"Delete")
    assert (
        "digest"
        in api_error(await client.post("/inbox", content=tampered, headers=headers), 401)["detail"]
    )
    # signed ten minutes ago
    resp = await _post(client, peer, _follow(peer), at=time.time() - 600)
    assert "clock" in api_error(resp, 401)["detail"]
    # signed by the peer for another actor
    resp = await _post(client, peer, {**_follow(peer), "actor": "https://someone.example/actor"})
    assert "not the signer" in api_error(resp, 401)["detail"]
    # signed, but not an activity
    assert api_error(await _post(client, peer, b"[1, 2]"), 400)["field"] == "body"
    assert api_error(await _post(client, peer, {"type": "Follow"}), 400)["field"] == "actor"
    # too large: refused whether signed or not, before the body is read
    big = b"{" + b" " * (300 * 1024) + b"}"
    api_error(await _post(client, peer, big), 413)


async def test_a_signer_on_a_refused_address(
    client: Any, settings: Settings, tmp_path: Path
) -> None:
    """The key of a signer on a private address is never fetched without the setting."""
    strict = Settings.from_env(
        {
            "DATABASE_URL": settings.services.database_url,
            "REDIS_URL": settings.services.redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "strict"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "ARTDAG_REDIS_PREFIX": settings.services.redis_prefix + "strict:",
        }
    )
    peer = L2StandIn(l1_public_pem="", l1_audience="")
    peer.url = "http://10.0.0.9"  # never started: nothing may be sent there
    body = json.dumps(_follow(peer)).encode()
    headers = peer.signed_headers("POST", "http://testserver.local/inbox", body)
    async with AsyncTestClient(app=create_app(strict)) as c:
        doc = api_error(await c.post("/inbox", content=body, headers=headers), 401)
    assert "private-network" in doc["detail"]
