"""Media geometry and timing rules: pixel aspect, odd sizes, a file's length, A/V origin."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat
from interpreter.runtime.audio_file import AudioReader
from interpreter.runtime.base import Timing
from interpreter.runtime.graph import default_video_format
from interpreter.runtime.media import grid_frames, probe, scale_frame
from interpreter.runtime.sources import FileSource
from tests.interpreter.stream.camera_media import ClipSpec, ffmpeg_for, make_clip
from tests.interpreter.stream.stream_recipes import recipe, step
from tests.media import write_wav

X264 = "-c:v libx264 -preset ultrafast"


def _ffmpeg(ffprobe: str, *args: str) -> None:
    """Run the ffmpeg beside ``ffprobe`` quietly (never reading stdin)."""
    cmd = [ffmpeg_for(ffprobe), "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(cmd, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)


def _frame(width: int, height: int, luma: int = 200) -> av.VideoFrame:
    """A yuv420p frame of any size (odd too) with flat luma and neutral chroma."""
    f = av.VideoFrame(width, height, "yuv420p")
    for i, plane in enumerate(f.planes):
        plane.update(bytes([luma if i == 0 else 128]) * plane.buffer_size)
    return f


def _content_box(y: np.ndarray) -> tuple[int, int]:
    """Width and height of the non-black area of a luma plane."""
    rows = np.flatnonzero(y.max(axis=1) > 100)
    cols = np.flatnonzero(y.max(axis=0) > 100)
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def test_fit_keeps_the_display_aspect_of_wide_pixels() -> None:
    # 64x48 pixels twice as wide as high show as 128x48: letterboxed in a square output
    out = scale_frame(_frame(64, 48), 128, 128, "fit", src_sar=Fraction(2))
    assert _content_box(out.y) == (128, 48)
    # the same pixels into an output that signals them: no bars, no resampling
    same = scale_frame(_frame(64, 48), 64, 48, "fit", Fraction(2), Fraction(2))
    assert _content_box(same.y) == (64, 48)


def test_square_source_in_an_anamorphic_output_is_pillarboxed() -> None:
    # the output's pixels are 128:117 wide: a square 176x144 source is 161 of them wide
    out = scale_frame(_frame(176, 144), 176, 144, "fit", out_sar=Fraction(128, 117))
    w, h = _content_box(out.y)
    assert (w, h) == (160, 144)
    assert w * Fraction(128, 117) / h == pytest.approx(176 / 144, rel=0.01)


def test_odd_size_is_cropped_not_scaled() -> None:
    f = av.VideoFrame(161, 91, "yuv420p")
    rng = np.random.default_rng(1)
    planes = []
    for plane in f.planes:
        data = rng.integers(0, 256, plane.buffer_size, dtype=np.uint8)
        plane.update(data.tobytes())
        planes.append(data.reshape(-1, plane.line_size))
    out = scale_frame(f, 160, 90, "fit")
    assert np.array_equal(out.y, planes[0][:90, :160])
    assert np.array_equal(out.u, planes[1][:45, :80])
    assert np.array_equal(out.v, planes[2][:45, :80])


def test_grid_frames_rule() -> None:
    assert grid_frames(209 / 30, 30) == 209  # the source's own rate: its frames exactly
    assert grid_frames(101 / 25, 30) == 122  # frames whose start lies inside the video
    assert grid_frames(100 * 1001 / 30000, 30000 / 1001) == 100
    assert grid_frames(0.0, 25) == 0


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("geometry")


def test_length_is_the_videos_and_the_rate_exact(ffprobe: str, media_dir: Path) -> None:
    ffmpeg = ffmpeg_for(ffprobe)
    long_audio = ClipSpec(
        "long-audio.mp4", X264, 50, (64, 48), "25/1", audio="-c:a aac", audio_seconds=2.6
    )
    info = probe(make_clip(ffmpeg, long_audio, media_dir))
    assert info.duration == pytest.approx(2.6, abs=0.03)  # the container's: the audio's
    assert info.video_duration == pytest.approx(2.0) and info.length == info.video_duration
    ntsc = probe(
        make_clip(ffmpeg, ClipSpec("ntsc.mkv", X264, 30, (64, 48), "30000/1001"), media_dir)
    )
    assert ntsc.rate == Fraction(30000, 1001)
    assert ntsc.video_duration == pytest.approx(30 * 1001 / 30000, abs=1e-3)
    wide = probe(
        make_clip(ffmpeg, ClipSpec("wide.mp4", X264, 5, (64, 48), "25/1", "295:288"), media_dir)
    )
    assert wide.sar == Fraction(295, 288)


def test_default_format_keeps_rate_and_pixel_aspect(ffprobe: str, media_dir: Path) -> None:
    ffmpeg = ffmpeg_for(ffprobe)
    spec = ClipSpec("ntsc-wide.mp4", X264, 10, (176, 144), "30000/1001", "128:117")
    path = make_clip(ffmpeg, spec, media_dir)
    plain = recipe(step("src", "SOURCE", input="video"), output="src", inputs=("video",))
    assert default_video_format(plain, {"video": path}) == VideoFormat(
        176, 144, 30000, 1001, 128, 117
    )
    resized = recipe(
        step("src", "SOURCE", input="video"),
        step("big", "RESIZE", ("src",), width=320, height=241, mode="fit"),
        output="big",
        inputs=("video",),
    )
    # RESIZE sets the size (square pixels); the rate stays the source's
    assert default_video_format(resized, {"video": path}) == VideoFormat(320, 240, 30000, 1001)


def test_audio_starting_after_the_video_keeps_its_offset(ffprobe: str, tmp_path: Path) -> None:
    path = tmp_path / "late.mkv"
    _ffmpeg(
        ffprobe,
        *("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25,trim=end_frame=50"),
        *("-itsoffset", "0.5", "-f", "lavfi", "-i", "sine=f=440:duration=1.5"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", str(path)),
    )
    t = Timing(VideoFormat(64, 48, 25, 1), AudioFormat(48000, 1))
    src = FileSource(path, t)
    assert src.frames == 50
    audio = np.concatenate([src.read(t.samples_for(k))[1][0] for k in range(50)])  # type: ignore[index]
    src.close()
    assert np.abs(audio[: 24000 - 100]).max() == 0  # silence until 0.5 s
    assert np.abs(audio[24000 + 100 : 24000 + 1000]).max() > 0.05


def test_looped_audio_wraps_without_repeating(tmp_path: Path) -> None:
    rate = 48000
    ramp = ((np.arange(rate) % 480) / 480.0 * 0.5).astype(np.float32)
    wav = write_wav(tmp_path / "ramp.wav", ramp, rate)
    reader = AudioReader(wav, AudioFormat(rate, 1), loop=True)
    got = np.concatenate([reader.read(700)[0] for _ in range(150)])  # reads straddle the wrap
    reader.close()
    assert np.abs(got[rate : 2 * rate] - ramp).max() < 1e-3
    # a pass cut at ``end``: the loop period is exactly end - start
    reader = AudioReader(wav, AudioFormat(rate, 1), start=0.1, loop=True, end=Fraction(3, 10))
    got = np.concatenate([reader.read(1000)[0] for _ in range(30)])
    reader.close()
    period = ramp[4800:14400]
    assert np.abs(got[: 3 * len(period)] - np.tile(period, 3)).max() < 1e-3


def test_cover_art_is_not_video(ffprobe: str, tmp_path: Path) -> None:
    cover, song = tmp_path / "cover.png", tmp_path / "song.m4a"
    _ffmpeg(ffprobe, "-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", str(cover))
    _ffmpeg(
        ffprobe,
        *("-f", "lavfi", "-i", "sine=duration=1", "-i", str(cover)),
        *("-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "copy"),
        *("-disposition:v", "attached_pic", str(song)),
    )
    info = probe(song)
    assert not info.has_video and info.has_audio and info.length == pytest.approx(1.0, abs=0.05)
