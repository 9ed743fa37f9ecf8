"""FileOutput: one file ffprobe reads with the exact frame count, audio in sync, atomic."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from effects.frame import AudioFormat, VideoFormat
from hls.errors import EncoderError, OutputStateError
from hls.file_output import FileOutput, FileResult
from tests.hls.hls_media import make_frames, tone_for_frame


def probe(ffprobe: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    info: dict[str, Any] = json.loads(out.stdout)
    return info


async def render(
    out: FileOutput, video: VideoFormat, audio: AudioFormat | None, n: int
) -> FileResult:
    await out.start(video, audio, None)

    def push() -> None:
        for i, f in enumerate(make_frames(video, n)):
            out.write(f, tone_for_frame(audio, video, i) if audio else None)

    await asyncio.to_thread(push)
    return await out.finish()


@pytest.mark.parametrize("container", ["mkv", "mp4"])
async def test_exact_frame_count_with_audio(
    tmp_path: Path,
    ffprobe: str,
    small_video: VideoFormat,
    stereo: AudioFormat,
    container: Literal["mkv", "mp4"],
) -> None:
    path = tmp_path / f"out.{container}"
    result = await render(FileOutput(path, container=container), small_video, stereo, 47)
    assert result.path == path and path.is_file()
    assert result.frames == 47 and result.size == path.stat().st_size
    info = probe(ffprobe, path)
    streams = {s["codec_type"]: s for s in info["streams"]}
    v = streams["video"]
    assert v["codec_name"] == "h264"
    assert int(v["nb_read_frames"]) == 47
    assert (v["width"], v["height"]) == (192, 108)
    assert v["r_frame_rate"] == "30/1"
    a = streams["audio"]
    assert a["codec_name"] == ("aac" if container == "mp4" else "pcm_s16le")
    assert int(a["sample_rate"]) == 48000 and int(a["channels"]) == 2
    # audio covers the video (47/30 s) within one AAC frame
    assert abs(float(info["format"]["duration"]) - 47 / 30) < 0.05
    # no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


async def test_video_only_decodes_back_to_the_frames(tmp_path: Path, ffprobe: str) -> None:
    import av

    video = VideoFormat(64, 36, 25, 1)  # H % 4 != 0 uses from_ndarray
    path = tmp_path / "v.mkv"
    result = await render(FileOutput(path, crf=0), video, None, 10)
    assert result.audio is None and result.duration == pytest.approx(0.4)
    info = probe(ffprobe, path)
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    assert int(info["streams"][0]["nb_read_frames"]) == 10
    with av.open(str(path)) as c:
        decoded = [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]
    expected = make_frames(video, 10)
    assert len(decoded) == 10
    # crf 0 is lossless in luma
    assert np.array_equal(decoded[3][:36], expected[3].data[:36])


async def test_abort_leaves_nothing(tmp_path: Path, small_video: VideoFormat) -> None:
    path = tmp_path / "x.mp4"
    out = FileOutput(path, container="mp4")
    await out.start(small_video, None, None)
    await asyncio.to_thread(out.write, make_frames(small_video, 1)[0], None)
    await out.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputStateError):
        out.write(make_frames(small_video, 1)[0], None)


async def test_bad_input_is_a_clear_error(tmp_path: Path, small_video: VideoFormat) -> None:
    with pytest.raises(ValueError, match="container"):
        FileOutput(tmp_path / "a.avi", container="avi")  # type: ignore[arg-type]  # the error under test
    out = FileOutput(tmp_path / "a.mkv")
    await out.start(small_video, None, None)
    with pytest.raises(EncoderError, match="is 64x36"):
        out.write(make_frames(VideoFormat(64, 36, 30, 1), 1)[0], None)
    await out.abort()
