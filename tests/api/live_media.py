"""Test recipes and HLS checks shared by the runs tests."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

__all__ = [
    "INPUT_RECIPE",
    "ffprobe_json",
    "live_recipe",
    "make_clip_bytes",
    "parse_playlist",
    "video_frames",
]


def live_recipe(duration: float = 4.0, fps: int = 25, name: str = "test-live") -> str:
    """A generated 320x240 recipe: test pattern through a hue effect, muxed with clicks."""
    return f"""\
name: {name}
version: '1.0'
steps:
- id: video
  type: SOURCE
  config: {{generator: testsrc, duration: {duration}, width: 320, height: 240, fps: {fps}}}
- id: beat
  type: SOURCE
  config: {{generator: clicks, duration: {duration}, bpm: 120}}
- id: fx
  type: EFFECT
  inputs: [video]
  config: {{effect: hue, degrees: 90 * t}}
- id: show
  type: MUX
  inputs: [fx, beat]
output: show
"""


def parse_playlist(text: str) -> dict[str, Any]:
    """Tags and segments of a media playlist (enough for the assertions here)."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U", text[:200]
    # EXT-X-MEDIA-SEQUENCE absent means 0 (RFC 8216 4.3.3.2)
    out: dict[str, Any] = {"segments": [], "endlist": "#EXT-X-ENDLIST" in lines, "sequence": 0}
    duration = None
    for line in lines:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            out["target"] = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            out["sequence"] = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            out["type"] = line.split(":", 1)[1]
        elif line.startswith("#EXTINF:"):
            duration = float(re.split("[:,]", line)[1])
        elif line and not line.startswith("#"):
            assert duration is not None, f"URI without EXTINF: {line}"
            out["segments"].append((line, duration))
            duration = None
    return out


async def ffprobe_json(ffprobe: str, url: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run ffprobe on ``url`` with JSON output; fail with its stderr on error."""
    proc = await asyncio.create_subprocess_exec(
        ffprobe,
        "-v",
        "error",
        "-of",
        "json",
        *args,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, f"ffprobe {url} failed: {err.decode()[-2000:]}"
    doc: dict[str, Any] = json.loads(out)
    return doc


async def video_frames(ffprobe: str, url: str) -> int:
    """The frames ffprobe decodes from the first video stream at ``url``."""
    probe = await ffprobe_json(
        ffprobe, url, "-select_streams", "v:0", "-count_frames", "-show_streams"
    )
    return int(probe["streams"][0]["nb_read_frames"])


def make_clip_bytes(
    seconds: float = 2.0, width: int = 160, height: int = 120, fps: int = 25
) -> bytes:
    """A small H.264 MP4 (moving gradient) made with PyAV, as bytes."""
    import io
    from fractions import Fraction

    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        ramp = np.arange(width, dtype=np.uint16)[None, :]
        for n in range(round(seconds * fps)):
            data = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
            data[:height] = ((ramp + 3 * n) % 220 + 16).astype(np.uint8)
            f = av.VideoFrame.from_ndarray(data, format="yuv420p")
            f.pts, f.time_base = n, Fraction(1, fps)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return buf.getvalue()


INPUT_RECIPE = """\
name: test-input
version: '1.0'
inputs:
  video: {type: video, description: a clip}
steps:
- id: fx
  type: EFFECT
  inputs: [video]
  config: {effect: invert}
output: fx
"""
