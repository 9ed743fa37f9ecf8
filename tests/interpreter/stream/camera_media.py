"""Camera-like clips made at test time with the ffmpeg CLI (never committed).

Each :class:`ClipSpec` is a container and codec pair real users bring (MP4
with the index at the end, MPEG-2 program streams starting late, Theora in
Ogg, VP8/VP9 WebM, MS-MPEG4 AVI, odd sizes, 5.1 audio, non-square pixels,
NTSC rates, B-frames), kept tiny. ``ffmpeg`` is the executable beside the
``ffprobe`` fixture's; a clip whose encoder that ffmpeg lacks is skipped with
the reason.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ClipSpec", "ffmpeg_for", "make_clip", "probe_video", "run_probe"]


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """One generated clip and what an output rendered from it must show.

    Attributes:
        name: File name (its suffix picks the container).
        video: Options of the video encoder (``-c:v ...``).
        frames: Video frames in the clip.
        size: Frame size of the clip.
        rate: Its frame rate as ffprobe writes it (``"25/1"``).
        sar: Its sample aspect ratio (``"1:1"``: square pixels).
        audio: Options of the audio encoder ('' for no audio).
        audio_seconds: Length of the audio (may differ from the video's).
        channels: Audio channels.
        encoders: ffmpeg encoders the clip needs.
    """

    name: str
    video: str
    frames: int
    size: tuple[int, int]
    rate: str
    sar: str = "1:1"
    audio: str = ""
    audio_seconds: float | None = None
    channels: int = 2
    encoders: tuple[str, ...] = ("libx264",)

    @property
    def seconds(self) -> float:
        """Length of the video."""
        return float(self.frames / Fraction(self.rate))

    def ffmpeg_args(self) -> list[str]:
        """Inputs (lavfi test pattern and tone) and output options, without the file."""
        w, h = self.size
        sar = self.sar.replace(":", "/")
        src = (
            f"testsrc2=size={w}x{h}:rate={self.rate},setsar=sar={sar}:max=1000,"
            f"trim=end_frame={self.frames}"
        )
        args = ["-f", "lavfi", "-i", src]
        if self.audio:
            secs = self.audio_seconds if self.audio_seconds is not None else self.seconds
            layout = {1: "mono", 2: "stereo", 6: "5.1"}[self.channels]
            tone = f"sine=f=440:sample_rate=48000:duration={secs},aformat=channel_layouts={layout}"
            args += ["-f", "lavfi", "-i", tone]
        args += self.video.split()
        args += self.audio.split() if self.audio else ["-an"]
        return args


@functools.lru_cache(maxsize=4)
def _encoders(ffmpeg: str) -> frozenset[str]:
    out = subprocess.run(
        [ffmpeg, "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    ).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def ffmpeg_for(ffprobe: str) -> str:
    """The ffmpeg executable beside ``ffprobe`` (skips the test if missing)."""
    path = Path(ffprobe).with_name("ffmpeg")
    if not path.exists():
        pytest.skip(f"no ffmpeg beside {ffprobe}")
    return str(path)


def make_clip(ffmpeg: str, spec: ClipSpec, directory: Path) -> Path:
    """Encode ``spec`` into ``directory`` (cached there); skips when an encoder is missing."""
    missing = [e for e in spec.encoders if e not in _encoders(ffmpeg)]
    if missing:
        pytest.skip(f"{spec.name}: this ffmpeg has no {', '.join(missing)} encoder")
    path = directory / spec.name
    if path.exists():
        return path
    args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *spec.ffmpeg_args(), str(path)]
    subprocess.run(args, check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return path


def run_probe(ffprobe: str, path: Path, *args: str) -> dict[str, Any]:
    """``ffprobe -of json`` of ``path`` with ``args``."""
    out = subprocess.run(
        [ffprobe, "-v", "error", *args, "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def probe_video(ffprobe: str, path: Path) -> dict[str, Any]:
    """The first video stream of ``path`` with its frames counted (decoded)."""
    doc = run_probe(
        ffprobe,
        path,
        "-select_streams",
        "v:0",
        "-count_frames",
        "-show_entries",
        "stream=nb_read_frames,width,height,r_frame_rate,sample_aspect_ratio,display_aspect_ratio",
    )
    streams: list[dict[str, Any]] = doc["streams"]
    return streams[0]
