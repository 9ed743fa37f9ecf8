"""The analysis tab's view model: a run's analysis, whatever its shape, as charts and a summary.

A run carries its analysis as ``{ANALYZE step id: document}`` (computed by the
workers) or as one document for every ANALYZE step (given with the run, like
the demo's). A document is an :class:`interpreter.analysis.AnalysisResult`
JSON (``audio``/``video`` sections), a file's analysis seen through a SEGMENT
(``{"window", "analysis"}``) or the runtime's simple shape (``beats``,
``energy: {"rate", "values"}``...; see :mod:`interpreter.runtime.analysis`).
:func:`analysis_context` turns all of them into :class:`web.analysis_model.AnalysisView`
objects: the summary table the page shows (also without JavaScript) and the
JSON that ``web/static/analysis.js`` draws on a canvas. Nothing here does I/O.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from web.analysis_model import BANDS, MAX_POINTS, AnalysisView, Curve

__all__ = ["analysis_context", "analysis_views", "parse_document"]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _times(value: Any) -> tuple[float, ...]:
    """Sorted event times from a list or ``{"times": [...]}``."""
    if isinstance(value, Mapping):
        value = value.get("times")
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(sorted(t for t in (_num(v) for v in value) if t is not None))


def _values(value: Any) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(_num(v) or 0.0 for v in value)


def _series(value: Any, rate: float | None) -> Curve | None:
    """A curve from ``{"rate", "values"}``, ``{"times", "values"}`` or a list at ``rate``."""
    if isinstance(value, Mapping):
        values = _values(value.get("values"))
        times = _values(value.get("times"))
        rate = _num(value.get("rate")) or rate
    else:
        values, times = _values(value), ()
    if not values:
        return None
    if times and len(times) == len(values):
        return _regular(times, values)
    if not rate or rate <= 0:
        return None
    return Curve(0.0, 1.0 / rate, values)


def _regular(times: Sequence[float], values: Sequence[float]) -> Curve:
    """Samples at sorted ``times`` on a grid of their median spacing (linear interpolation)."""
    if len(times) < 2:
        return Curve(times[0] if times else 0.0, 1.0, tuple(values))
    gaps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    step = gaps[(len(gaps) - 1) // 2] if gaps else 1.0
    n = min(int((times[-1] - times[0]) / step) + 1, 20 * MAX_POINTS)
    out: list[float] = []
    for i in range(n):
        t = times[0] + i * step
        j = min(max(bisect.bisect_right(times, t) - 1, 0), len(times) - 2)
        t0, t1, v0, v1 = times[j], times[j + 1], values[j], values[j + 1]
        out.append(v0 if t1 <= t0 else v0 + (v1 - v0) * min(max((t - t0) / (t1 - t0), 0.0), 1.0))
    return Curve(times[0], step, tuple(out))


def _tempo_alternatives(value: Any) -> tuple[float, ...]:
    """Numbers, ``[bpm, confidence]`` pairs or objects with ``bpm``/``tempo``, best first."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    out = []
    for item in value:
        if isinstance(item, Mapping):
            bpm = _num(item.get("bpm", item.get("tempo")))
        elif isinstance(item, Sequence) and not isinstance(item, str) and item:
            bpm = _num(item[0])  # (bpm, confidence) pairs
        else:
            bpm = _num(item)
        if bpm is not None:
            out.append(bpm)
    return tuple(out)


def _audio(view: AnalysisView, audio: Mapping[str, Any], top: Mapping[str, Any]) -> AnalysisView:
    rate = _num(audio.get("envelope_rate")) or _num(top.get("envelope_rate"))
    curves = {n: c for n in BANDS if (c := _series(audio.get(n), rate)) is not None}
    beats = _times(audio.get("beats"))
    downbeats = _times(audio.get("downbeats"))
    confidence = audio.get("tempo_confidence", top.get("tempo_confidence"))
    return replace(
        view,
        tempo=_num(audio.get("tempo")),
        tempo_confidence=_num(confidence),
        tempo_alternatives=_tempo_alternatives(
            audio.get("tempo_alternatives", top.get("tempo_alternatives"))
        ),
        beats=beats,
        downbeats=downbeats or beats[::4],
        downbeats_inferred=bool(beats) and not downbeats,
        onsets=_times(audio.get("onsets")),
        curves=curves,
    )


def _video(view: AnalysisView, video: Mapping[str, Any]) -> AnalysisView:
    fps = _num(video.get("fps"))
    cuts = _times(video.get("cut_times"))
    if not cuts and fps:
        cuts = tuple(c / fps for c in _times(video.get("cuts")))
    return replace(
        view,
        motion=_series(video.get("motion"), fps),
        cuts=cuts,
        motion_tempo=_num(video.get("motion_tempo")),
    )


def _span(view: AnalysisView, *durations: Any) -> float:
    """The first duration given, else how far the data reaches."""
    for d in durations:
        if (value := _num(d)) is not None and value > 0:
            return value
    ends = [*view.beats[-1:], *view.onsets[-1:], *view.cuts[-1:]]
    ends += [c.end for c in view.curves.values()] + ([view.motion.end] if view.motion else [])
    return max(ends, default=0.0)


def parse_document(doc: Any, step_ids: Sequence[str], label: str) -> AnalysisView:
    """One analysis document (any of the module doc's shapes) as a view."""
    view = AnalysisView(tuple(step_ids), label)
    if not isinstance(doc, Mapping):
        return view
    if isinstance(doc.get("window"), Mapping) and isinstance(doc.get("analysis"), Mapping):
        w = doc["window"]
        return _windowed(parse_document(doc["analysis"], step_ids, label), w)
    features = doc.get("features")
    if isinstance(features, Sequence) and not isinstance(features, str):
        view = replace(view, features=tuple(str(f) for f in features))
    cid = doc.get("input_cid")
    view = replace(view, input_cid=cid if isinstance(cid, str) and cid else None)
    sections = "audio" in doc or "video" in doc
    audio = doc.get("audio") if sections else doc
    video = doc.get("video") if sections else None
    if isinstance(audio, Mapping):
        view = _audio(view, audio, doc)
    if isinstance(video, Mapping):
        view = _video(view, video)
    a = audio if isinstance(audio, Mapping) else {}
    v = video if isinstance(video, Mapping) else {}
    duration = _span(view, a.get("duration"), v.get("duration"), doc.get("duration"))
    return replace(view, duration=duration, source_duration=duration or None)


def _windowed(view: AnalysisView, window: Mapping[str, Any]) -> AnalysisView:
    """``view`` as a SEGMENT of ``[start, start + duration)`` of the file sees it."""
    start = _num(window.get("start")) or 0.0
    length = _num(window.get("duration"))
    end = start + length if length is not None else max(view.duration, start)

    def cut(times: Iterable[float]) -> tuple[float, ...]:
        return tuple(round(t - start, 6) for t in times if start - 1e-9 <= t < end)

    return replace(
        view,
        duration=max(0.0, min(end, view.duration or end) - start),
        beats=cut(view.beats),
        downbeats=cut(view.downbeats),
        onsets=cut(view.onsets),
        cuts=cut(view.cuts),
        curves={n: c.window(start, end) for n, c in view.curves.items()},
        motion=None if view.motion is None else view.motion.window(start, end),
        window_start=view.window_start + start,
    )


def _analyze_steps(plan: Mapping[str, Any] | None) -> dict[str, str]:
    """ANALYZE step id -> name, in plan order."""
    steps = (plan or {}).get("steps") or []
    return {
        str(s.get("step_id")): str(s.get("name") or s.get("step_id"))
        for s in steps
        if isinstance(s, Mapping) and s.get("node_type") == "ANALYZE"
    }


_SHAPE_KEYS = frozenset({"schema", "audio", "video", "window", "beats", "tempo", "energy"})


def _looks_keyed(doc: Mapping[str, Any], ids: Mapping[str, str]) -> bool:
    """Whether ``doc`` maps ANALYZE step ids to documents (else it is one for all)."""
    if ids and set(doc) <= set(ids):
        return True
    if ids or _SHAPE_KEYS & set(doc):
        return False
    return all(isinstance(v, Mapping) and _SHAPE_KEYS & set(v) for v in doc.values())


def analysis_views(
    analysis: Any, plan: Mapping[str, Any] | None, inputs: Mapping[str, Any] | None = None
) -> list[AnalysisView]:
    """The charts of a run's analysis (empty without one).

    Args:
        analysis: The run's ``analysis`` column.
        plan: The run's plan JSON (``ExecutionPlan.to_dict``), for step names.
        inputs: The run's inputs (name -> CID): only these files get a waveform.
    """
    if not isinstance(analysis, Mapping) or not analysis:
        return []
    ids = _analyze_steps(plan)
    files = {str(c) for c in (inputs or {}).values()}
    if _looks_keyed(analysis, ids):
        views = [
            parse_document(doc, [str(sid)], ids.get(str(sid), str(sid)))
            for sid, doc in analysis.items()
        ]
    else:
        label = ", ".join(ids.values()) or "the run"
        views = [parse_document(analysis, list(ids), label)]
    return [v if v.input_cid in files else replace(v, input_cid=None) for v in views]


def analysis_context(run: Mapping[str, Any]) -> dict[str, Any]:
    """Template context of the analysis tab for a run row."""
    plan = run.get("plan") or {}
    views = analysis_views(run.get("analysis"), plan, run.get("inputs"))
    return {
        "analysis": run.get("analysis"),
        "analysis_views": views,
        "analysis_charts": [v.chart() for v in views],
        "analysis_requests": plan.get("analysis", []),
    }
