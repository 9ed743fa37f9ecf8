"""Live runs mirrored to S3: every segment and playlist in the bucket as produced."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiobotocore.session
import pytest

from cache.s3 import IMMUTABLE, NO_CACHE, S3Store, open_s3_client
from streamer.content.stores import hls_dir
from tests.api.conftest import LiveServer
from tests.api.live_media import ffprobe_json, live_recipe, parse_playlist

KEYS = ("testing", "testing")
SECONDS, FPS = 4.0, 25

pytestmark = pytest.mark.timeout(180)


@contextlib.asynccontextmanager
async def _bucket(endpoint: str) -> AsyncIterator[S3Store]:
    async with open_s3_client(
        aiobotocore.session.get_session(), endpoint, "us-east-1", KEYS
    ) as client:
        store = S3Store(client, f"artdag-s1-{uuid.uuid4().hex[:10]}")
        await store.ensure_bucket()
        # The operator publishes the HLS prefix (players fetch anonymously).
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{store.bucket}/hls/*",
                }
            ],
        }
        await client.put_bucket_policy(Bucket=store.bucket, Policy=json.dumps(policy))
        yield store


async def _s3_live(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    endpoint: str,
    bucket: str,
) -> contextlib.AbstractAsyncContextManager[LiveServer]:
    return live_factory(
        S3_ENDPOINT_URL=endpoint,
        S3_BUCKET=bucket,
        S3_ACCESS_KEY_ID=KEYS[0],
        S3_SECRET_ACCESS_KEY=KEYS[1],
    )


async def test_live_run_is_mirrored_to_s3(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
    s3_endpoint: str,
    ffprobe: str,
) -> None:
    async with (
        _bucket(s3_endpoint) as s3,
        await _s3_live(live_factory, s3_endpoint, s3.bucket) as live,
    ):
        resp = await live.client.post(
            "/runs", json={"recipe": live_recipe(SECONDS, FPS), "pace": 1.0}
        )
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        run = (await live.client.get(f"/api/run/{run_id}")).json()
        key = f"hls/{run_id}/playlist.m3u8"
        assert run["s3_playlist_key"] == key
        url = run["links"]["s3_playlist"]
        assert url == f"{s3_endpoint.rstrip('/')}/{s3.bucket}/{key}"

        # While the run renders (paced at real time), the bucket already holds a
        # live playlist, and every segment it lists is there.
        live_seen: dict[str, Any] | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            if await s3.exists(key):
                text = (await s3.get(key)).decode()
                pl = parse_playlist(text)
                if pl["segments"] and not pl["endlist"]:
                    live_seen = pl
                    for name, _ in pl["segments"]:
                        assert await s3.exists(f"hls/{run_id}/{name}"), name
                    break
                if pl["endlist"]:
                    break
            await asyncio.sleep(0.1)
        assert live_seen is not None, "no live (un-ended) playlist appeared in S3 mid-render"
        status = (await live.client.get(f"/api/run/{run_id}")).json()["status"]
        assert status in ("running", "completed")

        run = await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed"))
        assert run["status"] == "completed", run

        # Byte-identical: every local HLS file is in the bucket, and nothing else.
        local_dir = hls_dir(live.settings, run_id)
        local = {
            p.name: p.read_bytes()
            for p in local_dir.iterdir()
            if p.is_file() and not p.name.startswith(".")
        }
        listed = {o["key"].removeprefix(f"hls/{run_id}/") for o in await s3.list(f"hls/{run_id}/")}
        assert listed == set(local), (listed, set(local))
        for name, data in local.items():
            assert await s3.get(f"hls/{run_id}/{name}") == data, name
        final = parse_playlist(local["playlist.m3u8"].decode())
        assert final["endlist"] and len(final["segments"]) == run["segment_count"] >= 3

        head = await s3.client.head_object(Bucket=s3.bucket, Key=key)
        assert head["ContentType"] == "application/vnd.apple.mpegurl"
        assert head["CacheControl"] == NO_CACHE
        seg_key = f"hls/{run_id}/{final['segments'][0][0]}"
        head = await s3.client.head_object(Bucket=s3.bucket, Key=seg_key)
        assert head["ContentType"] == "video/mp2t" and head["CacheControl"] == IMMUTABLE

        # A player reads the stream straight from the bucket over HTTP.
        probe = await ffprobe_json(
            ffprobe, url, "-select_streams", "v:0", "-count_frames", "-show_streams"
        )
        assert int(probe["streams"][0]["nb_read_frames"]) == round(SECONDS * FPS)

        # A cancelled run's S3 playlist is closed too, so players stop waiting.
        resp = await live.client.post("/runs", json={"recipe": live_recipe(60.0), "pace": 1.0})
        run_id = resp.json()["run_id"]
        await live.wait_run(run_id, lambda r: r["segment_count"] >= 1)
        resp = await live.client.post(f"/runs/{run_id}/cancel")
        assert resp.json()["status"] == "cancelled", resp.text
        key = f"hls/{run_id}/playlist.m3u8"
        local_pl = hls_dir(live.settings, run_id) / "playlist.m3u8"
        deadline = loop.time() + 15
        while loop.time() < deadline:
            text = (await s3.get(key)).decode() if await s3.exists(key) else ""
            if "#EXT-X-ENDLIST" in text:
                break
            await asyncio.sleep(0.2)
        assert text.encode() == local_pl.read_bytes() and parse_playlist(text)["endlist"]
        for name, _ in parse_playlist(text)["segments"]:
            assert await s3.exists(f"hls/{run_id}/{name}"), name


async def test_no_s3_link_without_a_bucket(live_server: LiveServer) -> None:
    resp = await live_server.client.post("/runs", json={"recipe": live_recipe(1.0)})
    assert resp.status_code == 201, resp.text
    run = (await live_server.client.get(f"/api/run/{resp.json()['run_id']}")).json()
    assert "s3_playlist" not in run["links"] and "s3_playlist_key" not in run
