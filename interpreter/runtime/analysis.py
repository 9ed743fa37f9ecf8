"""Per-frame analysis variables (beat, energy, bands) for parameter expressions.

Accepts the analysis given with a run as JSON (until the analysis phase feeds
it directly) or any object with ``sample(t) -> Mapping[str, float]``. JSON
shape: ``{"beats": [seconds...], "energy": SERIES, "bass": SERIES, ...}``
where a SERIES is ``{"times": [...], "values": [...]}`` or
``{"rate": HZ, "values": [...]}``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["FEATURE_VARS", "AnalysisTrack"]

FEATURE_VARS = ("energy", "bass", "mid", "high")


class AnalysisTrack:
    """Samples beat and feature variables at a time ``t``."""

    def __init__(self, data: Any = None) -> None:
        self._obj = data if data is not None and hasattr(data, "sample") else None
        doc: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        beats = doc.get("beats") or getattr(data, "beats", None) or []
        if isinstance(beats, Mapping):
            beats = beats.get("times", [])
        self.beats = sorted(float(b) for b in beats)
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

    def sample(self, t: float) -> dict[str, float]:
        """``beat`` (index of the last beat, -1 before the first), ``beat_phase``, ``since_beat`` and features at ``t``."""
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
        for name, (times, vals) in self._series.items():
            out[name] = float(np.interp(t, times, vals)) if len(vals) else 0.0
        if self._obj is not None:
            out.update({k: float(v) for k, v in dict(self._obj.sample(t)).items()})
        return out
