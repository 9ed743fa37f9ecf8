"""Shared pieces of the issue-6 walkthrough (docs/walkthrough.md) for its tests.

The recipe, the two ffmpeg commands that make its media and small HTTP
helpers, so the automated walkthrough runs exactly what the document shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "AUDIO_CMD",
    "CLIP_SECONDS",
    "RECIPE",
    "VIDEO_CMD",
    "artdag_token",
    "assert_error",
    "make_media",
    "sse_events",
]

#: Seconds of the generated clip and click track.
CLIP_SECONDS = 3

#: The walkthrough's recipe: a clip whose hue flashes on the beats of a click track,
#: muxed with that track.
RECIPE = """\
name: walkthrough
version: "1.0"
description: "A clip whose hue flashes on every beat of a click track"
inputs:
  video: {type: video, description: "a short clip"}
  audio: {type: audio, description: "a click track"}
steps:
  - id: beats
    type: ANALYZE
    inputs: [audio]
    config: {features: [beats, energy]}
  - id: flash
    type: EFFECT
    inputs: [video, beats]
    config: {effect: hue, degrees: "120 * decay(6)"}
  - id: out
    type: MUX
    inputs: [flash, audio]
output: out
"""

#: ffmpeg: a 320x240 25 fps H.264 test pattern (``{out}`` is the file).
VIDEO_CMD = (
    "ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25:duration={seconds} "
    "-c:v libx264 -preset ultrafast -pix_fmt yuv420p {out}"
)
#: ffmpeg: a 120 BPM click track (a 20 ms 1 kHz burst every 0.5 s), 44.1 kHz WAV.
AUDIO_CMD = (
    "ffmpeg -v error -y -f lavfi "
    "-i aevalsrc='if(lt(mod(t\\,0.5)\\,0.02)\\,sin(2*PI*1000*t)\\,0)':s=44100:d={seconds} "
    "-c:a pcm_s16le {out}"
)


async def _sh(cmd: str, env: dict[str, str] | None = None) -> str:
    proc = await asyncio.create_subprocess_shell(
        cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, f"{cmd!r} failed ({proc.returncode}): {err.decode()[-2000:]}"
    return out.decode()


async def make_media(folder: Path, seconds: int = CLIP_SECONDS) -> tuple[Path, Path]:
    """Run the walkthrough's two ffmpeg commands; returns (clip.mp4, clicks.wav)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (scripts/bootstrap.sh installs it)"
    video, audio = folder / "clip.mp4", folder / "clicks.wav"
    await _sh(VIDEO_CMD.format(seconds=seconds, out=video))
    await _sh(AUDIO_CMD.format(seconds=seconds, out=audio))
    return video, audio


async def artdag_token(user: str, env: dict[str, str], key_prefix: str | None = None) -> str:
    """``artdag token create --user USER`` with ``env`` added; returns the token it prints.

    ``key_prefix`` (``ARTDAG_REDIS_PREFIX``) keeps the token's Redis records in a test's keys.
    """
    artdag = Path(sys.executable).with_name("artdag")
    cmd = f"{artdag} token create --user {user} --ttl 1h"
    extra = {"ARTDAG_REDIS_PREFIX": key_prefix} if key_prefix else {}
    out = await _sh(cmd, env={**os.environ, **env, **extra})
    token = out.strip().splitlines()[-1]
    assert len(token) > 40 and " " not in token, out
    return token


async def sse_events(
    client: httpx.AsyncClient, path: str, timeout: float = 120.0
) -> list[tuple[str, dict[str, Any]]]:
    """Read ``text/event-stream`` at ``path`` until the server closes it."""
    events: list[tuple[str, dict[str, Any]]] = []

    async def read() -> None:
        async with client.stream("GET", path, timeout=timeout) as resp:
            assert resp.status_code == 200, await resp.aread()
            assert resp.headers["content-type"].startswith("text/event-stream")
            kind = "message"
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events.append((kind, json.loads(line.split(":", 1)[1])))
                elif not line:
                    kind = "message"

    await asyncio.wait_for(read(), timeout)
    return events


def assert_error(resp: httpx.Response, status: int) -> dict[str, Any]:
    """The response is ``status`` with the API's JSON error shape; returns the body."""
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    doc: dict[str, Any] = resp.json()
    assert doc["status"] == status, doc
    assert isinstance(doc["title"], str) and doc["title"], doc
    assert isinstance(doc["detail"], str) and doc["detail"], doc
    return doc
