"""The analysis result: a versioned JSON schema and per-frame sampling.

JSON (``schema`` = ``"artdag.analysis"``, ``version`` = :data:`SCHEMA_VERSION`)::

    {
      "schema": "artdag.analysis", "version": 2,
      "analysis_id": "<sha3 hex>", "input_cid": "<cid>", "features": ["beats", ...],
      "audio": {                      # null when no audio feature was asked for
        "duration": 12.0, "sample_rate": 44100, "channels": 2,
        "tempo": 120.0,               # BPM, null if not analysed / not found
        "tempo_confidence": 0.62,     # 0..1 pulse clarity, null if not analysed (v2)
        "tempo_alternatives": [60.0], # other plausible tempi (octave, 3:2), best first (v2)
        "beats": [0.25, ...],         # seconds
        "downbeats": [0.25, ...],     # seconds, a subset of beats
        "onsets": [0.25, ...],        # seconds, every note attack
        "envelope_rate": 100,         # Hz; envelope[i] is at t = i / envelope_rate
        "energy": [...], "bass": [...], "mid": [...], "high": [...]   # 0..1
      },
      "video": {                      # null when no video feature was asked for
        "duration": 4.0, "fps": 25.0, "width": 320, "height": 240,
        "codec": "h264", "frame_count": 100,
        "motion": [...],              # 0..1, one per frame
        "cuts": [25, 50],             # first frame of each new shot
        "cut_times": [1.0, 2.0],      # seconds
        "motion_tempo": 120.0         # BPM or null
      }
    }

Lists of features not requested are empty; scalars are null.

A tempo confidence below ``interpreter.analysis.tempo.LOW_CONFIDENCE`` means no
steady pulse: ``tempo`` is null and ``beats`` empty rather than a wrong grid,
and ``tempo_alternatives`` holds the best guesses.

Versions: 2 added ``tempo_confidence`` and ``tempo_alternatives``. Every
version in :data:`READABLE_VERSIONS` is read (a version 1 document reads with
a null confidence and no alternatives; :attr:`AnalysisResult.version` says
which it was); documents are always written at :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import AnalysisError

__all__ = [
    "READABLE_VERSIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "AnalysisResult",
    "AudioAnalysis",
    "VideoAnalysis",
]

SCHEMA = "artdag.analysis"
SCHEMA_VERSION = 2
#: Document versions :meth:`AnalysisResult.from_dict` reads.
READABLE_VERSIONS = (1, 2)
_EMPTY = np.zeros(0, dtype=np.float64)


def _arr(values: Any, dtype: Any = np.float64) -> np.ndarray:
    return np.asarray(values if values is not None else [], dtype=dtype)


def _list(a: np.ndarray, digits: int) -> list[float]:
    return [round(float(v), digits) for v in a]


@dataclass
class AudioAnalysis:
    """Audio section of a result (times in seconds, tempo in BPM)."""

    duration: float
    sample_rate: int
    channels: int
    tempo: float | None = None
    tempo_confidence: float | None = None
    tempo_alternatives: tuple[float, ...] = ()
    beats: np.ndarray = field(default_factory=lambda: _EMPTY)
    downbeats: np.ndarray = field(default_factory=lambda: _EMPTY)
    onsets: np.ndarray = field(default_factory=lambda: _EMPTY)
    envelope_rate: int = 100
    energy: np.ndarray = field(default_factory=lambda: _EMPTY)
    bass: np.ndarray = field(default_factory=lambda: _EMPTY)
    mid: np.ndarray = field(default_factory=lambda: _EMPTY)
    high: np.ndarray = field(default_factory=lambda: _EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 6),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "tempo": None if self.tempo is None else round(self.tempo, 4),
            "tempo_confidence": (
                None if self.tempo_confidence is None else round(self.tempo_confidence, 4)
            ),
            "tempo_alternatives": [round(float(a), 4) for a in self.tempo_alternatives],
            "beats": _list(self.beats, 5),
            "downbeats": _list(self.downbeats, 5),
            "onsets": _list(self.onsets, 5),
            "envelope_rate": self.envelope_rate,
            "energy": _list(self.energy, 4),
            "bass": _list(self.bass, 4),
            "mid": _list(self.mid, 4),
            "high": _list(self.high, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioAnalysis:
        return cls(
            duration=float(d["duration"]),
            sample_rate=int(d["sample_rate"]),
            channels=int(d["channels"]),
            tempo=None if d.get("tempo") is None else float(d["tempo"]),
            tempo_confidence=(
                None if d.get("tempo_confidence") is None else float(d["tempo_confidence"])
            ),
            tempo_alternatives=tuple(float(a) for a in d.get("tempo_alternatives") or ()),
            beats=_arr(d.get("beats")),
            downbeats=_arr(d.get("downbeats")),
            onsets=_arr(d.get("onsets")),
            envelope_rate=int(d.get("envelope_rate", 100)),
            energy=_arr(d.get("energy"), np.float32),
            bass=_arr(d.get("bass"), np.float32),
            mid=_arr(d.get("mid"), np.float32),
            high=_arr(d.get("high"), np.float32),
        )


@dataclass
class VideoAnalysis:
    """Video section of a result."""

    duration: float
    fps: float
    width: int
    height: int
    codec: str
    frame_count: int
    motion: np.ndarray = field(default_factory=lambda: _EMPTY)
    cuts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    motion_tempo: float | None = None

    @property
    def cut_times(self) -> np.ndarray:
        """Cut positions in seconds."""
        return self.cuts / self.fps if self.fps > 0 else self.cuts.astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 6),
            "fps": round(self.fps, 6),
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "frame_count": self.frame_count,
            "motion": _list(self.motion, 4),
            "cuts": [int(c) for c in self.cuts],
            "cut_times": _list(self.cut_times, 5),
            "motion_tempo": None if self.motion_tempo is None else round(self.motion_tempo, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VideoAnalysis:
        return cls(
            duration=float(d["duration"]),
            fps=float(d["fps"]),
            width=int(d["width"]),
            height=int(d["height"]),
            codec=str(d["codec"]),
            frame_count=int(d["frame_count"]),
            motion=_arr(d.get("motion"), np.float32),
            cuts=_arr(d.get("cuts"), np.int64),
            motion_tempo=None if d.get("motion_tempo") is None else float(d["motion_tempo"]),
        )


@dataclass
class AnalysisResult:
    """Everything phase 1 learnt about one input.

    Attributes:
        analysis_id: ``interpreter.ids.analysis_id(input_cid, features)``.
        input_cid: Content id of the analysed input.
        features: Sorted feature names that were requested.
        audio: Audio section, ``None`` without audio features.
        video: Video section, ``None`` without video features.
        version: Schema version of the document this was read from
            (:data:`SCHEMA_VERSION` when computed).
    """

    analysis_id: str
    input_cid: str
    features: tuple[str, ...]
    audio: AudioAnalysis | None = None
    video: VideoAnalysis | None = None
    version: int = SCHEMA_VERSION

    # -- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict of the schema in the module docstring."""
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "analysis_id": self.analysis_id,
            "input_cid": self.input_cid,
            "features": list(self.features),
            "audio": None if self.audio is None else self.audio.to_dict(),
            "video": None if self.video is None else self.video.to_dict(),
        }

    def to_json(self) -> str:
        """Compact JSON text (the cache and IPFS form)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<analysis>") -> AnalysisResult:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            AnalysisError: Not an analysis document, or a version this code cannot read.
        """
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise AnalysisError("not an artdag analysis document (schema field)", file=source)
        if d.get("version") not in READABLE_VERSIONS:
            raise AnalysisError(
                f"analysis schema version {d.get('version')!r} is not supported "
                f"(this build reads versions {', '.join(map(str, READABLE_VERSIONS))})",
                file=source,
                hint="re-run the analysis to regenerate it",
            )
        try:
            return cls(
                analysis_id=str(d["analysis_id"]),
                input_cid=str(d["input_cid"]),
                features=tuple(d["features"]),
                audio=None if d.get("audio") is None else AudioAnalysis.from_dict(d["audio"]),
                video=None if d.get("video") is None else VideoAnalysis.from_dict(d["video"]),
                version=int(d["version"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AnalysisError(f"malformed analysis document: {exc!r}", file=source) from exc

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "<analysis>") -> AnalysisResult:
        """Parse :meth:`to_json` output (see :meth:`from_dict` for errors)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnalysisError(
                f"invalid JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno
            ) from exc
        return cls.from_dict(data, source)

    # -- what the interpreter reads ------------------------------------------------------

    @property
    def tempo(self) -> float | None:
        """Audio tempo in BPM (``None`` without beats)."""
        return None if self.audio is None else self.audio.tempo

    @property
    def tempo_confidence(self) -> float | None:
        """Pulse clarity 0..1 (``None`` when tempo and beats were not analysed)."""
        return None if self.audio is None else self.audio.tempo_confidence

    @property
    def tempo_alternatives(self) -> tuple[float, ...]:
        """Other plausible tempi in BPM, best first."""
        return () if self.audio is None else self.audio.tempo_alternatives

    @property
    def beat_times(self) -> np.ndarray:
        """Beat times in seconds (empty without audio beats); BEAT_SYNC cuts on these."""
        return _EMPTY if self.audio is None else self.audio.beats

    @property
    def downbeat_times(self) -> np.ndarray:
        """Downbeat (bar start) times in seconds."""
        return _EMPTY if self.audio is None else self.audio.downbeats

    @property
    def onset_times(self) -> np.ndarray:
        """Onset (attack) times in seconds."""
        return _EMPTY if self.audio is None else self.audio.onsets

    def _period(self) -> float:
        beats = self.beat_times
        if self.tempo:
            return 60.0 / self.tempo
        if len(beats) >= 2:
            return float(np.median(np.diff(beats)))
        return 0.5

    def sample_many(self, times: np.ndarray) -> dict[str, np.ndarray]:
        """Sample every per-frame quantity at ``times`` (seconds), vectorised.

        Returns:
            ``beat`` (int64, index of the last beat at or before t, -1 before the
            first), ``beat_phase`` (0..1 position between that beat and the next,
            extrapolated with the tempo after the last beat and before the first),
            ``since_beat`` (seconds since that beat; before the first beat, since
            t = 0), and ``energy``, ``bass``, ``mid``, ``high`` (0..1, linearly
            interpolated on the envelope grid, 0 outside the audio).
        """
        t = np.asarray(times, dtype=np.float64)
        beats = self.beat_times
        period = self._period()
        out: dict[str, np.ndarray] = {}
        if len(beats):
            idx = np.searchsorted(beats, t, side="right") - 1
            safe = np.clip(idx, 0, len(beats) - 1)
            nxt = np.clip(idx + 1, 0, len(beats) - 1)
            span = np.where((idx >= 0) & (idx + 1 < len(beats)), beats[nxt] - beats[safe], period)
            since = np.where(idx >= 0, t - beats[safe], t)
            phase = np.where(
                idx >= 0,
                ((t - beats[safe]) / span) % 1.0,
                1.0 - np.clip((beats[0] - t) / period, 0.0, 1.0),
            )
            out["beat"] = idx.astype(np.int64)
            out["beat_phase"] = np.clip(phase, 0.0, 1.0 - 1e-9)
            out["since_beat"] = since
        else:
            out["beat"] = np.full(t.shape, -1, dtype=np.int64)
            out["beat_phase"] = np.zeros(t.shape)
            out["since_beat"] = t.copy()
        audio = self.audio
        for name in ("energy", "bass", "mid", "high"):
            env = getattr(audio, name) if audio is not None else _EMPTY
            if audio is not None and len(env):
                grid = np.arange(len(env)) / audio.envelope_rate
                out[name] = np.interp(t, grid, env, left=0.0, right=0.0)
            else:
                out[name] = np.zeros(t.shape)
        return out

    def sample(self, t: float) -> dict[str, float]:
        """:meth:`sample_many` at one time; ``beat`` is an int, the rest floats."""
        many = self.sample_many(np.asarray([t]))
        res: dict[str, float] = {k: float(v[0]) for k, v in many.items()}
        res["beat"] = int(many["beat"][0])
        return res
