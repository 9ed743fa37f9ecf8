"""The analysis tab's model: one chart's data (:class:`AnalysisView`), its caption,
summary table and the JSON ``web/static/analysis.js`` draws.

:mod:`web.analysis_view` builds these from a run's analysis document.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BANDS", "MAX_POINTS", "WAVEFORM_POINTS", "AnalysisView", "Curve", "downsample"]

BANDS = ("energy", "bass", "mid", "high")
#: Most points a curve is sent with (peaks kept: the max of each bucket).
MAX_POINTS = 2000
#: Waveform buckets asked for over the analysed span (more when it is a window of a file).
WAVEFORM_POINTS = 1600
_WAVEFORM_RANGE = (200, 10000)


@dataclass(frozen=True)
class Curve:
    """Values on a regular time grid: ``values[i]`` is at ``start + i * step`` seconds."""

    start: float
    step: float
    values: tuple[float, ...]

    @property
    def end(self) -> float:
        """Time just after the last value."""
        return self.start + self.step * len(self.values)

    def window(self, start: float, end: float) -> Curve:
        """The part in ``[start, end)``, re-timed so ``start`` is 0."""
        if self.step <= 0:
            return Curve(0.0, self.step, ())
        first = max(0, math.ceil((start - self.start) / self.step - 1e-9))
        last = max(first, math.ceil((end - self.start) / self.step - 1e-9))
        offset = self.start + first * self.step - start
        return Curve(offset, self.step, self.values[first:last])

    def to_json(self) -> dict[str, Any]:
        """``{"start", "step", "values"}`` with at most :data:`MAX_POINTS` values."""
        curve = downsample(self)
        return {
            "start": round(curve.start, 6),
            "step": round(curve.step, 9),
            "values": [round(v, 3) for v in curve.values],
        }


def downsample(curve: Curve, points: int = MAX_POINTS) -> Curve:
    """``curve`` with at most ``points`` values, each the max of its bucket (peaks survive)."""
    n = len(curve.values)
    if n <= points:
        return curve
    factor = math.ceil(n / points)
    values = tuple(max(curve.values[i : i + factor]) for i in range(0, n, factor))
    return Curve(curve.start, curve.step * factor, values)


@dataclass(frozen=True)
class AnalysisView:
    """One chart: the analysis one or more ANALYZE steps see.

    Attributes:
        step_ids: The ANALYZE steps it belongs to (several when one document serves all).
        label: Their names.
        duration: Seconds the chart spans (0 when nothing says).
        features: Requested feature names, when the document lists them.
        tempo: Audio tempo in BPM.
        tempo_confidence: 0..1, when the analysis says.
        tempo_alternatives: Other plausible tempi in BPM, best first.
        beats: Beat times (s).
        downbeats: Downbeat times (s); every fourth beat when only beats are known,
            as the renderer uses them.
        downbeats_inferred: ``downbeats`` were inferred from the beats.
        onsets: Onset times (s).
        curves: Envelopes by name (:data:`BANDS`), 0..1.
        motion: Video motion per frame, 0..1.
        cuts: Cut times (s).
        motion_tempo: Tempo of the motion in BPM.
        input_cid: The analysed file, when it is one of the run's inputs.
        window_start: Seconds into that file where the chart's time 0 is.
        source_duration: The whole file's duration (s), when known.
    """

    step_ids: tuple[str, ...]
    label: str
    duration: float = 0.0
    features: tuple[str, ...] = ()
    tempo: float | None = None
    tempo_confidence: float | None = None
    tempo_alternatives: tuple[float, ...] = ()
    beats: tuple[float, ...] = ()
    downbeats: tuple[float, ...] = ()
    downbeats_inferred: bool = False
    onsets: tuple[float, ...] = ()
    curves: Mapping[str, Curve] = field(default_factory=dict)
    motion: Curve | None = None
    cuts: tuple[float, ...] = ()
    motion_tempo: float | None = None
    input_cid: str | None = None
    window_start: float = 0.0
    source_duration: float | None = None

    @property
    def key(self) -> str:
        """A stable id for the page (the first step id)."""
        return self.step_ids[0] if self.step_ids else "analysis"

    @property
    def has_audio(self) -> bool:
        """Whether there is anything of the audio to draw."""
        return bool(self.beats or self.onsets or self.curves or self.tempo)

    @property
    def has_video(self) -> bool:
        """Whether there is anything of the video to draw."""
        return self.motion is not None or bool(self.cuts) or self.motion_tempo is not None

    def waveform_url(self) -> str | None:
        """``/cache/{cid}/waveform?points=N`` of the analysed file (None: draw the energy)."""
        if not self.input_cid or not self.has_audio:
            return None
        points = WAVEFORM_POINTS
        if self.source_duration and self.duration and self.source_duration > self.duration:
            points = round(points * self.source_duration / self.duration)
        low, high = _WAVEFORM_RANGE
        return f"/cache/{self.input_cid}/waveform?points={min(max(points, low), high)}"

    def caption(self) -> str:
        """One sentence for screen readers and the figure caption."""
        parts = []
        if self.tempo:
            parts.append(f"tempo {self.tempo:.1f} BPM")
        if self.beats:
            parts.append(
                f"{_count(len(self.beats), 'beat')} ({_count(len(self.downbeats), 'downbeat')})"
            )
        if self.onsets:
            parts.append(_count(len(self.onsets), "onset"))
        if self.curves:
            parts.append("envelopes: " + ", ".join(self.curves))
        if self.motion is not None:
            parts.append("video motion")
        if self.has_video:
            parts.append(_count(len(self.cuts), "cut"))
        who = f"Step {', '.join(self.step_ids)}" if self.step_ids else "The run's analysis"
        span = f" over {self.duration:.1f} s" if self.duration else ""
        return f"{who}{span}: " + ("; ".join(parts) or "no features") + "."

    def summary(self) -> list[tuple[str, str]]:
        """Rows of the summary table: (name, value)."""
        rows: list[tuple[str, str]] = []
        if self.duration:
            rows.append(("Duration", f"{self.duration:.2f} s"))
        if self.tempo is not None:
            rows.append(("Tempo", f"{self.tempo:.1f} BPM"))
        if self.tempo_confidence is not None:
            rows.append(("Tempo confidence", f"{self.tempo_confidence * 100:.0f} %"))
        alternatives = [a for a in self.tempo_alternatives if not _same_tempo(a, self.tempo)]
        if alternatives:
            rows.append(("Other tempi", ", ".join(f"{a:.1f}" for a in alternatives) + " BPM"))
        if self.beats or "beats" in self.features:
            rows.append(("Beats", str(len(self.beats))))
            inferred = " (every 4th beat)" if self.downbeats_inferred else ""
            rows.append(("Downbeats", f"{len(self.downbeats)}{inferred}"))
        if self.onsets:
            rows.append(("Onsets", str(len(self.onsets))))
        for name, curve in self.curves.items():
            if curve.values:
                mean = sum(curve.values) / len(curve.values)
                rows.append((name.capitalize(), f"mean {mean:.2f}, peak {max(curve.values):.2f}"))
        if self.motion is not None and self.motion.values:
            values = self.motion.values
            rows.append(("Motion", f"mean {sum(values) / len(values):.2f}, peak {max(values):.2f}"))
        if self.has_video:
            rows.append(("Cuts", str(len(self.cuts))))
        if self.motion_tempo is not None:
            rows.append(("Motion tempo", f"{self.motion_tempo:.1f} BPM"))
        return rows

    def chart(self) -> dict[str, Any]:
        """The JSON ``web/static/analysis.js`` draws."""
        return {
            "key": self.key,
            "label": self.label,
            "duration": round(self.duration, 6),
            "tempo": self.tempo,
            "beats": list(self.beats),
            "downbeats": list(self.downbeats),
            "onsets": list(self.onsets),
            "curves": {name: c.to_json() for name, c in self.curves.items() if c.values},
            "waveform": (
                {"url": url, "offset": self.window_start} if (url := self.waveform_url()) else None
            ),
            "video": (
                {
                    "motion": None if self.motion is None else self.motion.to_json(),
                    "cuts": list(self.cuts),
                    "motion_tempo": self.motion_tempo,
                }
                if self.has_video
                else None
            ),
        }


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _same_tempo(a: float, b: float | None) -> bool:
    return b is not None and abs(a - b) < 0.05
