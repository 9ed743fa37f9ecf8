"""Signing in through L2 and L2's revocations, against a stand-in L2 that checks our
signatures with independent libraries (tests/api/l2_standin.py), on the real app
(PostgreSQL + Redis)."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.auth import SESSION_COOKIE
from streamer.auth import tokens
from streamer.entry.app import create_app
from streamer.federation.actor_keys import load_or_create_actor_keys
from streamer.settings import Settings
from tests.api.helpers import api_error
from tests.api.l2_standin import L2StandIn

L1 = "https://testserver.local"  # https: the session cookie is Secure (L1_PUBLIC_URL is https)


@pytest.fixture
def base_settings(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "L1_PUBLIC_URL": "https://l1.example",
            # the stand-in L2 listens on loopback: a federation peer there needs this
            "ARTDAG_ALLOW_PRIVATE_ENDPOINTS": "true",
            "ARTDAG_REDIS_PREFIX": f"{redis_prefix}l2auth:{uuid.uuid4().hex[:8]}:",
        }
    )


@pytest.fixture
def l2(base_settings: Settings) -> Iterator[L2StandIn]:
    keys = load_or_create_actor_keys(base_settings)  # the file the app will load
    server = L2StandIn(l1_public_pem=keys.public_pem, l1_audience="https://l1.example").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(base_settings: Settings, l2: L2StandIn) -> Settings:
    federation = dataclasses.replace(base_settings.federation, l2_server=l2.url)
    return dataclasses.replace(base_settings, federation=federation)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    async with AsyncTestClient(app=create_app(settings), base_url=L1) as c:
        yield c


def _user() -> str:
    return f"@u{uuid.uuid4().hex[:8]}@127.0.0.1"


def _grant(l2: L2StandIn, user: str, *scopes: str) -> str:
    token = f"l2-{uuid.uuid4().hex}"
    l2.grants[token] = {"username": user, "scopes": list(scopes)}
    return token


async def _sign_in(client: Any, token: str) -> str:
    resp = await client.get("/auth", params={"auth_token": token}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    session = client.cookies.get(SESSION_COOKIE)
    assert session
    return str(session)


async def _l2_post(client: Any, l2: L2StandIn, path: str, doc: dict[str, Any]) -> Any:
    body = json.dumps(doc).encode()
    headers = l2.signed_headers("POST", f"{L1}{path}", body)
    return await client.post(path, content=body, headers=headers)


async def test_sign_in_through_l2_is_signed_and_scoped(
    client: Any, l2: L2StandIn, settings: Settings
) -> None:
    user = _user()
    api_error(await client.get("/auth", params={"auth_token": "unknown"}), 401)
    session = await _sign_in(client, _grant(l2, user, "publish", "not-a-scope"))
    call = l2.seen[-1]
    assert call["scheme"] == "cavage"  # verified by pyhttpsig with our actor's key
    assert call["headers"]["Authorization"].startswith("Bearer l2-")
    sent = json.loads(call["body"])
    assert sent["l1_server"] == "https://l1.example"
    assert sent["l1_actor"] == "https://l1.example/actor"
    claims = tokens.verify_token(tokens.cluster_key(settings), session)
    assert claims.user == user and claims.scopes == ("publish",)
    # scopes limit the session: "publish" does not start runs
    doc = api_error(await client.post("/runs", json={}), 403)
    assert "runs:write" in doc["detail"]
    client.cookies.clear()


async def test_a_scope_opens_its_routes(client: Any, l2: L2StandIn) -> None:
    await _sign_in(client, _grant(l2, _user(), "runs:write"))
    resp = await client.post("/runs", json={})
    assert resp.status_code == 400, resp.text  # past the guard: the body is what is wrong
    api_error(await client.post("/recipes/upload", json={}), 403)
    client.cookies.clear()


async def test_l2_revocation_takes_effect_on_the_next_request(client: Any, l2: L2StandIn) -> None:
    user = _user()
    l2_token = _grant(l2, user, "runs:write")
    session = await _sign_in(client, l2_token)
    assert (await client.post("/runs", json={})).status_code == 400  # the session works
    client.cookies.clear()
    # an unsigned call in L2's style (the user's L2 token as Bearer) is refused
    resp = await client.post(
        "/auth/revoke-user", json={"user": user}, headers={"Authorization": f"Bearer {l2_token}"}
    )
    assert "signed" in api_error(resp, 401)["detail"]
    # the L2 signs it: every token of the user goes
    resp = await _l2_post(client, l2, "/auth/revoke-user", {"user": user})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"revoked_user": user, "tracked_tokens": 2}  # L2 token + session
    client.cookies.set(SESSION_COOKIE, session)
    assert "revoked" in api_error(await client.post("/runs", json={}), 401)["detail"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {l2_token}"}
    assert (
        "revoked" in api_error(await client.post("/runs", json={}, headers=bearer), 401)["detail"]
    )


async def test_l2_revokes_one_token(client: Any, l2: L2StandIn) -> None:
    session = await _sign_in(client, _grant(l2, _user(), "runs:write"))
    client.cookies.clear()
    resp = await _l2_post(client, l2, "/auth/revoke", {"token": session})
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_hash"] == tokens.token_hash(session)
    client.cookies.set(SESSION_COOKIE, session)
    api_error(await client.post("/runs", json={}), 401)
    client.cookies.clear()


async def test_revocations_signed_by_others_are_refused(
    client: Any, l2: L2StandIn, base_settings: Settings
) -> None:
    user = _user()
    await _sign_in(client, _grant(l2, user))
    client.cookies.clear()
    body = json.dumps({"user": user}).encode()
    # not signed at all, no token: 401
    api_error(await client.post("/auth/revoke-user", content=body), 401)
    # signed by L2 but the body changed on the way: the digest does not match
    headers = l2.signed_headers("POST", f"{L1}/auth/revoke-user", body)
    tampered = json.dumps({"user": "@someone@127.0.0.1"}).encode()
    resp = await client.post("/auth/revoke-user", content=tampered, headers=headers)
    assert "digest" in api_error(resp, 401)["detail"]
    # signed by an impostor key under L2's key id: does not verify
    impostor = L2StandIn(l1_public_pem="", l1_audience="")
    impostor.url = l2.url
    headers = impostor.signed_headers("POST", f"{L1}/auth/revoke-user", body)
    api_error(await client.post("/auth/revoke-user", content=body, headers=headers), 401)


async def test_tokens_of_another_l2_or_l1_are_refused(client: Any, l2: L2StandIn) -> None:
    token = _grant(l2, _user())
    l2.issuer = "https://other-l2.example/actor"
    doc = api_error(await client.get("/auth", params={"auth_token": token}), 401)
    assert "other-l2.example" in doc["detail"]
    l2.issuer = None
    l2.grants[token]["audience"] = "https://another-l1.example"
    assert (
        "another-l1"
        in api_error(await client.get("/auth", params={"auth_token": token}), 401)["detail"]
    )
    l2.grants[token] = {"username": "@mallory@elsewhere.example"}
    assert (
        "elsewhere.example"
        in api_error(await client.get("/auth", params={"auth_token": token}), 401)["detail"]
    )


async def test_l2_failing_or_down_is_503_not_500(client: Any, l2: L2StandIn) -> None:
    token = _grant(l2, _user())
    l2.status = 503
    doc = api_error(await client.get("/auth", params={"auth_token": token}), 503)
    assert "L2" in doc["detail"] and "try again" in doc["detail"]
    l2.stop()
    doc = api_error(await client.get("/auth", params={"auth_token": token}), 503)
    assert "could not be reached" in doc["detail"]


async def test_rfc9421_when_l2_asks_for_it(client: Any, l2: L2StandIn) -> None:
    l2.rfc9421_only = True
    await _sign_in(client, _grant(l2, _user()))
    assert [c["scheme"] for c in l2.seen] == [None, "rfc9421"]  # asked, then verified
    # remembered: the next sign-in goes RFC 9421 at once
    client.cookies.clear()
    await _sign_in(client, _grant(l2, _user()))
    assert [c["scheme"] for c in l2.seen][-1] == "rfc9421" and len(l2.seen) == 3
    client.cookies.clear()


async def test_an_admin_token_revokes_anyone(client: Any, settings: Settings) -> None:
    key = tokens.cluster_key(settings)
    admin, _ = tokens.mint_token(key, "ops", scopes=["admin"])
    plain, _ = tokens.mint_token(key, "someone")
    # issued before the revocation's second (a token of that very second stays valid)
    victim, _ = tokens.mint_token(key, "victim", now=time.time() - 5)
    bearer = {"Authorization": f"Bearer {plain}"}
    api_error(await client.post("/auth/revoke", json={"token": victim}, headers=bearer), 403)
    bearer = {"Authorization": f"Bearer {admin}"}
    resp = await client.post("/auth/revoke-user", json={"user": "victim"}, headers=bearer)
    assert resp.status_code == 200, resp.text
    victim_bearer = {"Authorization": f"Bearer {victim}"}
    api_error(await client.post("/runs", json={}, headers=victim_bearer), 401)
