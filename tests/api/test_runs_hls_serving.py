"""Serving the live HLS to players: ETags, 304s, ranges, 404s, and no database per request.

The app runs in process without a worker (runs stay pending); the test writes
the run's HLS files itself, as the render would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from streamer.content.live_hls import PLAYLIST_NAME
from streamer.content.stores import hls_dir
from streamer.present.deps import RESOURCES_STATE, provide_resources
from streamer.present.session import SESSION_COOKIE
from streamer.resources import Resources
from tests.api.helpers import api_error, viewer_client
from tests.api.live_media import live_recipe

RECHECK = 0.15  # a little over LiveHlsFiles' default window (0.1 s)


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Any]:
    async with viewer_client(pg_dsn, redis_url, redis_prefix, tmp_path / "data") as c:
        yield c


def _res(client: Any) -> Resources:
    return provide_resources(client.app_state)


async def _run_with_hls(client: Any, segments: int = 2) -> tuple[str, Path, list[str]]:
    """A pending run whose HLS directory holds ``segments`` segments and their playlist."""
    resp = await client.post("/runs", json={"recipe": live_recipe(1.0)})
    assert resp.status_code == 201, resp.text
    run_id: str = resp.json()["run_id"]
    directory = hls_dir(_res(client).settings, run_id)
    directory.mkdir(parents=True)
    names = [_segment(directory, n) for n in range(segments)]
    _playlist(directory, names)
    return run_id, directory, names


def _segment(directory: Path, n: int) -> str:
    name = f"{n + 1:064x}.ts"
    (directory / name).write_bytes(bytes([0x47]) + bytes([n]) * 1000)
    return name


def _playlist(directory: Path, names: list[str], *, ended: bool = False) -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
    text += "".join(f"#EXTINF:2.0,\n{n}\n" for n in names)
    text += "#EXT-X-ENDLIST\n" if ended else ""
    tmp = directory / ".tmp-playlist"
    tmp.write_text(text)
    os.replace(tmp, directory / PLAYLIST_NAME)


async def test_playlist_etag_answers_304_and_changes_as_it_grows(client: Any) -> None:
    run_id, directory, names = await _run_with_hls(client)
    url = f"/runs/{run_id}/playlist.m3u8"
    first = await client.get(url)
    assert first.status_code == 200 and first.text.count("#EXTINF") == 2
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["access-control-allow-origin"] == "*"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    same = await client.get(url, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == etag and same.headers["access-control-allow-origin"] == "*"
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    _playlist(directory, [*names, _segment(directory, 2)])
    await asyncio.sleep(RECHECK)
    grown = await client.get(url, headers={"If-None-Match": etag})
    assert grown.status_code == 200 and grown.text.count("#EXTINF") == 3
    assert grown.headers["etag"] != etag
    _playlist(directory, [*names, _segment(directory, 2)], ended=True)
    await asyncio.sleep(RECHECK)
    ended = await client.get(url, headers={"If-None-Match": grown.headers["etag"]})
    assert ended.status_code == 200 and ended.text.rstrip().endswith("#EXT-X-ENDLIST")
    assert ended.headers["cache-control"] == "public, max-age=60"


async def test_segment_etag_last_modified_304_and_range(client: Any) -> None:
    run_id, directory, names = await _run_with_hls(client)
    url = f"/runs/{run_id}/{names[1]}"
    full = await client.get(url)
    assert full.status_code == 200 and full.content == (directory / names[1]).read_bytes()
    assert full.headers["content-type"].startswith("video/mp2t")
    assert full.headers["etag"] == f'"{names[1]}"' and "immutable" in full.headers["cache-control"]
    assert full.headers["accept-ranges"] == "bytes" and full.headers["last-modified"]
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"nope", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 304 and r.content == b"", headers
        assert r.headers["etag"] == etag
    for headers in (
        {"If-None-Match": '"nope"', "If-Modified-Since": modified},  # the tag decides
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"If-Modified-Since": "not a date"},
    ):
        assert (await client.get(url, headers=headers)).status_code == 200, headers
    part = await client.get(url, headers={"Range": "bytes=1-10"})
    assert part.status_code == 206 and part.content == full.content[1:11]
    assert part.headers["content-range"] == f"bytes 1-10/{len(full.content)}"
    api_error(await client.get(url, headers={"Range": "bytes=5000-"}), 416)


class _Counting:
    """Stands in for a client: counts every attribute used (a query, an acquire...)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.used: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.used.append(name)
        return getattr(self.inner, name)


async def test_playlist_and_segment_gets_touch_neither_postgres_nor_redis(client: Any) -> None:
    run_id, _, names = await _run_with_hls(client)
    res = _res(client)
    db, redis = _Counting(res.db), _Counting(res.redis)
    counted = dataclasses.replace(res, db=cast(Any, db), redis=cast(Any, redis))
    setattr(client.app_state, RESOURCES_STATE, counted)
    try:
        # a browser's session cookie too: the guard must not check it (Redis) on these routes
        client.cookies.set(SESSION_COOKIE, "a-session-token")
        for _ in range(3):
            pl = await client.get(f"/runs/{run_id}/playlist.m3u8")
            assert pl.status_code == 200
            again = await client.get(
                f"/runs/{run_id}/playlist.m3u8", headers={"If-None-Match": pl.headers["etag"]}
            )
            assert again.status_code == 304
            for name in names:
                assert (await client.get(f"/runs/{run_id}/{name}")).status_code == 200
            await asyncio.sleep(RECHECK)  # the playlist is checked on disk again
        assert db.used == [] and redis.used == []
        # the counters do see a request that needs the database: an unknown run
        api_error(await client.get("/runs/no-such-run/playlist.m3u8"), 404)
        assert db.used
    finally:
        client.cookies.clear()
        setattr(client.app_state, RESOURCES_STATE, res)


async def test_404s_name_the_run_or_the_missing_playlist_or_segment(client: Any) -> None:
    unknown = "0f0f0f0f-0000-4000-8000-000000000000"
    doc = api_error(await client.get(f"/runs/{unknown}/playlist.m3u8"), 404)
    assert unknown in doc["detail"] and "not found" in doc["detail"]
    doc = api_error(await client.get(f"/runs/{unknown}/{'a' * 64}.ts"), 404)
    assert unknown in doc["detail"] and "not found" in doc["detail"]
    api_error(await client.get("/runs/..%2F..%2Fx/playlist.m3u8"), 404)
    resp = await client.post("/runs", json={"recipe": live_recipe(1.0)})
    run_id = resp.json()["run_id"]
    doc = api_error(await client.get(f"/runs/{run_id}/playlist.m3u8"), 404)
    assert "no playlist yet" in doc["detail"]
    doc = api_error(await client.get(f"/runs/{run_id}/{'a' * 64}.ts"), 404)
    assert "is not a segment" in doc["detail"]
    run_id, directory, _ = await _run_with_hls(client)
    doc = api_error(await client.get(f"/runs/{run_id}/{'b' * 64}.ts"), 404)
    assert "is not a segment" in doc["detail"]
    outside = directory.parent / f"{'c' * 64}.ts"
    outside.write_bytes(b"\x47" * 188)
    (directory / outside.name).symlink_to(outside)
    api_error(await client.get(f"/runs/{run_id}/{outside.name}"), 404)


async def test_a_deleted_run_is_not_served_from_memory(client: Any) -> None:
    run_id, directory, names = await _run_with_hls(client)
    assert (await client.get(f"/runs/{run_id}/playlist.m3u8")).status_code == 200
    assert (await client.get(f"/runs/{run_id}/{names[0]}")).status_code == 200
    assert (await client.delete(f"/runs/{run_id}")).status_code == 200
    assert not directory.exists()
    doc = api_error(await client.get(f"/runs/{run_id}/playlist.m3u8"), 404)
    assert "not found" in doc["detail"]
    api_error(await client.get(f"/runs/{run_id}/{names[0]}"), 404)
    # files removed behind the server's back (another process): gone after the window
    run_id, directory, names = await _run_with_hls(client)
    assert (await client.get(f"/runs/{run_id}/{names[0]}")).status_code == 200
    for p in directory.iterdir():
        p.unlink()
    await asyncio.sleep(RECHECK)
    doc = api_error(await client.get(f"/runs/{run_id}/{names[0]}"), 404)
    assert "is not a segment" in doc["detail"]
    doc = api_error(await client.get(f"/runs/{run_id}/playlist.m3u8"), 404)
    assert "no playlist yet" in doc["detail"]
