"""The generated demo render: test pattern + 120 BPM clicks through a few effects, to HLS.

``render_demo`` is the rendering core (used by ``artdag render`` with no
inputs and by ``artdag serve --demo``). ``start_demo(app_state)`` (which
creates a run row and serves it) belongs with the runs API and is added there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from effects.frame import VideoFormat
from interpreter.nodes import NodeType, Recipe, Step

__all__ = ["DEMO_EFFECTS", "demo_recipe", "render_demo"]

#: The demo's chain: a hue rotation that advances with time and a light blur.
DEMO_EFFECTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("hue", {"degrees": 45.0}),
    ("blur", {"radius": 1.0}),
)


def demo_recipe(
    duration: float, effects: tuple[tuple[str, dict[str, Any]], ...] | list[Any] = DEMO_EFFECTS
) -> Recipe:
    """Test pattern with a click track at 120 BPM, through ``effects`` (name, params)."""
    steps = [
        Step(
            "pattern",
            NodeType.SOURCE,
            (),
            {"generator": "testsrc", "params": {"duration": duration}},
        ),
        Step(
            "clicks",
            NodeType.SOURCE,
            (),
            {"generator": "clicks", "params": {"duration": duration, "bpm": 120.0}},
        ),
    ]
    last = "pattern"
    for i, (name, params) in enumerate(effects):
        sid = f"fx{i}_{name}"
        steps.append(Step(sid, NodeType.EFFECT, (last,), {"effect": name, "params": dict(params)}))
        last = sid
    steps.append(Step("out", NodeType.MUX, (last, "clicks"), {}))
    return Recipe("demo", "1.0", "generated demo", (), (), tuple(steps), "out")


async def render_demo(
    out_dir: Path,
    duration: float = 30.0,
    *,
    video_format: VideoFormat = VideoFormat(1280, 720, 30, 1),
    preset: str = "veryfast",
    segment_duration: float = 2.0,
    on_playlist_update: Callable[[Any], Awaitable[None]] | None = None,
    on_progress: Callable[[Any], Any] | None = None,
) -> Any:
    """Render the demo into ``out_dir`` (playlist.m3u8 + CID-named segments).

    Returns:
        The ``hls.output.HLSResult`` of the local output.
    """
    from cache.cid import cid_of_bytes
    from hls.options import HLSOptions
    from hls.output import LocalHLSOutput
    from interpreter.stream import StreamInterpreter

    def cid_fn(data: bytes) -> str:
        return cid_of_bytes(data)

    sink = LocalHLSOutput(
        out_dir, HLSOptions(segment_duration=segment_duration, preset=preset), cid_fn
    )
    interp = StreamInterpreter(
        demo_recipe(duration), {}, sink, video_format=video_format, duration=duration,
        on_playlist_update=on_playlist_update, on_progress=on_progress,
    )  # fmt: skip
    return await interp.run()
