"""Each real service the harness provides answers a real client.

These prove the environment (``scripts/test.sh`` / ``tests/conftest.py``), not
project code: when one fails, every test that needs that service would too.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest


async def test_postgres_session_database(pg_admin_dsn: str, pg_dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_dsn)
    try:
        name = await conn.fetchval("SELECT current_database()")
        assert name.startswith("artdag_test_")
        assert pg_dsn.endswith(f"/{name}") or f"/{name}?" in pg_dsn
        await conn.execute("CREATE TABLE smoke (id int PRIMARY KEY, note text)")
        await conn.execute("INSERT INTO smoke VALUES (1, 'hello')")
        assert await conn.fetchval("SELECT note FROM smoke WHERE id = 1") == "hello"
        version = await conn.fetchval("SHOW server_version_num")
        assert int(version) >= 150000
    finally:
        await conn.close()
    admin = await asyncpg.connect(pg_admin_dsn)
    try:
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) == 1
    finally:
        await admin.close()


async def test_redis_prefixed_keys(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    assert redis_prefix.startswith("artdag-test-") and redis_prefix.endswith(":")
    client = aioredis.Redis.from_url(redis_url)
    try:
        # other tests share the session prefix: scan under a sub-prefix of our own
        key = f"{redis_prefix}smoke:{uuid.uuid4().hex}"
        await client.set(key, b"value", ex=60)
        assert await client.get(key) == b"value"
        assert await client.ttl(key) > 0
        found = [k async for k in client.scan_iter(match=f"{redis_prefix}smoke:*")]
        assert key.encode() in found
        info = await client.info("server")
        assert int(str(info["redis_version"]).split(".")[0]) >= 6
    finally:
        await client.aclose()


async def test_ipfs_add_cat_pin(ipfs_api: str, ipfs_gateway: str) -> None:
    import aiohttp
    import aioipfs

    data = f"artdag smoke {uuid.uuid4()}\n".encode()
    client = aioipfs.AsyncIPFS(maddr=ipfs_api)
    try:
        added = await client.core.add_bytes(data, pin=True)
        cid = added["Hash"]
        assert cid.startswith("Qm")  # CIDv0 by default
        assert await client.cat(cid) == data
        pins = await client.pin.ls(path=cid)
        assert cid in pins["Keys"]
        await client.pin.rm(cid)
    finally:
        await client.close()

    async with aiohttp.ClientSession() as session, session.get(f"{ipfs_gateway}/{cid}") as resp:
        assert resp.status == 200
        assert await resp.read() == data


async def test_s3_bucket_roundtrip(s3_endpoint: str) -> None:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    bucket = f"artdag-smoke-{uuid.uuid4().hex[:8]}"
    body = bytes(range(256)) * 64
    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(s3={"addressing_style": "path"}),
    ) as s3:
        await s3.create_bucket(Bucket=bucket)
        try:
            await s3.put_object(Bucket=bucket, Key="seg/000.ts", Body=body)
            got = await s3.get_object(Bucket=bucket, Key="seg/000.ts", Range="bytes=10-19")
            async with got["Body"] as stream:
                assert await stream.read() == body[10:20]
            listed = await s3.list_objects_v2(Bucket=bucket, Prefix="seg/")
            assert [o["Key"] for o in listed["Contents"]] == ["seg/000.ts"]
            assert listed["Contents"][0]["Size"] == len(body)
        finally:
            await s3.delete_object(Bucket=bucket, Key="seg/000.ts")
            listed = await s3.list_objects_v2(Bucket=bucket)
            assert listed.get("KeyCount", 0) == 0
            await s3.delete_bucket(Bucket=bucket)


def _tone_and_bars(path: str) -> None:
    """A 1 s test clip (colour bars + 440 Hz tone) made with PyAV."""
    import av
    import numpy as np

    with av.open(path, "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(25):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, : 8 * (i % 8 + 1)] = (255, 128, 0)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        t = np.arange(48000, dtype=np.float32) / 48000
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
        for start in range(0, 48000, 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[:, start : start + 1024], format="fltp", layout="mono"
            )
            frame.sample_rate = 48000
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)


async def test_ffprobe_reads_synthetic_media(ffprobe: str, tmp_path: Path) -> None:
    path = str(tmp_path / "bars.mp4")
    await asyncio.to_thread(_tone_and_bars, path)
    result = await asyncio.to_thread(
        subprocess.run,
        [ffprobe, "-v", "error", "-of", "json", "-show_streams", path],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    streams = {s["codec_type"]: s for s in json.loads(result.stdout)["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == (64, 48)
    assert streams["audio"]["codec_name"] == "aac"


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.timeout(90)
def test_chromium_runs_javascript_headless(chromium: str, tmp_path: Path) -> None:
    page = "data:text/html,<p id=out>static</p><script>out.textContent='js-'+(6*7)</script>"
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "js-42" in result.stdout, result.stdout[-2000:]


async def test_ipfs_through_ipfs_store(ipfs_api: str) -> None:
    from cache.ipfs import IPFSStore, open_ipfs_client

    data = f"artdag store smoke {uuid.uuid4()}\n".encode()
    client = open_ipfs_client(ipfs_api)
    try:
        store = IPFSStore(client, timeout=30)
        assert await store.ping()
        cid = await store.add_bytes(data)
        assert await store.cat(cid) == data
        assert b"".join([piece async for piece in store.stream(cid)]) == data
        assert await store.is_pinned(cid)
        assert await store.unpin(cid)
        assert not await store.is_pinned(cid)
    finally:
        await client.close()


async def test_s3_through_s3_store(s3_endpoint: str) -> None:
    from aiobotocore.session import get_session

    from cache.s3 import S3Store, open_s3_client

    body = bytes(range(256)) * 16
    async with open_s3_client(get_session(), s3_endpoint, keys=("testing", "testing")) as client:
        store = S3Store(client, f"artdag-store-{uuid.uuid4().hex[:8]}")
        await store.ensure_bucket()
        await store.put_bytes("hls/seg0.ts", body)
        assert await store.exists("hls/seg0.ts")
        assert await store.get("hls/seg0.ts", range=(100, 199)) == body[100:200]
        assert [o["key"] for o in await store.list("hls/")] == ["hls/seg0.ts"]
        await store.delete("hls/seg0.ts")
        assert not await store.exists("hls/seg0.ts")
        await client.delete_bucket(Bucket=store.bucket)


def _nested_pytest(test_id: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one test of this file in a child pytest with ``env`` overriding."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", test_id],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=root,
        env={**os.environ, **env},
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("required", ["", "1"])
def test_missing_service_skips_or_fails(required: str) -> None:
    # Port 1 on loopback: nothing listens there, so Redis is unreachable.
    result = _nested_pytest(
        "tests/test_services_smoke.py::test_redis_prefixed_keys",
        ARTDAG_TEST_REDIS_URL="redis://127.0.0.1:1/0",
        ARTDAG_REQUIRE_SERVICES=required,
    )
    out = result.stdout + result.stderr
    assert "Redis not reachable at redis://127.0.0.1:1/" in out, out
    if required:
        assert result.returncode == 1, out
        assert "1 error" in out and "ARTDAG_REQUIRE_SERVICES=1" in out, out
    else:
        assert result.returncode == 0, out
        assert "1 skipped" in out, out
