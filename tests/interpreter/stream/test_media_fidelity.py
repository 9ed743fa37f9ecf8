"""Camera clips in, HLS (TS, fMP4) and MP4 out: frames, size, rate and pixel aspect kept.

Every container and codec PyAV decodes that users bring is generated here at
test time (ffmpeg CLI, tiny) and rendered through the real interpreter and
encoders; ffprobe, an independent decoder, counts the frames of the output.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from cache.cid import cid_of_bytes
from effects.frame import VideoFormat
from hls.file_output import FileOutput
from hls.options import HLSOptions
from hls.output import LocalHLSOutput
from interpreter.sink import FrameSink
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.camera_media import (
    ClipSpec,
    ffmpeg_for,
    make_clip,
    probe_video,
    run_probe,
)
from tests.interpreter.stream.stream_recipes import recipe, step

X264 = "-c:v libx264 -preset ultrafast"
VP = "-deadline realtime -cpu-used 8 -b:v 200k"

LONG_AUDIO = ClipSpec(  # audio runs 0.43 s past the video, as camera AAC often does
    "h264-aac-index-at-end.mp4", X264, 209, (160, 90), "30/1", audio="-c:a aac", audio_seconds=7.4
)
BFRAMES_TS = ClipSpec("h264-bframes.ts", "-c:v libx264 -preset medium", 101, (160, 90), "25/1")
NTSC_MKV = ClipSpec("h264-ntsc.mkv", X264, 100, (160, 90), "30000/1001", audio="-c:a aac")
MPEG2_PS = ClipSpec(
    "mpeg2-program-stream.mpg",
    "-c:v mpeg2video -q:v 4 -f vob",
    77,
    (176, 144),
    "25/1",
    sar="16:11",
    audio="-c:a mp2",
    encoders=("mpeg2video", "mp2"),
)
SAR_128 = ClipSpec("sar-128-117.mp4", X264, 40, (176, 144), "25/1", sar="128:117")
SAR_295 = ClipSpec("sar-295-288.mp4", X264, 40, (176, 144), "25/1", sar="295:288")
CAMERA = [
    ClipSpec(
        "theora-vorbis.ogg",
        "-c:v libtheora -q:v 5",
        53,
        (160, 90),
        "25/1",
        audio="-c:a libvorbis",
        encoders=("libtheora", "libvorbis"),
    ),
    ClipSpec(
        "vp8-vorbis.webm",
        f"-c:v libvpx {VP}",
        53,
        (160, 90),
        "25/1",
        audio="-c:a libvorbis",
        encoders=("libvpx", "libvorbis"),
    ),
    ClipSpec(
        "vp9-opus.webm",
        f"-c:v libvpx-vp9 {VP}",
        53,
        (160, 90),
        "25/1",
        audio="-c:a libopus",
        encoders=("libvpx-vp9", "libopus"),
    ),
    ClipSpec(
        "msmpeg4-pcm.avi",
        "-c:v msmpeg4 -q:v 5",
        53,
        (160, 90),
        "25/1",
        audio="-c:a pcm_s16le",
        encoders=("msmpeg4", "pcm_s16le"),
    ),
    ClipSpec("odd-720x405.mp4", X264, 25, (720, 405), "25/1"),
    ClipSpec(
        "aac-5.1.mp4",
        X264,
        53,
        (160, 90),
        "25/1",
        audio="-c:a aac",
        channels=6,
    ),
]
EXACT = [LONG_AUDIO, BFRAMES_TS, NTSC_MKV, MPEG2_PS, SAR_128, SAR_295]
CASES = [(c, o) for c in EXACT for o in ("ts", "fmp4", "mp4")] + [(c, "ts") for c in CAMERA]


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the clips are generated (once per module)."""
    return tmp_path_factory.mktemp("camera")


async def render(
    src: Path, output: str, directory: Path, video_format: VideoFormat | None = None
) -> Path:
    """Play ``src`` whole into ``output`` (ts, fmp4: HLS; mp4: one file); the path to probe."""
    r = recipe(step("src", "SOURCE", input="video"), output="src", inputs=("video",))
    sink: FrameSink
    if output == "mp4":
        target = directory / "out.mp4"
        sink = FileOutput(target, container="mp4", preset="ultrafast")
    else:
        options = HLSOptions(container="mpegts" if output == "ts" else "fmp4", preset="ultrafast")
        sink = LocalHLSOutput(directory / "hls", options, cid_of_bytes)
        target = directory / "hls" / options.playlist_name
    await StreamInterpreter(r, {"video": src}, sink, video_format=video_format).run()
    return target


def _square(sar: str | None) -> bool:
    return sar in (None, "1:1", "0:1", "N/A")


@pytest.mark.parametrize(("spec", "output"), CASES, ids=[f"{c.name}-{o}" for c, o in CASES])
async def test_output_keeps_frames_size_rate_and_aspect(
    spec: ClipSpec, output: str, ffprobe: str, media_dir: Path, tmp_path: Path
) -> None:
    src = make_clip(ffmpeg_for(ffprobe), spec, media_dir)
    s = probe_video(ffprobe, src)
    assert int(s["nb_read_frames"]) == spec.frames, "the generated clip is not as specified"
    assert s.get("sample_aspect_ratio", "1:1") == spec.sar
    o = probe_video(ffprobe, await render(src, output, tmp_path))
    assert int(o["nb_read_frames"]) == spec.frames
    w, h = spec.size
    assert (o["width"], o["height"]) == (w & ~1, h & ~1)  # an odd row or column is cropped
    assert o["r_frame_rate"] == spec.rate
    if spec.sar == "1:1":
        assert _square(o.get("sample_aspect_ratio"))
    else:
        assert o["sample_aspect_ratio"] == spec.sar
        num, den = (int(x) for x in spec.sar.split(":"))
        dar = Fraction(w * num, h * den)
        assert o["display_aspect_ratio"] == f"{dar.numerator}:{dar.denominator}"


@pytest.mark.parametrize("spec", [LONG_AUDIO, NTSC_MKV, MPEG2_PS, *CAMERA[:4], CAMERA[5]])
async def test_audio_is_kept_and_cut_to_the_video(
    spec: ClipSpec, ffprobe: str, media_dir: Path, tmp_path: Path
) -> None:
    src = make_clip(ffmpeg_for(ffprobe), spec, media_dir)
    out = await render(src, "mp4", tmp_path)
    doc = run_probe(ffprobe, out, "-show_streams")
    (a,) = (st for st in doc["streams"] if st["codec_type"] == "audio")
    assert int(a["channels"]) == 2  # 5.1 and mono are mixed to the output's stereo
    # audio running past the video is cut at its end (AAC frames of 1024 samples)
    assert float(a["duration"]) == pytest.approx(spec.seconds, abs=1024 / 48000 + 1e-3)


def test_the_clips_are_what_they_claim(ffprobe: str, media_dir: Path) -> None:
    ffmpeg = ffmpeg_for(ffprobe)
    mp4 = make_clip(ffmpeg, LONG_AUDIO, media_dir).read_bytes()
    assert mp4.index(b"moov") > mp4.index(b"mdat")  # the index at the end
    for spec in (BFRAMES_TS, MPEG2_PS):
        path = make_clip(ffmpeg, spec, media_dir)
        doc = run_probe(ffprobe, path, "-show_entries", "format=start_time")
        assert float(doc["format"]["start_time"]) >= 0.5  # starts late
    doc = run_probe(ffprobe, make_clip(ffmpeg, BFRAMES_TS, media_dir), "-show_streams")
    assert int(doc["streams"][0]["has_b_frames"]) > 0


@pytest.mark.parametrize(
    ("spec", "fps", "expected"),
    [
        (BFRAMES_TS, Fraction(30), 122),  # 4.04 s * 30 = 121.2: frames starting before the end
        (LONG_AUDIO, Fraction(25), 175),  # 6.967 s * 25 = 174.2
        (NTSC_MKV, Fraction(25), 84),  # 3.337 s * 25 = 83.4
        (MPEG2_PS, Fraction(50), 154),  # 3.08 s * 50 = 154 exactly: no extra frame
    ],
    ids=["25-to-30", "30-to-25", "ntsc-to-25", "25-to-50"],
)
async def test_rate_change_count_follows_the_timestamps(
    spec: ClipSpec, fps: Fraction, expected: int, ffprobe: str, media_dir: Path, tmp_path: Path
) -> None:
    src = make_clip(ffmpeg_for(ffprobe), spec, media_dir)
    assert expected == math.ceil(spec.frames / Fraction(spec.rate) * fps)
    vf = VideoFormat(*spec.size, fps.numerator, fps.denominator)
    o = probe_video(ffprobe, await render(src, "ts", tmp_path, vf))
    assert int(o["nb_read_frames"]) == expected
