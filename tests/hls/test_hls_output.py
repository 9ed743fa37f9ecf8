"""LocalHLSOutput / IPFSHLSOutput end to end, read back by independent clients."""

from __future__ import annotations

import asyncio
import functools
import http.server
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import m3u8
import pytest

from effects.frame import AudioFormat, VideoFormat
from hls.errors import OutputStateError
from hls.options import HLSOptions
from hls.output import IPFSHLSOutput, LocalHLSOutput, PlaylistUpdate, sha256_cid
from tests.hls.hls_media import make_frames, tone_for_frame


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve tmp_path/out on 127.0.0.1 from a thread (an independent HTTP origin)."""
    root = tmp_path / "out"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=90).stdout


def _count_frames(ffmpeg: str, url: str) -> int:
    out = subprocess.run(
        [ffmpeg, "-v", "error", "-i", url, "-map", "0:v", "-f", "null", "-", "-stats"],
        capture_output=True,
        text=True,
        check=True,
        timeout=90,
    ).stderr
    return int(re.findall(r"frame=\s*(\d+)", out)[-1])


async def _feed(
    sink: LocalHLSOutput,
    video: VideoFormat,
    audio: AudioFormat | None,
    n: int,
    pause_at: int | None = None,
    paused: threading.Event | None = None,
    resume: threading.Event | None = None,
) -> None:
    frames = make_frames(video, n)

    def pump() -> None:
        for i, f in enumerate(frames):
            if i == pause_at and paused is not None and resume is not None:
                paused.set()
                resume.wait(60)
            sink.write(f, tone_for_frame(audio, video, i) if audio else None)

    await asyncio.to_thread(pump)


async def test_local_output_live_and_final_read_by_ffmpeg(
    http_root: tuple[Path, str], ffprobe: str, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    ffmpeg = ffprobe.replace("ffprobe", "ffmpeg")
    root, base = http_root
    updates: list[PlaylistUpdate] = []

    async def on_update(u: PlaylistUpdate) -> None:
        updates.append(u)

    out = LocalHLSOutput(root, HLSOptions(), sha256_cid)
    await out.start(small_video, stereo, on_update)
    paused, resume = threading.Event(), threading.Event()
    n = 200
    feeding = asyncio.create_task(_feed(out, small_video, stereo, n, 150, paused, resume))
    await asyncio.to_thread(paused.wait, 60)
    for _ in range(100):  # the writer task may still be writing segment 1
        if out.stats.segments_local >= 3:
            break
        await asyncio.sleep(0.05)
    live = (root / "playlist.m3u8").read_text()
    assert "#EXT-X-ENDLIST" not in live and "#EXT-X-PLAYLIST-TYPE:EVENT" in live
    assert len(m3u8.loads(live).segments) == 3  # 1 s, 1 s (the shorter first one), 2 s
    probe = await asyncio.to_thread(
        _run,
        [
            ffprobe,
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            f"{base}/playlist.m3u8",
        ],
    )
    assert {"h264", "aac"} <= set(probe.split())
    resume.set()
    await feeding
    result = await out.finish()

    final = m3u8.loads((root / "playlist.m3u8").read_text())
    assert final.is_endlist and final.playlist_type == "event"
    assert [s.duration for s in final.segments] == [
        1.0,
        1.0,
        2.0,
        2.0,
        pytest.approx(2 / 3, abs=1e-6),
    ]
    assert final.target_duration == 2
    assert result.duration == pytest.approx(n / 30)
    for seg in final.segments:
        data = (root / seg.uri).read_bytes()
        assert Path(seg.uri).stem == sha256_cid(data)
        assert seg.uri.endswith(".ts")
    assert not list(root.glob(".tmp-*"))
    assert updates[-1].ended and updates[-1].segment_count == 5
    assert [u.index for u in updates[:-1]] == [0, 1, 2, 3, 4]
    assert await asyncio.to_thread(_count_frames, ffmpeg, f"{base}/playlist.m3u8") == n
    assert result.stats.first_segment_seconds is not None
    with pytest.raises(OutputStateError):
        out.write(make_frames(small_video, 1)[0], None)


async def test_local_fmp4_read_by_ffmpeg(
    http_root: tuple[Path, str], ffprobe: str, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    ffmpeg = ffprobe.replace("ffprobe", "ffmpeg")
    root, base = http_root
    out = LocalHLSOutput(root, HLSOptions(container="fmp4"), sha256_cid)
    await out.start(small_video, stereo)
    await _feed(out, small_video, stereo, 90)
    await out.finish()
    pl = m3u8.loads((root / "playlist.m3u8").read_text())
    assert pl.version == 7 and pl.segment_map and pl.segment_map[0].uri.endswith(".mp4")
    assert Path(pl.segment_map[0].uri).stem == sha256_cid(
        (root / pl.segment_map[0].uri).read_bytes()
    )
    assert await asyncio.to_thread(_count_frames, ffmpeg, f"{base}/playlist.m3u8") == 90


async def test_write_on_loop_thread_is_refused(tmp_path: Path, small_video: VideoFormat) -> None:
    out = LocalHLSOutput(tmp_path, HLSOptions(segment_duration=0.2), sha256_cid)
    with pytest.raises(OutputStateError, match="state"):
        out.write(make_frames(small_video, 1)[0], None)
    await out.start(small_video, None)
    with pytest.raises(OutputStateError, match="pipeline thread"):
        for f in make_frames(small_video, 30):
            out.write(f, None)
    await out.abort()
    assert "#EXT-X-ENDLIST" in (tmp_path / "playlist.m3u8").read_text()


class FlakyStore:
    """Fake IPFS: fails or stalls on demand, records what was added."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.down = asyncio.Event()  # set = node is down
        self.slow = 0.0
        self.calls = 0

    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        self.calls += 1
        if self.slow:
            await asyncio.sleep(self.slow)
        if self.down.is_set():
            raise ConnectionError("node down")
        cid = "Qm" + sha256_cid(data)[:44]
        self.blobs[cid] = data
        return cid


def _check_ipfs_playlist(text: str, store: FlakyStore) -> list[str]:
    pl = m3u8.loads(text)
    cids = [s.uri.removeprefix("/ipfs/").split("?")[0] for s in pl.segments]
    assert all(s.uri.startswith("/ipfs/") for s in pl.segments)
    assert all(c in store.blobs for c in cids)
    return cids


async def test_ipfs_output_survives_outage_without_skipping(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    store = FlakyStore()
    updates: list[PlaylistUpdate] = []

    async def on_update(u: PlaylistUpdate) -> None:
        updates.append(u)
        # every published playlist lists a gap-free prefix
        _check_ipfs_playlist(store.blobs[u.playlist_cid].decode(), store)

    opts = HLSOptions(
        segment_duration=0.5, upload_timeout=0.2, upload_retry_base=0.05, upload_retry_max=0.2
    )
    out = IPFSHLSOutput(store, tmp_path, opts, sha256_cid, on_update)
    await out.start(small_video, stereo)
    await _feed(out, small_video, stereo, 60)  # x264 lookahead holds ~17 frames back
    for _ in range(200):
        if (
            out.stats.segments_uploaded >= 1
            and out.stats.segments_uploaded == out.stats.segments_local
        ):
            break
        await asyncio.sleep(0.02)
    up_before = out.stats.segments_uploaded
    assert up_before >= 1
    store.down.set()
    await _feed(out, small_video, stereo, 60)  # 4 more segments while it is down
    await asyncio.sleep(0.3)
    assert out.stats.segments_local >= up_before + 3  # the render kept going
    assert out.stats.upload_failures >= 1
    assert out.stats.segments_uploaded == up_before
    store.slow = 0.05  # back, but slow
    store.down.clear()
    result = await out.finish()
    assert result.ipfs_complete and result.ipfs_playlist_cid is not None
    assert out.stats.segments_uploaded == out.stats.segments_local == len(result.segments)
    final = store.blobs[result.ipfs_playlist_cid].decode()
    assert "#EXT-X-ENDLIST" in final
    cids = _check_ipfs_playlist(final, store)
    local = [(tmp_path / s.uri).read_bytes() for s in result.segments]
    assert [store.blobs[c] for c in cids] == local  # same bytes, same order, none skipped
    counts = [u.segment_count for u in updates]
    assert counts == sorted(counts) and counts[-1] == len(local)
    assert updates[-1].ended and sum(u.ended for u in updates) == 1
    assert (tmp_path / "playlist.ipfs.m3u8").read_text() == final


async def test_ipfs_finish_times_out_when_node_stays_down(
    tmp_path: Path, small_video: VideoFormat
) -> None:
    store = FlakyStore()
    store.down.set()
    opts = HLSOptions(
        segment_duration=0.5,
        upload_timeout=0.1,
        upload_retry_base=0.02,
        upload_retry_max=0.05,
        finish_timeout=0.3,
    )
    out = IPFSHLSOutput(store, tmp_path, opts, sha256_cid)
    await out.start(small_video, None)
    await _feed(out, small_video, None, 30)
    result = await out.finish()
    assert not result.ipfs_complete and result.ipfs_playlist_cid is None
    assert result.stats.segments_local == 2 and result.stats.segments_uploaded == 0
    assert "#EXT-X-ENDLIST" in (tmp_path / "playlist.m3u8").read_text()


async def test_abort_stops_tasks(tmp_path: Path, small_video: VideoFormat) -> None:
    store = FlakyStore()
    store.down.set()
    out = IPFSHLSOutput(
        store, tmp_path, HLSOptions(segment_duration=0.5, upload_retry_base=0.02), sha256_cid
    )
    await out.start(small_video, None)
    await _feed(out, small_video, None, 20)
    await asyncio.wait_for(out.abort(), 10)
    assert out._uploader is not None and out._uploader.done()
    assert out._writer is not None and out._writer.done()


async def test_abort_releases_a_pipeline_thread_blocked_on_backpressure(
    tmp_path: Path, small_video: VideoFormat
) -> None:
    out = LocalHLSOutput(tmp_path, HLSOptions(segment_duration=0.1, queue_size=1), sha256_cid)
    await out.start(small_video, None)
    stall = asyncio.Event()

    async def stuck(seg: object) -> None:
        await stall.wait()

    out._store_segment = stuck  # type: ignore[method-assign]  # stall the writer task
    feeding = asyncio.create_task(_feed(out, small_video, None, 120))
    for _ in range(200):
        if out.stats.backpressure_waits:
            break
        await asyncio.sleep(0.02)
    assert out.stats.backpressure_waits >= 1 and not feeding.done()
    await asyncio.wait_for(out.abort(), 10)
    # the blocked pipeline thread is released; its next write() is refused
    with pytest.raises(OutputStateError, match="aborted"):
        await asyncio.wait_for(feeding, 30)
    assert out.stats.frames < 120
