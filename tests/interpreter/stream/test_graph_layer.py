"""LAYER places its upper layers at the x/y offset (constant or animated)."""

from __future__ import annotations

import numpy as np

from effects.frame import VideoFormat, YUVFrame
from interpreter.nodes import Expr, NodeType, Step
from interpreter.stream import StreamInterpreter
from tests.interpreter.stream.stream_recipes import generator, recipe, step
from tests.interpreter.stream.stream_sink import RecordingSink

VF = VideoFormat(64, 48, 25, 1)
BLACK, WHITE = 16, 235


async def _layer(**config: object) -> list[np.ndarray]:
    return [f.data for f in await _frames(step("lay", "LAYER", ("base", "top"), **config))]


async def _frames(layer: Step) -> list[YUVFrame]:
    r = recipe(
        generator("base", "color", duration=0.2, color=[0, 0, 0]),
        generator("top", "color", duration=0.2, color=[255, 255, 255]),
        layer,
        output="lay",
    )
    sink = RecordingSink()
    await StreamInterpreter(r, {}, sink, video_format=VF).run()
    return sink.frames


def _white_box(y: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((y == WHITE).any(axis=1))
    cols = np.flatnonzero((y == WHITE).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


async def test_offset_moves_the_upper_layer_and_leaves_the_base_elsewhere() -> None:
    [data, *_] = await _layer(x=16, y=8)
    y = data[:48]
    assert _white_box(y) == (8, 48, 16, 64)
    assert set(np.unique(y).tolist()) == {BLACK, WHITE}
    uv = data[48:].reshape(-1)  # white and black share neutral chroma
    assert set(np.unique(uv).tolist()) == {128}


async def test_negative_offset_and_no_overlap() -> None:
    [data, *_] = await _layer(x=-20, y=-10)
    assert _white_box(data[:48]) == (0, 38, 0, 44)
    [data, *_] = await _layer(x=100)
    assert (data[:48] == BLACK).all()


async def test_without_offset_the_layer_covers_the_base() -> None:
    [data, *_] = await _layer(opacity=0.5)
    y = data[:48]
    assert (y == round((BLACK + WHITE) / 2)).all()


async def test_animated_offset_follows_the_frame() -> None:
    x = Expr("*", (Expr("var", ("frame",)), Expr("num", (4.0,))))
    frames = await _frames(Step("lay", NodeType.LAYER, ("base", "top"), {"x": x}))
    assert len(frames) == 5
    for n, f in enumerate(frames):
        assert _white_box(f.y) == (0, 48, 4 * n, 64)
