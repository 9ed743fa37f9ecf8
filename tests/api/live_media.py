"""Test recipes and HLS checks shared by the runs tests."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

__all__ = ["ffprobe_json", "live_recipe", "parse_playlist"]


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
    out: dict[str, Any] = {"segments": [], "endlist": "#EXT-X-ENDLIST" in lines}
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
        ffprobe, "-v", "error", "-of", "json", *args, url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, f"ffprobe {url} failed: {err.decode()[-2000:]}"
    return json.loads(out)
