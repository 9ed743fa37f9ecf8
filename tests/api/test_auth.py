"""The write guard and the /auth routes on the real app (PostgreSQL + Redis)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from api.auth import SESSION_COOKIE
from streamer.auth import tokens
from streamer.entry.app import create_app
from streamer.keys import RedisKeys
from streamer.resources import Resources
from streamer.settings import Settings
from tests.api.helpers import api_error


@pytest.fixture
def settings(pg_dsn: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )


@pytest.fixture
async def client(settings: Settings, redis_prefix: str) -> AsyncIterator[Any]:
    services = dataclasses.replace(
        settings.services,
        redis_prefix=f"{redis_prefix}artdag:",
        queue_name=f"{redis_prefix}queue",
    )
    app = create_app(dataclasses.replace(settings, services=services))
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
def key(settings: Settings) -> bytes:
    return tokens.cluster_key(settings)


def _redis(url: str, **options: Any) -> aioredis.Redis:
    client: aioredis.Redis = aioredis.from_url(url, **options)
    return client


def _user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_mutating_route_needs_a_token(client: Any) -> None:
    resp = await client.post("/auth/revoke", json={"token": "x"})
    doc = api_error(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in doc["detail"]
    # other engineers' mutating routes are guarded too; reads stay open
    api_error(await client.post("/runs", json={}), 401)
    api_error(await client.delete("/runs/nope"), 401)
    assert (await client.get("/health")).status_code == 200


async def test_bad_tokens_are_refused(client: Any, key: bytes) -> None:
    api_error(await client.post("/auth/revoke", headers=_bearer("garbage")), 401)
    token, _ = tokens.mint_token(b"another-key-of-32-characters-long!!", "alice")
    doc = api_error(await client.post("/auth/revoke", headers=_bearer(token)), 401)
    assert "signature" in doc["detail"]
    expired, _ = tokens.mint_token(key, "alice", ttl=10, now=1_000_000)
    assert (
        "expired"
        in api_error(await client.post("/auth/revoke", headers=_bearer(expired)), 401)["detail"]
    )
    api_error(await client.post("/auth/revoke", headers={"Authorization": "Basic abc"}), 401)


async def test_non_ascii_tokens_are_malformed_not_a_500(client: Any, key: bytes) -> None:
    """Found by the API fuzz tests: hmac.compare_digest raised on a non-ASCII signature."""
    token, _ = tokens.mint_token(key, "alice")
    doc = api_error(await client.get("/auth", params={"auth_token": token + "\u00e9"}), 401)
    assert doc["field"] == "Authorization" and "malformed" in doc["detail"]
    # a latin-1 header byte reaches the app as a non-ASCII character
    header = {"Authorization": f"Bearer {token}\u00e9".encode("latin-1")}
    doc = api_error(await client.post("/auth/revoke", headers=header), 401)
    assert "malformed" in doc["detail"]


async def test_valid_token_then_revoked(
    client: Any, key: bytes, redis_url: str, redis_prefix: str
) -> None:
    token, _ = tokens.mint_token(key, _user())
    other, _ = tokens.mint_token(key, "someone-else")
    # valid token passes the guard; revoking someone else's token is forbidden
    api_error(await client.post("/auth/revoke", json={"token": other}, headers=_bearer(token)), 403)
    resp = await client.post("/auth/revoke", headers=_bearer(token))
    assert resp.status_code == 200, resp.text
    assert resp.json()["token_hash"] == tokens.token_hash(token)
    # the revocation is in Redis under the app's prefix, with a 30-day expiry
    r = _redis(redis_url)
    try:
        ttl = await r.ttl(f"{redis_prefix}artdag:revoked:{tokens.token_hash(token)}")
    finally:
        await r.aclose()
    assert 0 < ttl <= tokens.REVOKED_TTL
    doc = api_error(await client.post("/auth/revoke", headers=_bearer(token)), 401)
    assert "revoked" in doc["detail"]


async def test_revoke_user_revokes_every_token(
    client: Any, key: bytes, redis_url: str, redis_prefix: str
) -> None:
    user = _user()
    first, c1 = tokens.mint_token(key, user)
    second, c2 = tokens.mint_token(key, user)
    r = _redis(redis_url)
    try:
        await tokens.track_token(
            r, user, first, c1.expiry, keys=RedisKeys(prefix=f"{redis_prefix}artdag:")
        )
    finally:
        await r.aclose()
    api_error(
        await client.post("/auth/revoke-user", json={"user": "root"}, headers=_bearer(first)), 403
    )
    resp = await client.post("/auth/revoke-user", json={"user": user}, headers=_bearer(first))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"revoked_user": user, "tracked_tokens": 1}
    api_error(await client.post("/auth/revoke", headers=_bearer(first)), 401)
    # ``second`` was never tracked: the per-user cutoff still refuses it
    # (it was issued in the same second as the cutoff at the latest, so push the cutoff)
    r = _redis(redis_url)
    try:
        await r.set(f"{redis_prefix}artdag:user_revoked_at:{user}", str(c2.issued + 1))
    finally:
        await r.aclose()
    api_error(await client.post("/auth/revoke", headers=_bearer(second)), 401)


async def test_cookie_flow(client: Any, key: bytes) -> None:
    user = _user()
    token, _ = tokens.mint_token(key, user)
    api_error(await client.get("/auth"), 400)
    api_error(await client.get("/auth", params={"auth_token": "forged.token"}), 401)
    resp = await client.get(
        "/auth", params={"auth_token": token, "next": "//evil.example/x"}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"  # off-site next refused
    set_cookie = resp.headers["set-cookie"]
    assert SESSION_COOKIE in set_cookie and "HttpOnly" in set_cookie
    session = client.cookies.get(SESSION_COOKIE)
    assert session and session != token
    assert tokens.verify_token(key, session).user == user
    # the cookie alone authorises a mutating request
    other, _ = tokens.mint_token(key, user)
    resp = await client.post("/auth/revoke", json={"token": other})
    assert resp.status_code == 200, resp.text
    # logout revokes the session and clears the cookie
    resp = await client.get("/logout", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    assert client.cookies.get(SESSION_COOKIE) is None
    client.cookies.set(SESSION_COOKIE, session)
    doc = api_error(await client.post("/auth/revoke", json={"token": other}), 401)
    assert "revoked" in doc["detail"]
    client.cookies.clear()


async def test_auth_with_next_path(client: Any, key: bytes) -> None:
    token, _ = tokens.mint_token(key, _user())
    resp = await client.get(
        "/auth", params={"auth_token": token, "next": "/runs"}, follow_redirects=False
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/runs"
    client.cookies.clear()


async def test_current_user_on_reads(settings: Settings, redis_url: str, key: bytes) -> None:
    import contextlib

    from litestar import Litestar, Request, get

    from api.auth import current_user, require_auth
    from api.errors import exception_handlers

    @get("/whoami")
    async def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"user": current_user(request)}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        redis = _redis(redis_url)
        app.state.resources = _auth_only_resources(settings, redis, key)
        yield
        await redis.aclose()

    app = Litestar(
        route_handlers=[whoami],
        guards=[require_auth],
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
    )
    user = _user()
    token, _ = tokens.mint_token(key, user)
    async with AsyncTestClient(app=app) as c:
        assert (await c.get("/whoami")).json() == {"user": None}
        assert (await c.get("/whoami", headers=_bearer(token))).json() == {"user": user}
        # a bad token on a read is ignored, not refused
        resp = await c.get("/whoami", headers=_bearer("garbage"))
        assert resp.status_code == 200 and resp.json() == {"user": None}
        c.cookies.set(SESSION_COOKIE, token)
        assert (await c.get("/whoami")).json() == {"user": user}


async def test_redis_down_reads_open_writes_503(settings: Settings, key: bytes) -> None:
    import contextlib

    from litestar import Litestar, Request, get, post

    from api.auth import current_user, require_auth
    from api.errors import exception_handlers

    @get("/whoami")
    async def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"user": current_user(request)}

    @post("/write", status_code=200)
    async def write() -> dict[str, bool]:
        return {"ok": True}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        redis = _redis("redis://127.0.0.1:1/0", socket_connect_timeout=1)
        app.state.resources = _auth_only_resources(settings, redis, key)
        yield
        await redis.aclose()

    app = Litestar(
        route_handlers=[whoami, write],
        guards=[require_auth],
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
    )
    token, _ = tokens.mint_token(key, _user())
    async with AsyncTestClient(app=app) as c:
        resp = await c.get("/whoami", headers=_bearer(token))
        assert resp.status_code == 200 and resp.json() == {"user": None}
        doc = api_error(await c.post("/write", headers=_bearer(token)), 503)
        assert "Redis" in doc["detail"]
        api_error(await c.post("/write"), 401)  # no token: refused without asking Redis


def _auth_only_resources(settings: Settings, redis: Any, key: bytes) -> Resources:
    """Resources for a bare app that only authenticates (no database, queue or stores)."""
    return Resources(
        settings=settings,
        db=None,
        redis=redis,
        arq=None,  # type: ignore[arg-type]
        stores=None,  # type: ignore[arg-type]
        keys=settings.services.keys,
        token_key=key,
    )
