"""The HLS writers on a full disk (a small tmpfs): no partial file is ever left or
listed, the error names the file and folder, and the playlist ends with what is complete."""

from __future__ import annotations

import asyncio
from pathlib import Path

import m3u8
import pytest

from effects.frame import AudioFormat, VideoFormat
from hls.errors import HLSError, OutputWriteError
from hls.options import HLSOptions
from hls.output import LocalHLSOutput, sha256_cid
from hls.segment_files import atomic_write
from tests.hls.hls_media import make_frames, tone_for_frame
from tests.tmpfs import small_tmpfs


def _leftovers(root: Path) -> list[Path]:
    return list(root.glob(".tmp-*"))


def test_atomic_write_on_a_full_disk_keeps_the_old_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "fs", 64) as root:
        target = root / "playlist.m3u8"
        atomic_write(target, b"#EXTM3U\n")
        with pytest.raises(OutputWriteError) as caught:
            atomic_write(target, b"x" * (256 * 1024))
        message = str(caught.value)
        assert "playlist.m3u8" in message and str(root) in message, message
        assert "no space left" in message.lower(), message
        assert isinstance(caught.value, OSError)  # callers suppressing OSError still do
        assert target.read_bytes() == b"#EXTM3U\n"
        assert _leftovers(root) == []


async def test_local_output_stops_cleanly_when_the_disk_fills(
    tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    with small_tmpfs(tmp_path / "fs", 128) as root:  # room for ~6 of the ~17 kB segments
        out = LocalHLSOutput(root, HLSOptions(segment_duration=0.5), sha256_cid)
        await out.start(small_video, stereo)
        frames = make_frames(small_video, 900)  # 30 s: far more than fits

        def pump() -> None:
            for i, frame in enumerate(frames):
                out.write(frame, tone_for_frame(stereo, small_video, i))

        # the failure surfaces in write() (the pipeline stops) or, at the very end, in finish()
        with pytest.raises(HLSError) as caught:
            await asyncio.to_thread(pump)
            await out.finish()
        await out.abort()  # what the interpreter does after a failed write
        assert "no space left" in str(caught.value).lower() and str(root) in str(caught.value)

        playlist = m3u8.loads((root / "playlist.m3u8").read_text())
        assert playlist.segments, "some segments fit before the disk filled"
        for seg in playlist.segments:  # listed means complete: the name is the content hash
            assert Path(seg.uri).stem == sha256_cid((root / seg.uri).read_bytes())
        assert _leftovers(root) == []
