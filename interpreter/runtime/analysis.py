"""Per-frame analysis variables (beat, energy, bands) for parameter expressions.

Accepts the analysis given with a run as JSON (until the analysis phase feeds
it directly) or any object with ``sample(t) -> Mapping[str, float]``. JSON
shape: ``{"beats": [seconds...], "energy": SERIES, "bass": SERIES, ...}``
where a SERIES is ``{"times": [...], "values": [...]}`` or
``{"rate": HZ, "values": [...]}``.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["FEATURE_VARS", "AnalysisTrack", "segment_window", "windowed"]

FEATURE_VARS = ("energy", "bass", "mid", "high")


class AnalysisTrack:
    """Samples beat and feature variables at a time ``t``.

    Accepts an ``interpreter.analysis.AnalysisResult`` (or its JSON dict,
    recognised by its ``schema`` key), the simple JSON shape of the module
    doc, any object with ``sample(t)``, a :func:`windowed` document, or None
    (no beats, features 0).

    Attributes:
        beats: Beat times in seconds, sorted.
        downbeats: Downbeat times (falls back to every fourth beat).
        onsets: Onset times (falls back to the beats).
        duration: Length of the analysed audio in seconds (0.0 when unknown).
    """

    def __init__(self, data: Any = None) -> None:
        if isinstance(data, Mapping) and "window" in data and "analysis" in data:
            w = data["window"]
            inner = AnalysisTrack(data["analysis"]).window(
                float(w.get("start", 0.0)),
                None if w.get("duration") is None else float(w["duration"]),
            )
            self.__dict__.update(inner.__dict__)
            return
        if isinstance(data, Mapping) and "schema" in data:
            import json

            from interpreter.analysis.result import AnalysisResult

            data = AnalysisResult.from_json(json.dumps(data))
        self._obj = data if data is not None and hasattr(data, "sample") else None
        self._offset = 0.0  # seconds of the analysed file before this track's time 0
        doc: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        audio = getattr(data, "audio", None)
        self.duration = float(doc.get("duration", 0.0) or getattr(audio, "duration", 0.0) or 0.0)
        self.beats = _times(
            doc.get("beats", getattr(data, "beat_times", getattr(audio, "beats", None)))
        )
        self.downbeats = (
            _times(doc.get("downbeats", getattr(audio, "downbeats", None))) or self.beats[::4]
        )
        self.onsets = _times(doc.get("onsets", getattr(audio, "onsets", None))) or self.beats
        self._series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in FEATURE_VARS:
            s = doc.get(name)
            if isinstance(s, Mapping) and "values" in s:
                vals = np.asarray(s["values"], dtype=np.float64)
                if "times" in s:
                    times = np.asarray(s["times"], dtype=np.float64)
                else:
                    times = np.arange(len(vals)) / float(s.get("rate", 1.0))
                self._series[name] = (times, vals)

    def window(self, start: float, duration: float | None = None) -> AnalysisTrack:
        """The track as a SEGMENT of the analysed media sees it.

        Times become relative to ``start``; events outside
        ``[start, start + duration)`` are dropped.
        """
        out = copy.copy(self)
        end = math.inf if duration is None else start + duration

        def cut(events: list[float]) -> list[float]:
            return [t - start for t in events if start - 1e-9 <= t < end]

        out.beats, out.downbeats, out.onsets = (
            cut(self.beats),
            cut(self.downbeats),
            cut(self.onsets),
        )
        if self.duration:
            out.duration = max(0.0, min(self.duration, end) - start)
        else:
            out.duration = 0.0 if duration is None else duration
        out._offset = self._offset + start
        return out

    def events(self, kind: str) -> list[float]:
        """``beats``, ``downbeats`` or ``onsets``."""
        return {"beats": self.beats, "downbeats": self.downbeats, "onsets": self.onsets}[kind]

    def sample(self, t: float) -> dict[str, float]:
        """``beat`` (index of the last beat, -1 before the first), ``beat_phase``, ``since_beat`` and features at ``t``."""
        if self._obj is not None and not self._offset:
            return {k: float(v) for k, v in dict(self._obj.sample(t)).items()}
        out: dict[str, float] = {name: 0.0 for name in FEATURE_VARS}
        i = bisect.bisect_right(self.beats, t + 1e-9) - 1
        if i >= 0:
            last = self.beats[i]
            nxt = self.beats[i + 1] if i + 1 < len(self.beats) else None
            period = (nxt - last) if nxt is not None else (last - self.beats[i - 1] if i else 0.0)
            out["beat"] = float(i)
            out["since_beat"] = t - last
            out["beat_phase"] = min(1.0, (t - last) / period) if period > 0 else 0.0
        else:
            out["beat"] = -1.0
            out["since_beat"] = t
            out["beat_phase"] = 0.0
        if self._obj is not None:  # a window: features of the file at the shifted time
            got = dict(self._obj.sample(t + self._offset))
            out.update({k: float(got[k]) for k in FEATURE_VARS if k in got})
        for name, (times, vals) in self._series.items():
            out[name] = float(np.interp(t + self._offset, times, vals)) if len(vals) else 0.0
        return out


def _times(value: Any) -> list[float]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = value.get("times", [])
    return sorted(float(b) for b in np.asarray(value, dtype=np.float64).reshape(-1))


def segment_window(recipe: Any, step_id: str) -> tuple[str, float, float | None] | None:
    """Which recipe input an ANALYZE step analyses, through which cut.

    Follows the step's input through SEGMENT steps down to a SOURCE bound to a
    recipe input. Returns ``(input name, start, duration)`` (seconds into the
    file; duration None: to its end), or None when the input is something else
    (a generator, an effect...).
    """
    from interpreter.nodes import NodeType
    from interpreter.schema import resolve_fields

    step = recipe.step(step_id)
    if not step.inputs:
        return None
    src = recipe.step(step.inputs[0])
    start, end = 0.0, math.inf
    while src.type == NodeType.SEGMENT:
        cfg = resolve_fields(src.type, src.config)
        s = float(cfg.get("start", 0.0))
        dur = cfg.get("duration")
        if dur is None and cfg.get("end") is not None:
            dur = float(cfg["end"]) - s
        # this cut is inside the one applied before it (nearer the output)
        inner_end = math.inf if dur is None else s + float(dur)
        end = min(inner_end, s + end)
        start = s + start
        src = recipe.step(src.inputs[0])
    if src.type != NodeType.SOURCE or not src.config.get("input"):
        return None
    return str(src.config["input"]), start, None if math.isinf(end) else max(0.0, end - start)


def windowed(
    result_json: Mapping[str, Any], start: float, duration: float | None
) -> dict[str, Any]:
    """A run analysis document: a file's analysis seen through a SEGMENT (see AnalysisTrack)."""
    return {"window": {"start": start, "duration": duration}, "analysis": dict(result_json)}
