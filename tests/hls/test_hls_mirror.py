"""Mirrors on LocalHLSOutput / IPFSHLSOutput: ordered, retried, counted, never stalling."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import m3u8
import pytest

from effects.frame import AudioFormat, VideoFormat
from hls.mirror import MirrorUploader, content_type_for
from hls.options import HLSOptions
from hls.output import HLSResult, IPFSHLSOutput, LocalHLSOutput, sha256_cid
from tests.hls.hls_media import make_frames, tone_for_frame


class FakeMirror:
    """Records every put; fails the first ``fail_first`` calls; optionally slow or stuck."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0, gate: asyncio.Event | None = None):
        self.calls: list[tuple[str, bytes, str]] = []
        self.files: dict[str, bytes] = {}
        self.attempts = 0
        self.fail_first = fail_first
        self.delay = delay
        self.gate = gate

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.attempts <= self.fail_first:
            raise ConnectionError(f"mirror down (attempt {self.attempts})")
        self.calls.append((name, data, content_type))
        self.files[name] = data


class MemoryStore:
    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        return sha256_cid(data)


def _options(**kw: Any) -> HLSOptions:
    base = HLSOptions(
        segment_duration=0.5, upload_timeout=1.0, upload_retry_base=0.01, upload_retry_max=0.05
    )
    return replace(base, **kw)


async def _render(
    out: LocalHLSOutput, video: VideoFormat, audio: AudioFormat, n: int
) -> tuple[HLSResult, float]:
    await out.start(video, audio)
    frames = make_frames(video, n)

    def pump() -> float:
        t0 = time.monotonic()
        for i, f in enumerate(frames):
            out.write(f, tone_for_frame(audio, video, i))
        return time.monotonic() - t0

    pumped = await asyncio.to_thread(pump)
    result = await out.finish()
    return result, pumped


def _check_order(mirror: FakeMirror, playlist_name: str = "playlist.m3u8") -> None:
    """Every mirrored playlist lists only segments the mirror already held."""
    held: set[str] = set()
    for name, data, _ in mirror.calls:
        if name == playlist_name:
            listed = [s.uri for s in m3u8.loads(data.decode()).segments]
            missing = [u for u in listed if u not in held]
            assert not missing, f"playlist listed {missing} before they were mirrored"
        else:
            held.add(name)


@pytest.mark.parametrize("container", ["mpegts", "fmp4"])
async def test_mirror_gets_every_file_in_order(
    tmp_path: Path,
    small_video: VideoFormat,
    stereo: AudioFormat,
    container: Literal["mpegts", "fmp4"],
) -> None:
    mirror = FakeMirror()
    out = LocalHLSOutput(
        tmp_path,
        HLSOptions(segment_duration=0.5, container=container),
        sha256_cid,
        mirrors=[mirror],
    )
    result, _ = await _render(out, small_video, stereo, 60)
    assert result.mirrors_complete == (True,)
    local = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith(".")}
    assert mirror.files == local  # byte-identical, playlist included (the final ENDLIST one)
    assert b"#EXT-X-ENDLIST" in mirror.files["playlist.m3u8"]
    _check_order(mirror)
    seg_names = [s.uri for s in result.segments]
    assert [n for n, _, _ in mirror.calls if n in seg_names] == seg_names
    assert len(seg_names) >= 3
    stats = result.stats.mirrors[0]
    assert stats.segments == len(seg_names) and stats.failures == 0
    types = {n: t for n, _, t in mirror.calls}
    assert types["playlist.m3u8"] == "application/vnd.apple.mpegurl"
    ext = ".ts" if container == "mpegts" else ".m4s"
    assert types[seg_names[0]] == content_type_for("x" + ext) != "application/octet-stream"
    if container == "fmp4":
        assert out.playlist.init_uri in mirror.files
        assert mirror.calls[0][0] == out.playlist.init_uri  # init before any segment


async def test_failures_are_retried_and_counted(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    mirror = FakeMirror(fail_first=5)
    out = LocalHLSOutput(tmp_path, _options(), sha256_cid, mirrors=[mirror])
    result, _ = await _render(out, small_video, stereo, 45)
    assert result.mirrors_complete == (True,)
    assert result.stats.mirrors[0].failures == 5
    assert mirror.files["playlist.m3u8"] == out.playlist_path.read_bytes()
    for seg in result.segments:
        assert mirror.files[seg.uri] == (tmp_path / seg.uri).read_bytes()
    _check_order(mirror)


async def test_stuck_mirror_never_stalls_the_render(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    gate = asyncio.Event()  # never set: every put hangs until its timeout
    mirror = FakeMirror(gate=gate)
    out = LocalHLSOutput(
        tmp_path,
        _options(upload_timeout=0.05, finish_timeout=0.3, queue_size=1),
        sha256_cid,
        mirrors=[mirror],
    )
    t0 = time.monotonic()
    result, _ = await _render(out, small_video, stereo, 60)
    elapsed = time.monotonic() - t0
    assert result.mirrors_complete == (False,)
    assert len(result.segments) >= 3  # the local stream is complete
    stats = result.stats.mirrors[0]
    assert stats.failures >= 1 and stats.uploaded == 0
    assert stats.backlog_high_water >= len(result.segments)
    assert elapsed < 10, f"render took {elapsed:.1f}s with a stuck mirror"
    assert mirror.calls == []


async def test_slow_mirror_skips_superseded_playlists(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    mirror = FakeMirror(delay=0.05)
    out = LocalHLSOutput(tmp_path, _options(finish_timeout=30), sha256_cid, mirrors=[mirror])
    result, _ = await _render(out, small_video, stereo, 90)
    stats = result.stats.mirrors[0]
    assert result.mirrors_complete == (True,)
    assert stats.superseded >= 1  # the backlog's older playlists were not uploaded
    assert mirror.files["playlist.m3u8"] == out.playlist_path.read_bytes()
    _check_order(mirror)


async def test_two_mirrors_beside_ipfs(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    a, b = FakeMirror(), FakeMirror(fail_first=2)
    out = IPFSHLSOutput(MemoryStore(), tmp_path, _options(), sha256_cid, mirrors=[a, b])
    result, _ = await _render(out, small_video, stereo, 40)
    assert result.ipfs_complete and result.mirrors_complete == (True, True)
    assert a.files == b.files
    assert a.files["playlist.m3u8"] == out.playlist_path.read_bytes()
    assert "playlist.ipfs.m3u8" not in a.files  # mirrors get the relative playlist only
    assert [s.failures for s in result.stats.mirrors] == [0, 2]


async def test_abort_ends_the_mirrored_playlist(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    mirror = FakeMirror()
    out = LocalHLSOutput(tmp_path, _options(), sha256_cid, mirrors=[mirror])
    await out.start(small_video, stereo)
    frames = make_frames(small_video, 40)

    def pump() -> None:
        for i, f in enumerate(frames):
            out.write(f, tone_for_frame(stereo, small_video, i))

    await asyncio.to_thread(pump)
    await asyncio.wait_for(out.abort(), 10)
    text = mirror.files["playlist.m3u8"]
    assert b"#EXT-X-ENDLIST" in text and text == out.playlist_path.read_bytes()
    assert len(out.playlist.segments) >= 1
    _check_order(mirror)
    assert out._mirrors[0]._task is not None and out._mirrors[0]._task.done()


async def test_abort_with_a_stuck_mirror_returns_within_the_grace(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    mirror = FakeMirror(gate=asyncio.Event())
    out = LocalHLSOutput(
        tmp_path, _options(upload_timeout=30, finish_timeout=0.3), sha256_cid, mirrors=[mirror]
    )
    await out.start(small_video, stereo)
    frames = make_frames(small_video, 30)

    def pump() -> None:
        for i, f in enumerate(frames):
            out.write(f, tone_for_frame(stereo, small_video, i))

    await asyncio.to_thread(pump)
    t0 = time.monotonic()
    await asyncio.wait_for(out.abort(), 5)
    assert time.monotonic() - t0 < 2.0
    assert mirror.calls == [] and b"#EXT-X-ENDLIST" in out.playlist_path.read_bytes()
    assert out._mirrors[0]._task is not None and out._mirrors[0]._task.done()


async def test_uploader_finish_without_start_is_complete_only_when_empty() -> None:
    up = MirrorUploader(FakeMirror(), _options())
    assert await up.finish(0.1) is True
    up.put_playlist("p.m3u8", "#EXTM3U\n")
    assert await up.finish(0.1) is False


async def test_ll_render_copies_stay_standard_hls(tmp_path: Path) -> None:
    """IPFS and the mirror (S3) get segments and standard playlists: no parts, no server control."""
    video, audio = VideoFormat(160, 96, 25, 1), AudioFormat(48000, 2)
    mirror = FakeMirror()
    added: list[bytes] = []

    class RecordingStore(MemoryStore):
        async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
            added.append(data)
            return await super().add_bytes(data, pin=pin)

    store = RecordingStore()
    options = HLSOptions(container="fmp4", segment_duration=1.0, part_duration=0.32)
    out = IPFSHLSOutput(store, tmp_path, options, sha256_cid, mirrors=[mirror])
    await out.start(video, audio)
    frames = make_frames(video, 60)

    def pump() -> None:
        for i, f in enumerate(frames):
            out.write(f, tone_for_frame(audio, video, i))

    await asyncio.to_thread(pump)
    local_live = (tmp_path / "playlist.m3u8").read_text()
    result = await out.finish()
    assert "#EXT-X-PART:" in local_live and "CAN-BLOCK-RELOAD=YES" in local_live
    playlists = [data.decode() for name, data, _ in mirror.calls if name.endswith(".m3u8")]
    assert len(playlists) >= len(result.segments)
    ipfs_playlists = [b.decode() for b in added if b.startswith(b"#EXTM3U")]
    assert ipfs_playlists
    for text in [*playlists, *ipfs_playlists]:
        assert "EXT-X-PART" not in text and "SERVER-CONTROL" not in text
        assert "PRELOAD-HINT" not in text
    assert not any(name.startswith("ll") for name, _, _ in mirror.calls)  # no part files
    assert result.ipfs_complete
