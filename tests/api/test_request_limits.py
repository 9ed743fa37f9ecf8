"""Request limits on a real uvicorn server: oversized bodies (413), stalled or slow bodies
(408), slow request heads (408, closed), and the server answering others meanwhile.

The misbehaving clients speak HTTP by hand (:mod:`tests.api.raw_http`); the
stack is the production one (``streamer.entry.http_server`` protocol, the body
timeout middleware) with small limits and timeouts. Every test runs against
each guarded protocol (httptools, the one served when installed, and h11, the
fallback): the module's server is parametrized over them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from streamer.entry.app import REQUEST_MAX_BODY_BYTES
from streamer.entry.http_server import available_protocols
from streamer.present.uploads import MULTIPART_OVERHEAD
from tests.api.conftest import LiveServer
from tests.api.raw_http import RawConnection, head_bytes

LIMIT = 100_000
BODY_TIMEOUT = 1.0
HEADER_TIMEOUT = 1.5


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=["httptools", "h11"])
async def live(
    request: pytest.FixtureRequest,
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
) -> AsyncIterator[LiveServer]:
    protocol = available_protocols().get(request.param)
    if protocol is None:
        pytest.skip(f"{request.param} is not installed")
    async with live_factory(
        http_protocol=protocol,
        UPLOAD_MAX_BYTES=str(LIMIT),
        ARTDAG_BODY_TIMEOUT=str(BODY_TIMEOUT),
        ARTDAG_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
    ) as server:
        yield server


pytestmark = pytest.mark.asyncio(loop_scope="session")


def _auth(live: LiveServer, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.token}", **headers}


def _partial_files(cache_dir: Path) -> list[Path]:
    """Files of unfinished writes (LocalStore keeps them in .tmp/ only)."""
    return [p for p in (cache_dir / ".tmp").iterdir()]


def _stored_files(cache_dir: Path) -> set[Path]:
    return {p for p in cache_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts}


async def _connect(live: LiveServer) -> RawConnection:
    return await RawConnection.open(live.url)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def test_declared_length_over_the_limit_is_refused_before_reading(live: LiveServer) -> None:
    conn = await _connect(live)
    try:
        head = head_bytes(
            "POST",
            "/cache/upload?filename=big.bin",
            _auth(
                live, **{"Content-Length": str(10**9), "Content-Type": "application/octet-stream"}
            ),
        )
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await conn.send(head + b"x" * 1000)  # a little of the body, then nothing
        resp = await conn.response(timeout=5)
        assert loop.time() - t0 < 1.0  # answered at once, not after reading (or waiting)
        assert resp.status == 413
        doc = resp.json()
        assert doc["status"] == 413 and f"limit of {LIMIT} bytes" in doc["detail"], doc
        assert "UPLOAD_MAX_BYTES" in doc["detail"]
        # the unread rest is not waited for beyond the body timeout: no hanging connection
        assert await conn.closed_within(BODY_TIMEOUT + 2)
    finally:
        await conn.close()
    assert _partial_files(live.cache_dir) == []


async def test_chunked_upload_over_the_limit_is_cut_off(live: LiveServer) -> None:
    before = _stored_files(live.cache_dir)
    conn = await _connect(live)
    try:
        head = head_bytes(
            "POST",
            "/cache/upload?filename=big.bin",
            _auth(
                live,
                **{"Transfer-Encoding": "chunked", "Content-Type": "application/octet-stream"},
            ),
        )
        await conn.send(head)
        piece = b"\x5a" * 16_384
        for _ in range(LIMIT // len(piece) + 2):  # past the limit, no terminating chunk
            if not await conn.send(_chunk(piece)):
                break
        resp = await conn.response(timeout=5)
        assert resp.status == 413
        assert f"limit of {LIMIT} bytes" in resp.json()["detail"]
        assert await conn.closed_within(BODY_TIMEOUT + 2)
    finally:
        await conn.close()
    assert _partial_files(live.cache_dir) == []
    assert _stored_files(live.cache_dir) == before


async def test_web_form_upload_over_the_limit(live: LiveServer) -> None:
    conn = await _connect(live)
    try:
        head = head_bytes(
            "POST",
            "/web/media/upload",
            _auth(
                live,
                **{
                    "Content-Length": str(LIMIT + MULTIPART_OVERHEAD + 1),
                    "Content-Type": "multipart/form-data; boundary=xyz",
                    "Accept": "text/html",
                },
            ),
        )
        await conn.send(head)
        resp = await conn.response(timeout=5)
        assert resp.status == 413
        assert f"limit of {LIMIT} bytes" in resp.body.decode()  # shown inline on the page
    finally:
        await conn.close()
    assert _partial_files(live.cache_dir) == []


async def test_web_form_upload_that_stalls(live: LiveServer) -> None:
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
    conn = await _connect(live)
    try:
        head = head_bytes(
            "POST",
            "/web/media/upload",
            _auth(
                live,
                **{
                    "Content-Length": "50000",
                    "Content-Type": "multipart/form-data; boundary=xyz",
                    "Accept": "text/html",
                },
            ),
        )
        await conn.send(head + part + b"\x00" * 100)  # then nothing
        resp = await conn.response(timeout=BODY_TIMEOUT + 3)
        assert resp.status == 408
        assert "ARTDAG_BODY_TIMEOUT" in resp.body.decode()  # shown inline on the page
        assert resp.headers.get("connection") == "close"
    finally:
        await conn.close()
    assert _partial_files(live.cache_dir) == []


async def test_json_endpoints_have_a_body_limit(live: LiveServer) -> None:
    over = REQUEST_MAX_BODY_BYTES + 1
    conn = await _connect(live)
    try:
        head = head_bytes(
            "POST",
            "/runs",
            _auth(live, **{"Content-Length": str(over), "Content-Type": "application/json"}),
        )
        await conn.send(head)
        resp = await conn.response(timeout=5)
        assert resp.status == 413
        assert f"limit of {REQUEST_MAX_BODY_BYTES} bytes" in resp.json()["detail"]
    finally:
        await conn.close()
    # without a length: cut off once the streamed bytes pass the limit
    resp2 = await live.client.post(
        "/recipes/upload",
        content=_chunks(b" " * over, 65_536),
        headers={"Content-Type": "application/json"},
    )
    assert resp2.status_code == 413, resp2.text
    assert f"limit of {REQUEST_MAX_BODY_BYTES} bytes" in resp2.json()["detail"]


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _slow_upload(
    live: LiveServer, interval: float
) -> tuple[RawConnection, asyncio.Task[Any]]:
    """An upload declaring 50 kB that sends a few bytes, then one byte every ``interval`` s."""
    conn = await _connect(live)
    head = head_bytes(
        "POST",
        "/cache/upload?filename=slow.bin",
        _auth(live, **{"Content-Length": "50000", "Content-Type": "application/octet-stream"}),
    )
    await conn.send(head + b"0123456789")
    return conn, asyncio.create_task(conn.trickle(b"z" * 1000, interval))


@pytest.mark.parametrize(
    "interval",
    [60.0, 0.2],  # stalled: nothing more; slow: 5 bytes/s, each read well within the timeout
    ids=["stalled", "trickling"],
)
async def test_slow_upload_body_answers_408_and_keeps_nothing(
    live: LiveServer, interval: float
) -> None:
    before = _stored_files(live.cache_dir)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    conn, trickle = await _slow_upload(live, interval)
    try:
        resp = await conn.response(timeout=BODY_TIMEOUT + 3)
        assert loop.time() - t0 < BODY_TIMEOUT + 1.5
        assert resp.status == 408
        doc = resp.json()
        assert doc["status"] == 408 and "ARTDAG_BODY_TIMEOUT" in doc["detail"], doc
        assert resp.headers.get("connection") == "close"
        assert await conn.closed_within(2)
    finally:
        trickle.cancel()
        await conn.close()
    assert _partial_files(live.cache_dir) == []
    assert _stored_files(live.cache_dir) == before


async def test_slow_request_head_is_answered_408_and_closed(live: LiveServer) -> None:
    conn = await _connect(live)
    try:
        await conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        trickle = asyncio.create_task(conn.trickle(b"X-Slow: " + b"a" * 200, 0.1))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        resp = await conn.response(timeout=HEADER_TIMEOUT + 3)
        assert loop.time() - t0 < HEADER_TIMEOUT + 1
        assert resp.status == 408
        assert "ARTDAG_HEADER_TIMEOUT" in resp.json()["detail"]
        assert await conn.closed_within(2)
        trickle.cancel()
    finally:
        await conn.close()
    silent = await _connect(live)  # a connection that never sends anything is closed too
    try:
        assert await silent.closed_within(HEADER_TIMEOUT + 2)
    finally:
        await silent.close()


async def test_kept_alive_connection_gets_the_head_timeout_from_its_last_response(
    live: LiveServer,
) -> None:
    health = head_bytes("GET", "/health", {})
    conn = await _connect(live)
    loop = asyncio.get_running_loop()
    try:
        await conn.send(health)
        assert (await conn.response(timeout=5)).status == 200
        await asyncio.sleep(HEADER_TIMEOUT * 0.7)  # idle, under the timeout: still open
        await conn.send(health)
        assert (await conn.response(timeout=5)).status == 200
        answered = loop.time()
        await conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never completed
        resp = await conn.response(timeout=HEADER_TIMEOUT + 3)
        waited = loop.time() - answered
        # counted from the second response (from the connection's start it would be
        # ~0.3 x HEADER_TIMEOUT), and not much later
        assert HEADER_TIMEOUT - 0.1 < waited < HEADER_TIMEOUT + 1, waited
        assert resp.status == 408
        assert resp.json()["status"] == 408
        assert await conn.closed_within(2)
    finally:
        await conn.close()


async def test_pipelined_requests_are_all_answered_then_an_idle_connection_closes(
    live: LiveServer,
) -> None:
    conn = await _connect(live)
    try:
        await conn.send(head_bytes("GET", "/health", {}) * 3)  # one write, three requests
        for _ in range(3):
            assert (await conn.response(timeout=5)).status == 200
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        # nothing more came: closed after the head timeout, silently (no 408)
        assert await asyncio.wait_for(conn.reader.read(65536), HEADER_TIMEOUT + 2) == b""
        assert loop.time() - t0 > HEADER_TIMEOUT - 0.1
    finally:
        await conn.close()


async def test_body_left_unread_by_an_answer_is_drained_then_the_connection_serves_on(
    live: LiveServer,
) -> None:
    conn = await _connect(live)
    try:
        head = head_bytes("POST", "/no/such/route", {"Content-Length": "10"})
        await conn.send(head)  # answered (404) before its body was read
        assert (await conn.response(timeout=5)).status == 404
        await conn.send(b"0123456789" + head_bytes("GET", "/health", {}))
        resp = await conn.response(timeout=5)
        assert resp.status == 200, resp.body
    finally:
        await conn.close()


async def test_server_keeps_serving_while_slow_clients_hang(live: LiveServer) -> None:
    heads = [await _connect(live) for _ in range(50)]
    tricklers = [
        asyncio.create_task(c.trickle(b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 100, 0.25))
        for c in heads
    ]
    bodies = [await _slow_upload(live, 0.25) for _ in range(5)]
    loop = asyncio.get_running_loop()
    try:
        for _ in range(5):  # while they hang, a normal client is answered promptly
            t0 = loop.time()
            resp = await live.client.get("/health")
            assert resp.status_code == 200, resp.text
            assert loop.time() - t0 < 0.5
            await asyncio.sleep(0.2)
        # and every slow client is cut off within its timeout
        closed = await asyncio.gather(
            *(c.closed_within(HEADER_TIMEOUT + 3) for c in heads),
            *(c.closed_within(BODY_TIMEOUT + 3) for c, _ in bodies),
        )
        assert all(closed), closed.count(False)
    finally:
        for task in [*tricklers, *(t for _, t in bodies)]:
            task.cancel()
        for conn in [*heads, *(c for c, _ in bodies)]:
            await conn.close()
    assert (await live.client.get("/health")).status_code == 200
    assert _partial_files(live.cache_dir) == []
