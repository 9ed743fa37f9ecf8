"""The ABR ladder read back by ffprobe: every rung mid-render and after, aligned cuts,
measured multivariant attributes, the top rung unchanged, IPFS copies."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import aioipfs
import m3u8
import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.errors import HLSError
from hls.ladder import MASTER_NAME, LadderOutput, VariantUpdate, scale_sources
from hls.ladder_config import AUTO_LADDER, parse_ladder
from hls.local_output import LocalHLSOutput
from hls.options import HLSOptions
from hls.output import IPFSHLSOutput, sha256_cid
from hls.scaler import FrameScaler
from tests.hls.hls_media import make_frames, tone_for_frame
from tests.hls.test_hls_ipfs import AioIPFSStore

VIDEO = VideoFormat(320, 240, 25, 1)
OPTIONS = HLSOptions(segment_duration=1.0, preset="ultrafast")
FRAMES = 125  # 5 s: five 1 s segments
RUNGS = parse_ladder("180p:300k,120p:crf30")
H264_PROFILE_IDC = {"High": 100, "Main": 77, "Constrained Baseline": 66, "Baseline": 66}


def ffprobe_json(ffprobe: str, target: Path, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [ffprobe, "-v", "error", *extra, "-of", "json", str(target)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    info: dict[str, Any] = json.loads(out.stdout)
    return info


def video_packets(ffprobe: str, segment: Path) -> list[dict[str, Any]]:
    info = ffprobe_json(ffprobe, segment, "-select_streams", "v", "-show_packets")
    packets: list[dict[str, Any]] = info["packets"]
    return packets


def local_ladder(directory: Path, rungs: Any = RUNGS) -> LadderOutput:
    top = LocalHLSOutput(directory, OPTIONS, sha256_cid)
    return LadderOutput(top, rungs, lambda o: LocalHLSOutput(directory, o, sha256_cid))


async def pump(sink: Any, audio: AudioFormat, start: int, end: int) -> None:
    frames = make_frames(VIDEO, FRAMES)

    def run() -> None:
        for i in range(start, end):
            sink.write(frames[i], tone_for_frame(audio, VIDEO, i))

    await asyncio.to_thread(run)


async def listed(ladder: LadderOutput, count: int) -> None:
    for _ in range(400):
        if all(len(o.playlist.segments) >= count for o in ladder.outputs):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("rungs did not list their segments")


async def test_every_rung_readable_mid_render_and_after(
    tmp_path: Path, stereo: AudioFormat, ffprobe: str
) -> None:
    ladder = local_ladder(tmp_path)
    await ladder.start(VIDEO, stereo, None)
    assert ladder.rung_names == ("playlist.m3u8", "playlist_180p.m3u8", "playlist_120p.m3u8")
    await pump(ladder, stereo, 0, 60)
    await listed(ladder, 2)
    sizes = {"playlist.m3u8": (320, 240), "playlist_180p.m3u8": (240, 180)}
    sizes["playlist_120p.m3u8"] = (160, 120)
    for name, output in zip(ladder.rung_names, ladder.outputs, strict=True):
        for seg in output.playlist.segments:  # mid-render: what is listed is complete
            info = ffprobe_json(ffprobe, tmp_path / seg.uri, "-show_streams")
            video = next(s for s in info["streams"] if s["codec_type"] == "video")
            assert (video["width"], video["height"]) == sizes[name]
            assert any(s["codec_type"] == "audio" for s in info["streams"])
    for _ in range(200):  # the multivariant playlist follows the rungs' first segments
        if (tmp_path / MASTER_NAME).exists():
            break
        await asyncio.sleep(0.025)
    live_master = m3u8.load(str(tmp_path / MASTER_NAME))
    assert [p.uri for p in live_master.playlists] == list(ladder.rung_names)
    await pump(ladder, stereo, 60, FRAMES)
    await ladder.finish()
    final_master = m3u8.load(str(tmp_path / MASTER_NAME))
    assert [p.stream_info.average_bandwidth for p in final_master.playlists] != [
        p.stream_info.average_bandwidth for p in live_master.playlists
    ]  # rewritten as segments arrived

    durations = []
    for name in ladder.rung_names:
        playlist = m3u8.load(str(tmp_path / name))
        assert playlist.is_endlist and playlist.playlist_type == "event"
        durations.append([s.duration for s in playlist.segments])
        info = ffprobe_json(ffprobe, tmp_path / name, "-count_frames", "-show_streams")
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == sizes[name]
        assert int(video["nb_read_frames"]) == FRAMES
    assert durations[0] == durations[1] == durations[2] == [1.0] * 5

    # aligned IDR frames: segment i of every rung has the same frames, a keyframe first
    per_rung = [m3u8.load(str(tmp_path / n)).segments for n in ladder.rung_names]
    for i in range(5):
        counts = set()
        for segments in per_rung:
            packets = video_packets(ffprobe, tmp_path / segments[i].uri)
            assert packets and "K" in min(packets, key=lambda p: float(p["pts_time"]))["flags"]
            counts.add(len(packets))
        assert counts == {25}


async def test_multivariant_attributes_match_the_segments(
    tmp_path: Path, stereo: AudioFormat, ffprobe: str
) -> None:
    ladder = local_ladder(tmp_path)
    await ladder.start(VIDEO, stereo, None)
    await pump(ladder, stereo, 0, FRAMES)
    await ladder.finish()
    master = m3u8.load(str(tmp_path / MASTER_NAME))
    assert master.is_variant and master.is_independent_segments
    assert [p.uri for p in master.playlists] == list(ladder.rung_names)
    for variant in master.playlists:
        info = variant.stream_info
        media = m3u8.load(str(tmp_path / variant.uri))
        rates = [(tmp_path / s.uri).stat().st_size * 8 / s.duration for s in media.segments]
        total = sum((tmp_path / s.uri).stat().st_size * 8 for s in media.segments)
        assert info.bandwidth == round(max(rates))
        assert info.average_bandwidth == round(total / sum(s.duration for s in media.segments))
        first = tmp_path / media.segments[0].uri
        stream = ffprobe_json(ffprobe, first, "-select_streams", "v", "-show_streams")["streams"][0]
        assert info.resolution == (stream["width"], stream["height"])
        idc, level = H264_PROFILE_IDC[stream["profile"]], int(stream["level"])
        video_codec, audio_codec = info.codecs.split(",")
        assert video_codec.startswith(f"avc1.{idc:02x}") and video_codec.endswith(f"{level:02x}")
        assert audio_codec == "mp4a.40.2"
        assert info.frame_rate == 25.0
    bandwidths = [p.stream_info.average_bandwidth for p in master.playlists]
    assert bandwidths == sorted(bandwidths, reverse=True)


async def test_top_rung_is_what_a_plain_run_writes(tmp_path: Path, stereo: AudioFormat) -> None:
    plain = LocalHLSOutput(tmp_path / "plain", OPTIONS, sha256_cid)
    await plain.start(VIDEO, stereo, None)
    await pump(plain, stereo, 0, 50)
    plain_result = await plain.finish()
    ladder = local_ladder(tmp_path / "ladder")
    await ladder.start(VIDEO, stereo, None)
    await pump(ladder, stereo, 0, 50)
    ladder_result = await ladder.finish()
    assert [s.uri for s in ladder_result.segments] == [s.uri for s in plain_result.segments]
    assert ladder_result.playlist_path.name == "playlist.m3u8"


async def test_small_output_gets_no_lower_rungs(tmp_path: Path, stereo: AudioFormat) -> None:
    small = VideoFormat(192, 108, 25, 1)
    ladder = local_ladder(tmp_path, AUTO_LADDER)
    await ladder.start(small, stereo, None)
    frames = make_frames(small, 30)

    def run() -> None:
        for f in frames:
            ladder.write(f, None)

    await asyncio.to_thread(run)
    await ladder.finish()
    assert sorted(p.name for p in tmp_path.glob("*.m3u8")) == ["playlist.m3u8"]
    assert ladder.rung_names == ()


async def test_rungs_encode_concurrently_with_the_top(tmp_path: Path, stereo: AudioFormat) -> None:
    ladder = local_ladder(tmp_path)
    await ladder.start(VIDEO, stereo, None)
    seen: set[tuple[str, str]] = set()
    scale, encode = LadderOutput._scale, LadderOutput._encode_rung

    def scale_spy(rung: Any, source: Any) -> Any:
        seen.add(("scale", threading.current_thread().name.rsplit("_", 1)[0]))
        return scale(rung, source)

    def encode_spy(rung: Any, frame: Any, audio: Any) -> None:
        seen.add(("encode", threading.current_thread().name.rsplit("_", 1)[0]))
        encode(rung, frame, audio)

    ladder._scale = scale_spy  # type: ignore[method-assign]
    ladder._encode_rung = encode_spy  # type: ignore[method-assign,assignment]
    await pump(ladder, stereo, 0, 10)
    await ladder.finish()
    threads = {"hls-rung-180p", "hls-rung-120p"}
    assert seen == {(step, t) for step in ("scale", "encode") for t in threads}


def test_scale_sources_cascade_from_a_rung_one_and_a_half_times_the_size() -> None:
    # the default ladder at 1080p: 480p and 360p from the 720p frame
    assert scale_sources((1920, 1080), [(1280, 720), (854, 480), (640, 360)]) == [0, 1, 1]
    # 900p -> 720p is under 1.5x: 540p comes from the top, 360p from 540p (exactly 1.5x)
    assert scale_sources((1600, 900), [(1280, 720), (960, 540), (640, 360)]) == [0, 0, 2]
    assert scale_sources((640, 360), []) == []


def _scene(width: int, height: int) -> YUVFrame:
    """Smooth shading, a hard-edged box and fine stripes: what area scaling must keep."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    luma = 128 + 60 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    luma[height // 4 : height // 2, width // 3 : width // 2] = 235
    luma[:, : width // 8] += 40 * ((xx[:, : width // 8] // 3) % 2)
    frame = YUVFrame.alloc(width, height)
    frame.y[:] = np.clip(luma, 0, 255).astype(np.uint8)
    frame.u[:] = 100
    frame.v[:] = 160
    return frame


@pytest.mark.parametrize(("width", "height"), [(854, 480), (640, 360)])
def test_a_cascaded_rung_matches_scaling_from_the_top(width: int, height: int) -> None:
    top = _scene(1920, 1080)
    direct = FrameScaler(1920, 1080, width, height).scale(top)
    via_720 = FrameScaler(1280, 720, width, height).scale(
        FrameScaler(1920, 1080, 1280, 720).scale(top)
    )
    diff = direct.y.astype(np.float64) - via_720.y.astype(np.float64)
    psnr = 10 * np.log10(255**2 / max(float((diff**2).mean()), 1e-9))
    assert psnr > 38, psnr
    assert (direct.u == via_720.u).all() and (direct.v == via_720.v).all()


@pytest.mark.parametrize("container", ["mpegts", "fmp4"])
async def test_ipfs_copies_of_every_rung_and_the_master(
    ipfs_api: str, tmp_path: Path, stereo: AudioFormat, container: str
) -> None:
    client = aioipfs.AsyncIPFS(maddr=ipfs_api)
    store = AioIPFSStore(client)
    options = HLSOptions(segment_duration=1.0, preset="ultrafast", container=container)  # type: ignore[arg-type]
    updates: list[VariantUpdate] = []

    async def on_variant(update: VariantUpdate) -> None:
        updates.append(update)

    try:
        top = IPFSHLSOutput(store, tmp_path, options, sha256_cid)
        ladder = LadderOutput(
            top,
            RUNGS,
            lambda o: IPFSHLSOutput(store, tmp_path, o, sha256_cid),
            store=store,
            on_variant_update=on_variant,
        )
        await ladder.start(VIDEO, stereo, None)
        await pump(ladder, stereo, 0, 75)
        result = await ladder.finish()
        assert result.ipfs_complete and ladder.master_cid is not None
        masters = [u for u in updates if u.name == MASTER_NAME]
        assert masters[-1].ended and masters[-1].playlist_cid == ladder.master_cid
        assert sum(u.ended for u in masters) == 1
        for name in ("playlist_180p.m3u8", "playlist_120p.m3u8"):
            assert [u.ended for u in updates if u.name == name][-1]
        master = m3u8.loads((await client.cat(ladder.master_cid)).decode())
        assert len(master.playlists) == 3
        for variant, name in zip(master.playlists, ladder.rung_names, strict=True):
            assert variant.uri.endswith(f"?filename={name}")
            text = (await client.cat(variant.uri.removeprefix("/ipfs/").split("?")[0])).decode()
            media = m3u8.loads(text)
            local = m3u8.load(str(tmp_path / name))
            assert media.is_endlist and len(media.segments) == len(local.segments) == 3
            for remote, mine in zip(media.segments, local.segments, strict=True):
                data = await client.cat(remote.uri.removeprefix("/ipfs/").split("?")[0])
                assert data == (tmp_path / mine.uri).read_bytes()
    finally:
        await client.close()


class RecordingMirror:
    """A SegmentMirror keeping what it was given (an S3 bucket's view)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        self.files[name] = data


async def test_mirrors_get_every_rung_and_the_master(tmp_path: Path, stereo: AudioFormat) -> None:
    mirror = RecordingMirror()
    top = LocalHLSOutput(tmp_path, OPTIONS, sha256_cid, mirrors=[mirror])
    ladder = LadderOutput(
        top,
        RUNGS,
        lambda o: LocalHLSOutput(tmp_path, o, sha256_cid, mirrors=[mirror]),
        mirrors=[mirror],
    )
    await ladder.start(VIDEO, stereo, None)
    await pump(ladder, stereo, 0, 50)
    await ladder.finish()
    local = {p.name: p.read_bytes() for p in tmp_path.iterdir() if ".ipfs." not in p.name}
    assert mirror.files == local
    assert MASTER_NAME in mirror.files and len(local) == 3 + 1 + 3 * 2


async def test_a_failing_rung_stops_the_render(tmp_path: Path, stereo: AudioFormat) -> None:
    class FailingOutput(LocalHLSOutput):
        def write(self, frame: Any, audio: Any) -> None:
            raise HLSError("rung disk full")

    top = LocalHLSOutput(tmp_path, OPTIONS, sha256_cid)
    ladder = LadderOutput(top, RUNGS[:1], lambda o: FailingOutput(tmp_path, o, sha256_cid))
    await ladder.start(VIDEO, stereo, None)
    with pytest.raises(HLSError, match="rung disk full"):
        await pump(ladder, stereo, 0, 30)
    await ladder.abort()  # ends every playlist, raises nothing
    assert top.playlist.ended
