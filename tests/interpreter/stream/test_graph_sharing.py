"""A step feeding several consumers is built once (a file decodes once) and gives
every consumer the same frames and audio as private copies would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from effects.catalog import default_registry
from effects.frame import AudioFormat, VideoFormat
from interpreter.nodes import Recipe
from interpreter.runtime import builder as builder_mod
from interpreter.runtime import graph as graph_mod
from interpreter.runtime.base import Timing
from interpreter.runtime.compose import BlendStream
from interpreter.runtime.shared import _Tap as SharedTap
from interpreter.runtime.sources import FileSource
from tests.interpreter.stream.stream_media import frame_number
from tests.interpreter.stream.stream_recipes import recipe, step

VF = VideoFormat(64, 48, 25, 1)


def _render(
    r: Recipe, clip: Path, lag: int | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Frames (luma), audio and the number of files opened, reading the root directly."""
    opened: list[Any] = []

    class Counting(FileSource):
        def __init__(self, *a: Any, **kw: Any) -> None:
            opened.append(a[0])
            super().__init__(*a, **kw)

    monkeypatch.setattr(builder_mod, "FileSource", Counting)
    timing = Timing(VF, AudioFormat())
    g = graph_mod.build_graph(
        r, {"video": clip}, timing, registry=default_registry(), max_shared_lag=lag
    )
    try:
        assert g.root.frames is not None
        frames, audio = [], []
        for n in range(g.root.frames):
            g.clock.n = n
            f, a = g.root.read(timing.samples_for(n))
            assert f is not None and a is not None
            frames.append(f.y.copy())
            audio.append(a)
        return frames, np.concatenate(audio, axis=1), len(opened)
    finally:
        g.close()


def _blend_of_itself() -> Recipe:
    return recipe(
        step("src", "SOURCE", input="video"),
        step("fx", "EFFECT", ("src",), effect="invert"),
        step("mix", "BLEND", ("src", "fx"), mode="normal", opacity=0.25),
        output="mix",
        inputs=("video",),
    )


def _twice() -> Recipe:
    return recipe(
        step("src", "SOURCE", input="video"),
        step("seq", "SEQUENCE", ("src", "src"), transition="cut"),
        output="seq",
        inputs=("video",),
    )


def test_blend_of_a_clip_and_its_effect_decodes_the_clip_once(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared, shared_audio, opened = _render(_blend_of_itself(), clip, None, monkeypatch)
    private, private_audio, opened_private = _render(_blend_of_itself(), clip, 0, monkeypatch)
    assert (opened, opened_private) == (1, 2)
    assert len(shared) == len(private) == 50
    for a, b in zip(shared, private, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(shared_audio, private_audio)
    assert np.abs(shared_audio).max() > 0.1  # the clip's tone came through
    # 0.75 * clip + 0.25 * inverted clip: not the clip itself
    assert abs(float(shared[0].mean()) - 16.0) > 20


@pytest.mark.parametrize(("lag", "opened"), [(None, 1), (10, 2)])
def test_a_clip_used_twice_in_a_sequence(
    clip: Path, monkeypatch: pytest.MonkeyPatch, lag: int | None, opened: int
) -> None:
    """Within the buffer budget the second use replays held frames; beyond it, a lagging
    consumer gets its own copy (frames are not held for it)."""
    frames, audio, n_open = _render(_twice(), clip, lag, monkeypatch)
    assert n_open == opened
    nums = [frame_number(float(y.mean())) for y in frames]
    assert nums == list(range(50)) * 2
    _, private_audio, _ = _render(_twice(), clip, 0, monkeypatch)
    np.testing.assert_array_equal(audio, private_audio)
    half = audio.shape[1] // 2
    np.testing.assert_array_equal(audio[:, :half], audio[:, half:])


def test_shared_stream_drops_what_every_consumer_has_read(clip: Path) -> None:
    timing = Timing(VF, AudioFormat())
    g = graph_mod.build_graph(
        _blend_of_itself(), {"video": clip}, timing, registry=default_registry()
    )
    try:
        for n in range(30):
            g.clock.n = n
            g.root.read(timing.samples_for(n))
        root = g.root
        assert isinstance(root, BlendStream) and isinstance(root.srcs[0], SharedTap)
        sh = root.srcs[0].shared
        assert isinstance(sh, graph_mod.SharedStream)
        assert len(sh.taps) == 2 and all(t.k == 30 for t in sh.taps)
        assert len(sh._frames) <= 1 and sh._f0 >= 29
        assert sh._audio.shape[1] <= timing.samples_for(0)
    finally:
        g.close()
