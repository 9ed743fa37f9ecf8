"""Session fixtures for the real services and tools the tests talk to.

Where each comes from (``scripts/test.sh`` sets all of these):

- ``ARTDAG_TEST_DATABASE_URL``: admin DSN (default
  ``postgresql://postgres@127.0.0.1:5432/postgres``); ``pg_dsn`` creates a
  fresh database ``artdag_test_<random>`` from it and drops it at the end.
- ``ARTDAG_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``): ``redis_url``
  points at database ``ARTDAG_TEST_REDIS_DB`` (default 9); ``redis_prefix`` is
  unique per session and its keys are deleted at the end.
- ``ARTDAG_TEST_IPFS_API`` (multiaddr), ``ARTDAG_TEST_IPFS_GATEWAY`` (URL),
  ``ARTDAG_TEST_S3_ENDPOINT`` (URL): no defaults.
- ``ffprobe`` and ``chromium``: from PATH (``ARTDAG_TEST_CHROMIUM`` overrides).

A service that is not configured or not reachable skips the test with the
reason, unless ``ARTDAG_REQUIRE_SERVICES=1``: then the test fails. Tests that
use these fixtures get the matching marker (``postgres``, ``redis``, ``ipfs``,
``s3``, ``ffmpeg``, ``browser``) so ``-m "not ipfs"`` deselects them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_REDIS_DB = 9
PROBE_TIMEOUT = 5.0

# fixture name -> marker added to every test that uses it
FIXTURE_MARKERS = {
    "pg_admin_dsn": "postgres",
    "pg_dsn": "postgres",
    "redis_url": "redis",
    "redis_prefix": "redis",
    "ipfs_api": "ipfs",
    "ipfs_gateway": "ipfs",
    "s3_endpoint": "s3",
    "ffprobe": "ffmpeg",
    "chromium": "browser",
}
MARKERS = {
    "postgres": "needs a real PostgreSQL server (pg_admin_dsn / pg_dsn)",
    "redis": "needs a real Redis server (redis_url)",
    "ipfs": "needs a real IPFS node with the /api/v0 RPC API (ipfs_api)",
    "s3": "needs a real S3 endpoint (s3_endpoint)",
    "ffmpeg": "needs the ffprobe/ffmpeg executables",
    "browser": "needs a headless Chromium",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            marker = FIXTURE_MARKERS.get(fixture)
            if marker and not item.get_closest_marker(marker):
                item.add_marker(marker)


def services_required() -> bool:
    """True when a missing service must fail the test instead of skipping it."""
    return os.environ.get("ARTDAG_REQUIRE_SERVICES", "") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip (or, with ARTDAG_REQUIRE_SERVICES=1, fail) the requesting test."""
    if services_required():
        pytest.fail(f"{reason} (ARTDAG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def with_path(url: str, path: str) -> str:
    """``url`` with its path replaced (query and credentials kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def multiaddr_to_http(multiaddr: str) -> str:
    """``/ip4|/ip6|/dns|/dns4|/dns6/HOST/tcp/PORT`` -> ``http://HOST:PORT``."""
    parts = multiaddr.strip("/").split("/")
    if len(parts) < 4 or parts[0] not in {"ip4", "ip6", "dns", "dns4", "dns6"} or parts[2] != "tcp":
        raise ValueError(f"{multiaddr!r}: expected /ip4|/dns/HOST/tcp/PORT")
    host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
    return f"http://{host}:{int(parts[3])}"


# --- PostgreSQL -----------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_admin_dsn() -> str:
    """An admin DSN of a reachable PostgreSQL server (may CREATE DATABASE)."""
    import asyncpg

    dsn = os.environ.get("ARTDAG_TEST_DATABASE_URL") or DEFAULT_PG
    try:
        conn = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        unavailable(f"PostgreSQL not reachable at {dsn}: {exc}")
    await conn.close()
    return dsn


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_dsn(pg_admin_dsn: str) -> AsyncIterator[str]:
    """DSN of a fresh, empty database for this session, dropped at the end."""
    import asyncpg

    name = f"artdag_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_admin_dsn, timeout=PROBE_TIMEOUT)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_path(pg_admin_dsn, f"/{name}")
    finally:
        admin = await asyncpg.connect(pg_admin_dsn, timeout=PROBE_TIMEOUT)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- Redis ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    """A key prefix unique to this session, e.g. ``artdag-test-1a2b3c4d5e:``."""
    return f"artdag-test-{uuid.uuid4().hex[:10]}:"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_url(redis_prefix: str) -> AsyncIterator[str]:
    """URL of the tests' dedicated Redis database; keys under ``redis_prefix`` are
    deleted at the end of the session."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    base = os.environ.get("ARTDAG_TEST_REDIS_URL") or DEFAULT_REDIS
    db = int(os.environ.get("ARTDAG_TEST_REDIS_DB", DEFAULT_REDIS_DB))
    url = with_path(base, f"/{db}")
    client = aioredis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        unavailable(f"Redis not reachable at {url}: {exc}")
    try:
        yield url
    finally:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


# --- IPFS and S3 ----------------------------------------------------------------


async def _http_ok(method: str, url: str) -> str | None:
    """None when ``url`` answers (2xx for POST, anything for GET), else why not."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url) as resp,
        ):
            await resp.read()
            if method == "POST" and resp.status != 200:
                return f"HTTP {resp.status}"
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ipfs_api() -> str:
    """Multiaddr (``/ip4/127.0.0.1/tcp/PORT``) of a real IPFS node's RPC API."""
    addr = os.environ.get("ARTDAG_TEST_IPFS_API", "")
    if not addr:
        unavailable("ARTDAG_TEST_IPFS_API is not set (no IPFS node configured)")
    try:
        http = multiaddr_to_http(addr)
    except ValueError as exc:
        unavailable(f"ARTDAG_TEST_IPFS_API: {exc}")
    error = await _http_ok("POST", f"{http}/api/v0/id")
    if error:
        unavailable(f"IPFS API not reachable at {addr}: {error}")
    return addr


@pytest.fixture(scope="session")
def ipfs_gateway(ipfs_api: str) -> str:
    """Gateway base URL of the same node, e.g. ``http://127.0.0.1:PORT/ipfs``."""
    url = os.environ.get("ARTDAG_TEST_IPFS_GATEWAY", "")
    if not url:
        unavailable("ARTDAG_TEST_IPFS_GATEWAY is not set")
    return url.rstrip("/")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def s3_endpoint() -> str:
    """Endpoint URL of a real S3 server (path-style addressing)."""
    url = os.environ.get("ARTDAG_TEST_S3_ENDPOINT", "")
    if not url:
        unavailable("ARTDAG_TEST_S3_ENDPOINT is not set (no S3 endpoint configured)")
    error = await _http_ok("GET", url)
    if error:
        unavailable(f"S3 endpoint not reachable at {url}: {error}")
    return url.rstrip("/")


# --- tools ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def ffprobe() -> str:
    """Path of the ffprobe executable (Debian package ffmpeg)."""
    path = shutil.which("ffprobe")
    if path is None:
        unavailable("ffprobe not found on PATH (Debian package ffmpeg)")
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium executable for headless browser tests."""
    override = os.environ.get("ARTDAG_TEST_CHROMIUM")
    candidates = [override] if override else ["chromium", "chromium-browser", "google-chrome"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    unavailable(f"no Chromium found (tried {', '.join(candidates)}; Debian package chromium)")
