"""Low-Latency HLS on the origin: blocking playlist reloads over HTTP, and a live LL render.

The first tests run the app without a worker and write the LL playlist revisions
themselves (the timing of an answer is then known exactly); the last renders a
run with ``HLS_PART_SECONDS`` through the real worker and reads it with ffprobe.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import m3u8
import pytest

from streamer.content.live_hls import PLAYLIST_NAME
from streamer.content.stores import hls_dir
from streamer.present.deps import provide_resources
from tests.api.helpers import api_error, viewer_client
from tests.api.live_media import ffprobe_json, live_recipe


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Any]:
    async with viewer_client(pg_dsn, redis_url, redis_prefix, tmp_path / "data") as c:
        yield c


def _ll_playlist(
    directory: Path, segments: int, parts: int, *, ended: bool = False, skip: bool = False
) -> None:
    """An LL playlist: ``segments`` complete 1 s segments, then ``parts`` parts of the next."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:1",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75"
        + (",CAN-SKIP-UNTIL=6" if skip else ""),
        "#EXT-X-PART-INF:PART-TARGET=0.25",
        "#EXT-X-MEDIA-SEQUENCE:0",
        '#EXT-X-MAP:URI="init.mp4"',
    ]
    for s in range(segments):
        lines += ["#EXTINF:1.0,", f"{s:064x}.m4s"]
    lines += [f'#EXT-X-PART:DURATION=0.25,URI="llabs{segments}p{p}.m4s"' for p in range(parts)]
    lines += ["#EXT-X-ENDLIST"] if ended else []
    tmp = directory / ".tmp-playlist"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, directory / PLAYLIST_NAME)


async def _ll_run(client: Any) -> tuple[str, Path]:
    resp = await client.post("/runs", json={"recipe": live_recipe(1.0)})
    assert resp.status_code == 201, resp.text
    run_id: str = resp.json()["run_id"]
    directory = hls_dir(provide_resources(client.app_state).settings, run_id)
    directory.mkdir(parents=True)
    _ll_playlist(directory, 2, 1)
    return run_id, directory


async def test_blocking_reload_answers_once_the_part_is_listed(client: Any) -> None:
    run_id, directory = await _ll_run(client)
    url = f"/runs/{run_id}/playlist.m3u8"

    written: list[float] = []

    def later() -> None:
        _ll_playlist(directory, 2, 2)  # part 1 of segment 2 appears
        written.append(time.monotonic())

    # a thread: the writer is another process in production, and the client may hold the loop
    threading.Timer(0.4, later).start()
    started = time.monotonic()
    resp = await client.get(url, params={"_HLS_msn": 2, "_HLS_part": 1})
    answered = time.monotonic()
    assert resp.status_code == 200, resp.text
    assert "llabs2p1.m4s" in resp.text
    assert answered - started >= 0.35  # it waited for the part...
    assert answered - written[0] < 0.25  # ...and answered as soon as it was listed
    # already there: at once; a whole segment satisfies a request for any of its parts
    for params in (
        {"_HLS_msn": 1},
        {"_HLS_msn": 2, "_HLS_part": 0},
        {"_HLS_msn": 1, "_HLS_part": 9},
    ):
        started = time.monotonic()
        resp = await client.get(url, params=params)
        assert resp.status_code == 200 and time.monotonic() - started < 0.2, params


async def test_blocking_reload_for_the_next_segment_and_after_the_end(client: Any) -> None:
    run_id, directory = await _ll_run(client)
    url = f"/runs/{run_id}/playlist.m3u8"

    threading.Timer(0.3, _ll_playlist, (directory, 3, 0)).start()
    resp = await client.get(url, params={"_HLS_msn": 2})
    assert resp.status_code == 200 and f"{2:064x}.m4s" in resp.text
    _ll_playlist(directory, 3, 0, ended=True)
    await asyncio.sleep(0.15)  # past the cache's recheck window
    started = time.monotonic()
    resp = await client.get(url, params={"_HLS_msn": 4, "_HLS_part": 2})
    assert resp.status_code == 200 and "#EXT-X-ENDLIST" in resp.text
    assert time.monotonic() - started < 0.2


async def test_blocking_reload_is_bounded_then_503(client: Any) -> None:
    run_id, _ = await _ll_run(client)
    started = time.monotonic()
    resp = await client.get(f"/runs/{run_id}/playlist.m3u8", params={"_HLS_msn": 3, "_HLS_part": 0})
    waited = time.monotonic() - started
    assert resp.status_code == 503, resp.text
    api_error(resp, 503)
    assert 2.9 <= waited < 4.5  # three target durations (1 s)
    assert resp.headers["retry-after"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"_HLS_part": 1}, "_HLS_part"),
        ({"_HLS_msn": -1}, "_HLS_msn"),
        ({"_HLS_msn": "x"}, "_HLS_msn"),
        ({"_HLS_msn": 2, "_HLS_part": "1.5"}, "_HLS_part"),
        ({"_HLS_msn": 9}, "_HLS_msn"),  # more than two segments ahead
        ({"_HLS_msn": 2, "_HLS_part": 9}, "_HLS_part"),  # far past the last part
        ({"_HLS_msn": 2**40}, "_HLS_msn"),
    ],
)
async def test_bad_blocking_parameters_are_400(
    client: Any, params: dict[str, Any], field: str
) -> None:
    run_id, _ = await _ll_run(client)
    started = time.monotonic()
    resp = await client.get(f"/runs/{run_id}/playlist.m3u8", params=params)
    assert resp.status_code == 400, resp.text
    assert time.monotonic() - started < 1
    # the parameter is named (as the query has it, or as the handler's argument)
    assert field in resp.text or field.lower().lstrip("_") in resp.text


async def test_standard_playlists_ignore_blocking_parameters(client: Any) -> None:
    run_id, directory = await _ll_run(client)
    (directory / PLAYLIST_NAME).write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n")
    await asyncio.sleep(0.15)
    started = time.monotonic()
    resp = await client.get(f"/runs/{run_id}/playlist.m3u8", params={"_HLS_msn": 1})
    assert resp.status_code == 200 and time.monotonic() - started < 0.5


async def test_a_live_ll_render_serves_parts_and_blocks_on_them(
    live_factory: Any, ffprobe: str
) -> None:
    env = {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "0.32"}
    async with live_factory(**env) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(6.0), "pace": 1})
        run_id = resp.json()["run_id"]
        url = f"/runs/{run_id}/playlist.m3u8"
        deadline = time.monotonic() + 60
        text = ""
        while "#EXT-X-PART:" not in text and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            text = (await live.client.get(url)).text
        pl = m3u8.loads(text)
        assert pl.server_control.can_block_reload == "YES"
        assert pl.part_inf.part_target == pytest.approx(0.32)
        # ask for the hinted part: the answer lists it, and it is served
        hint = pl.preload_hint.uri
        msn, part = (int(x) for x in hint[:-4].split("s")[-1].split("p"))
        resp = await live.client.get(url, params={"_HLS_msn": msn, "_HLS_part": part})
        assert resp.status_code == 200, resp.text
        assert f'URI="{hint}"' in resp.text
        got = await live.client.get(f"/runs/{run_id}/{hint}")
        assert got.status_code == 200 and got.content[4:8] == b"moof"
        # ffprobe reads the fMP4 stream over HTTP mid-render (it skips the LL tags)
        probe = await ffprobe_json(ffprobe, f"{live.url}{url}", "-show_streams")
        assert {s["codec_name"] for s in probe["streams"]} == {"h264", "aac"}
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        final = (await live.client.get(url)).text
        assert "#EXT-X-ENDLIST" in final and "#EXT-X-PART" not in final
        probe = await ffprobe_json(
            ffprobe, f"{live.url}{url}", "-select_streams", "v:0", "-count_frames", "-show_streams"
        )
        assert int(probe["streams"][0]["nb_read_frames"]) == 150


async def test_a_hinted_part_is_answered_once_it_exists(client: Any) -> None:
    run_id, directory = await _ll_run(client)
    part = "ll0123abcds2p1.m4s"
    text = (directory / PLAYLIST_NAME).read_text()
    (directory / PLAYLIST_NAME).write_text(text + f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{part}"\n')
    await asyncio.sleep(0.15)

    def later() -> None:
        (directory / part).write_bytes(b"\x00\x00\x00\x08moof")
        lines = [f'#EXT-X-PART:DURATION=0.25,URI="{part}"']
        (directory / ".tmp").write_text(text + "\n".join(lines) + "\n")
        os.replace(directory / ".tmp", directory / PLAYLIST_NAME)

    threading.Timer(0.4, later).start()
    started = time.monotonic()
    resp = await client.get(f"/runs/{run_id}/{part}")
    assert resp.status_code == 200 and resp.content.endswith(b"moof")
    assert 0.35 < time.monotonic() - started < 1.5
    # a part nobody hints is 404 at once
    started = time.monotonic()
    resp = await client.get(f"/runs/{run_id}/ll0123abcds9p0.m4s")
    assert resp.status_code == 404 and time.monotonic() - started < 0.5


async def test_delta_updates_skip_old_segments(client: Any) -> None:
    run_id, directory = await _ll_run(client)
    _ll_playlist(directory, 10, 1, skip=True)
    await asyncio.sleep(0.15)
    url = f"/runs/{run_id}/playlist.m3u8"
    full = await client.get(url)
    delta = await client.get(url, params={"_HLS_skip": "YES", "_HLS_msn": 10, "_HLS_part": 0})
    assert delta.status_code == 200 and delta.headers["etag"] != full.headers["etag"]
    parsed = m3u8.loads(delta.text)
    assert parsed.version == 9 and parsed.skip.skipped_segments == 4
    assert len([s for s in parsed.segments if s.uri]) == 6
    assert parsed.segment_map[0].uri == "init.mp4"
    # a value other than YES/v2 is ignored: the whole playlist
    other = await client.get(url, params={"_HLS_skip": "NO"})
    assert other.text == full.text


async def test_an_ll_render_with_a_ladder_keeps_parts_on_the_top_rung(
    live_factory: Any, ffprobe: str
) -> None:
    env = {"HLS_CONTAINER": "fmp4", "HLS_PART_SECONDS": "0.32", "HLS_LADDER": "120p:crf30"}
    async with live_factory(**env) as live:
        resp = await live.client.post("/runs", json={"recipe": live_recipe(4.0), "pace": 1})
        run_id = resp.json()["run_id"]
        deadline = time.monotonic() + 60
        master = ""
        while "#EXT-X-STREAM-INF" not in master and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            got = await live.client.get(f"/runs/{run_id}/master.m3u8")
            master = got.text if got.status_code == 200 else ""
        variants = m3u8.loads(master).playlists
        assert sorted(v.stream_info.resolution for v in variants) == [(160, 120), (320, 240)]
        top = (await live.client.get(f"/runs/{run_id}/playlist.m3u8")).text
        rung = (await live.client.get(f"/runs/{run_id}/playlist_120p.m3u8")).text
        # the origin's blocking reloads are the top rung's: the lower rung is standard HLS
        assert "CAN-BLOCK-RELOAD=YES" in top and "#EXT-X-PART-INF" in top
        assert "#EXT-X-SERVER-CONTROL" not in rung and "#EXT-X-PART" not in rung
        assert "#EXT-X-MAP" in rung
        run = await live.wait_run(run_id, lambda r: r["status"] not in ("pending", "running"))
        assert run["status"] == "completed", run
        # ffprobe reads the multivariant playlist's every rung over HTTP
        probe = await ffprobe_json(
            ffprobe, f"{live.url}/runs/{run_id}/master.m3u8", "-show_streams"
        )
        heights = sorted({s["height"] for s in probe["streams"] if s["codec_type"] == "video"})
        assert heights == [120, 240], probe
