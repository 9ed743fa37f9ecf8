"""Issue 7 acceptance: the beat-sync example recipe on a generated 120 BPM click track.

The test video codes its frame index in binary blocks, so every output frame
tells which source frame it shows. The beats come from the real analysis
(nothing hand-written): the recipe's segment boundaries must land within one
frame of the detected and of the true beats, the output carries the click
track, and analysing the same input twice decodes it once.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from cache.cid import cid_of_bytes
from hls.options import HLSOptions
from hls.output import LocalHLSOutput
from interpreter import analysis as analysis_pkg
from interpreter.analysis import AnalysisCache, analyze_file
from interpreter.analysis import analyze as analyze_mod
from interpreter.analysis import decode as decode_mod
from interpreter.loader import load_recipe
from interpreter.nodes import Recipe
from interpreter.stream import StreamInterpreter
from interpreter.validate import validate
from tests.interpreter.stream.stream_sink import RecordingSink
from tests.media import click_track, write_wav

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[3]
FPS = 30
BPM = 120.0
FIRST_BEAT = 0.3  # seconds: the grid does not start at 0, so segment 0 is short
SECONDS = 4.5
RATE = 48000
BITS, BLOCK, HEIGHT = 10, 16, 32  # frame index in 10 black/white blocks of 16 px
TRUE_BEATS = np.arange(FIRST_BEAT, SECONDS - 0.05, 60.0 / BPM)


def _clicks(path: Path) -> Path:
    """Mono 48 kHz WAV: a 20 ms decaying 1 kHz click on every beat."""
    return write_wav(path, click_track(TRUE_BEATS, SECONDS, RATE), RATE)


def _coded_video(path: Path) -> Path:
    """Lossless H.264, no audio; frame n shows n in binary (bit b: block b white)."""
    width = BITS * BLOCK
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = width, HEIGHT, "yuv420p"
        vs.options = {"preset": "ultrafast", "qp": "0"}
        for n in range(round(SECONDS * FPS)):
            data = np.full((HEIGHT * 3 // 2, width), 128, np.uint8)
            for b in range(BITS):
                data[:HEIGHT, b * BLOCK : (b + 1) * BLOCK] = 235 if n >> b & 1 else 16
            f = av.VideoFrame.from_ndarray(data, format="yuv420p")
            f.pts, f.time_base = n, Fraction(1, FPS)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    return path


def _index(y: np.ndarray) -> int:
    """The source frame index coded in a luma plane (centre of each block)."""
    h = y.shape[0]
    mid = [
        float(y[h // 4 : 3 * h // 4, b * BLOCK + 4 : (b + 1) * BLOCK - 4].mean())
        for b in range(BITS)
    ]
    return sum(1 << b for b, m in enumerate(mid) if m > 125)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("beat-sync")
    return {"video": _coded_video(d / "coded.mp4"), "audio": _clicks(d / "clicks.wav")}


def _recipe(fmt: str, mode: str = "stretch") -> Recipe:
    path = ROOT / "recipes" / f"beat-sync.{fmt}"
    text = path.read_text().replace("stretch", mode)
    r = load_recipe(text, filename=str(path))
    validate(r)
    return r


def _segment_starts(sources: list[int], period: float) -> list[int]:
    """Output frame where each source segment i >= 1 (starting at i * period) first shows."""
    starts: list[int] = []
    i = 1
    while True:
        first = round(i * period * FPS)
        hit = next((n for n, s in enumerate(sources) if s >= first), None)
        if hit is None or first >= sources[-1]:
            return starts
        starts.append(hit)
        i += 1


def _check_cuts(sources: list[int], beats: np.ndarray, mode: str) -> None:
    period = float(np.median(np.diff(beats)))
    assert abs(period - 60.0 / BPM) < 1.0 / FPS
    # the source only moves forward and shows every segment
    assert all(b >= a for a, b in itertools.pairwise(sources))
    cuts = _segment_starts(sources, period)
    assert len(cuts) >= len(TRUE_BEATS) - 1, (cuts, sources)
    for i, n in enumerate(cuts):
        # segment i + 1 starts on beat i: within one frame of the detected and the true beat
        assert abs(n / FPS - beats[i]) <= 1.0 / FPS + 1e-6, (i, n, beats[i])
        assert abs(n / FPS - TRUE_BEATS[i]) <= 1.0 / FPS + 1e-6, (i, n, TRUE_BEATS[i])
    steps = np.diff(sources)
    if mode == "cut":
        # real speed; the 0.3 s before the first beat shows 0.3 s of segment 0, then jumps
        n = cuts[0]
        assert sources[n] == round(period * FPS) and sources[n] - sources[n - 1] > 1
        inside = np.delete(steps, [c - 1 for c in cuts])
        # a beat interval a little longer than the median holds one frame at most
        assert set(inside.tolist()) <= {0, 1} and (inside == 0).sum() <= len(cuts)
    else:  # segment 0 (0.5 s) is squeezed into 0.3 s, later ones play at about real speed
        assert steps[: cuts[0] - 1].mean() > 1.4
        assert abs(steps[cuts[0] :].mean() - 1.0) < 0.05


def _click_times(audio: np.ndarray, rate: int) -> list[float]:
    """Start of each click (first sample above 0.1 after 0.2 s of quiet)."""
    loud = np.flatnonzero(np.abs(audio) > 0.1)
    starts = [int(loud[0])] if len(loud) else []
    for a, b in itertools.pairwise(loud):
        if b - a > 0.2 * rate:
            starts.append(int(b))
    return [s / rate for s in starts]


def _check_clicks(times: list[float], tolerance: float) -> None:
    assert len(times) >= len(TRUE_BEATS) - 1
    for t, b in zip(times, TRUE_BEATS, strict=False):
        assert abs(t - b) <= tolerance, (times, TRUE_BEATS)


async def test_yaml_recipe_renders_hls_with_cuts_on_the_analysed_beats(
    media: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No analysis with the run: the runtime analyses the ANALYZE step's input itself."""
    results: list[Any] = []

    def spy(path: Any, features: Any = None, **kw: Any) -> Any:
        results.append(analyze_file(path, features, **kw))
        return results[-1]

    monkeypatch.setattr(analysis_pkg, "analyze_file", spy)
    out = tmp_path / "hls"
    sink = LocalHLSOutput(out, HLSOptions(segment_duration=1.0, preset="ultrafast"), cid_of_bytes)
    result = await StreamInterpreter(_recipe("yaml"), media, sink).run()
    assert len(results) == 1 and results[0].features == ("beats", "energy")
    detected = np.asarray(results[0].beat_times)
    assert len(detected) == len(TRUE_BEATS)
    assert np.abs(detected - TRUE_BEATS).max() < 1.0 / FPS

    sources: list[int] = []
    clicks: list[np.ndarray] = []
    v_start = a_start = None
    with av.open(str(result.playlist_path)) as c:
        for f in c.decode(c.streams.video[0], c.streams.audio[0]):
            if isinstance(f, av.VideoFrame):
                v_start = f.time if v_start is None else v_start
                sources.append(_index(f.to_ndarray()[: f.height]))
            elif isinstance(f, av.AudioFrame):
                a_start = f.time if a_start is None else a_start
                clicks.append(f.to_ndarray()[0])
    # ~4.25 s: segment 0 is squeezed into the 0.3 s before the first beat
    assert abs(len(sources) - round((SECONDS - 0.5 + FIRST_BEAT) * FPS)) <= 2
    _check_cuts(sources, detected, "stretch")
    # the output plays the click track the beats came from, in sync with the picture
    assert v_start is not None and a_start is not None
    offset = a_start - v_start
    _check_clicks([t + offset for t in _click_times(np.concatenate(clicks), RATE)], 1.0 / FPS)


@pytest.mark.parametrize("mode", ["stretch", "cut"])
async def test_sexp_recipe_with_cached_analysis_decodes_the_audio_once(
    media: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    decodes: list[Path] = []
    real_decode = decode_mod.decode_audio  # the function analyze_mod calls, patched below

    def counting(path: Path, *a: Any, **kw: Any) -> np.ndarray:
        decodes.append(Path(path))
        return real_decode(path, *a, **kw)

    monkeypatch.setattr(analyze_mod, "decode_audio", counting)
    recipe = _recipe("sexp", mode)
    step = recipe.step("analyze_audio")
    features = list(step.config["features"])
    cid = cid_of_bytes(media["audio"].read_bytes())
    first = await AnalysisCache(tmp_path).get_or_compute(cid, media["audio"], features)
    again = AnalysisCache(tmp_path)  # a new instance, as a later job would make
    second = await again.get_or_compute(cid, media["audio"], features)
    assert decodes == [media["audio"]] and again.hits == 1 and again.computed == 0
    # the stored JSON keeps 5 decimals
    np.testing.assert_allclose(second.beat_times, first.beat_times, atol=1e-5)

    def no_analysis(*a: Any, **kw: Any) -> Any:
        raise AssertionError("the runtime analysed although the analysis was given")

    monkeypatch.setattr(analysis_pkg, "analyze_file", no_analysis)
    sink = RecordingSink()
    await StreamInterpreter(recipe, media, sink, analysis={"analyze_audio": second}).run()
    assert decodes == [media["audio"]]
    sources = [_index(f.y) for f in sink.frames]
    _check_cuts(sources, np.asarray(second.beat_times), mode)
    assert sink.audio is not None and sink.audio.sample_rate == RATE
    audio = np.concatenate(sink.samples, axis=1)
    assert audio.shape == (sink.audio.channels, len(sources) * RATE // FPS)
    _check_clicks(_click_times(audio[0], RATE), 0.002)


async def test_analyze_of_a_segment_sees_the_beats_in_segment_time(
    media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime analyses the whole file once and shifts the beats into the SEGMENT."""
    from stream_recipes import recipe, step

    calls: list[Any] = []

    def spy(path: Any, features: Any = None, **kw: Any) -> Any:
        calls.append(path)
        return analyze_file(path, features, **kw)

    monkeypatch.setattr(analysis_pkg, "analyze_file", spy)
    r = recipe(
        step("music", "SOURCE", input="audio"),
        step("part", "SEGMENT", ("music",), start=1.1, duration=2.4),
        step("video", "SOURCE", input="video"),
        step("an", "ANALYZE", ("part",), features=["beats"]),
        step("bs", "BEAT_SYNC", ("video", "an"), mode="cut"),
        output="bs",
        inputs=("video", "audio"),
    )
    sink = RecordingSink()
    await StreamInterpreter(r, media, sink, duration=2.4).run()
    assert len(calls) == 1
    sources = [_index(f.y) for f in sink.frames]
    in_segment = TRUE_BEATS[(TRUE_BEATS >= 1.1) & (TRUE_BEATS < 3.5)] - 1.1  # 0.2, 0.7, ...
    cuts = _segment_starts(sources, 0.5)
    assert len(cuts) >= len(in_segment) - 1
    for n, b in zip(cuts, in_segment, strict=False):
        assert abs(n / FPS - b) <= 1.0 / FPS + 1e-6, (cuts, in_segment)
    # the segment's audio plays: its first click is the file's click at 1.3 s
    audio = np.concatenate(sink.samples, axis=1)
    assert abs(_click_times(audio[0], RATE)[0] - in_segment[0]) < 0.002
