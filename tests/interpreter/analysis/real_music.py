"""Real recordings for the beat-tracking tests and bench: which, what is known, the reference.

The recordings come from Debian packages (``tests.fetched_media``), about
30 MB of downloads, cached:

* Drum loops from LMMS (``lmms-common``, samples/beats): one or two bars each,
  cut to an exact bar length, so ``beats * 60 / duration`` is the tempo. The
  beat counts were read off each loop's hits (hi-hats on every 8th note,
  kick/snare on the beats; break02 has 16th-note syncopation). A loop is
  repeated to at least 16 beats and 12 s, as a track that samples it would.
* Game music, the first 30 s: Gunroar, Tumiki Fighters and Torus Trooper
  (Kenta Cho) loop a whole number of bars at an integer tempo (51.2 s = 128
  beats at 150 BPM), which gives their tempo too; Trip on the Funny Boat (JDruid)
  and UPiPang (Pang Zero, an MP3) have no known tempo.
* Weak pulse: a choir pad and a church organ phrase from LMMS.

The independent reference is essentia's ``RhythmExtractor2013`` (multifeature)
on the same samples at 44.1 kHz.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np
import pytest

from interpreter.analysis.decode import ANALYSIS_RATE, decode_audio
from tests.fetched_media import MediaUnavailable, fetch_debian

__all__ = [
    "ESSENTIA_RATE",
    "RECORDINGS",
    "Clip",
    "RealMusic",
    "Recording",
    "essentia_rhythm",
    "f_measure",
    "fetch",
    "load_clip",
    "octave_relation",
    "reference_at",
]

ESSENTIA_RATE = 44100
_LMMS = "usr/share/lmms/samples/"
Kind = Literal["loop", "song", "weak"]


@dataclass(frozen=True)
class Recording:
    """One recording of the set.

    Attributes:
        key: Short name (test ids, the bench table).
        kind: ``loop`` (repeated), ``song`` (an excerpt) or ``weak`` (no steady pulse).
        package: Debian binary package holding it.
        path: Its path inside the package.
        beats: Beats in the whole file when that is known (a loop): the true tempo
            is ``beats * 60 / duration``.
        seconds: Length of a song's excerpt (from the start).
        essentia_octave: Our tempo over essentia's (2.0: we count twice as many
            beats); essentia's reading must then be among our alternatives.
        essentia_phase: Whether essentia's beats are a fair phase reference (see
            :data:`RECORDINGS` for the one where they are not).
    """

    key: str
    kind: Kind
    package: str
    path: str
    beats: int | None = None
    seconds: float = 30.0
    essentia_octave: float = 1.0
    essentia_phase: bool = True


def _loop(name: str, beats: int) -> Recording:
    return Recording(name, "loop", "lmms-common", f"{_LMMS}beats/{name}.ogg", beats)


RECORDINGS: tuple[Recording, ...] = (
    _loop("909beat01", 8),
    _loop("break01", 4),
    _loop("break02", 4),
    _loop("break03", 4),
    _loop("electro_beat01", 8),
    _loop("house_loop01", 4),
    _loop("jungle01", 8),
    _loop("rave_kick01", 8),
    Recording(
        "gunroar-gr2", "song", "gunroar-data", "usr/share/games/gunroar/sounds/musics/gr2.ogg", 128
    ),
    # 54.857 s = 128 beats at 140 BPM, like gr3 of the same game; essentia counts 70
    Recording(
        "gunroar-gr1",
        "song",
        "gunroar-data",
        "usr/share/games/gunroar/sounds/musics/gr1.ogg",
        128,
        essentia_octave=2.0,
    ),
    Recording(
        "tumiki-battle",
        "song",
        "tumiki-fighters-data",
        "usr/share/games/tumiki-fighters/sounds/battle_over_the_junk_city.ogg",
        96,
    ),
    # its Vorbis comments are Shift-JIS, not UTF-8
    Recording(
        "torus-tt2",
        "song",
        "torus-trooper-data",
        "usr/share/games/torus-trooper/sounds/musics/tt2.ogg",
        160,
    ),
    Recording(
        "funnyboat",
        "song",
        "funnyboat",
        "usr/share/games/funnyboat/data/JDruid-Trip_on_the_Funny_Boat.ogg",
    ),
    # essentia's beats here sit 25-35 ms before the onsets common to all bands
    # on some beats and ~100 ms after them on others (bench/RESULTS.md); the
    # tempo agrees, the phase is no reference
    Recording(
        "pangzero-upipang",
        "song",
        "pangzero",
        "usr/share/perl5/auto/share/dist/Games-PangZero/UPiPang.mp3",
        essentia_phase=False,
    ),
    Recording("lmms-choir", "weak", "lmms-common", f"{_LMMS}stringsnpads/chorus02.ogg"),
    Recording("lmms-organ", "weak", "lmms-common", f"{_LMMS}instruments/church_organ01.ogg"),
)


@dataclass
class Clip:
    """The samples a test analyses, at :data:`ANALYSIS_RATE` and :data:`ESSENTIA_RATE`.

    Attributes:
        recording: What it is.
        samples: Mono float32 at ``ANALYSIS_RATE``.
        samples44: The same at ``ESSENTIA_RATE`` (essentia's rate).
        truth: True tempo in BPM when known.
        repeats: How often a loop was repeated (1 for the rest).
    """

    recording: Recording
    samples: np.ndarray
    samples44: np.ndarray
    truth: float | None
    repeats: int = 1

    @property
    def duration(self) -> float:
        """Seconds of audio in the clip."""
        return len(self.samples) / ANALYSIS_RATE


def fetch(recordings: tuple[Recording, ...] = RECORDINGS) -> dict[str, Path]:
    """Fetch (or find cached) every recording; ``key -> file``, one download per package.

    Raises:
        tests.fetched_media.MediaUnavailable: A package or file could not be had.
    """
    by_package: dict[str, list[Recording]] = {}
    for rec in recordings:
        by_package.setdefault(rec.package, []).append(rec)
    out: dict[str, Path] = {}
    for package, recs in by_package.items():
        root = fetch_debian(package, [r.path for r in recs])
        out.update({r.key: root / r.path for r in recs})
    return out


def load_clip(rec: Recording, path: Path) -> Clip:
    """Decode ``path`` as the test uses it: a loop repeated, a song cut to its excerpt."""
    y = decode_audio(path, ANALYSIS_RATE)
    y44 = decode_audio(path, ESSENTIA_RATE)
    full = len(y44) / ESSENTIA_RATE
    truth = rec.beats * 60.0 / full if rec.beats else None
    if rec.kind == "loop" and rec.beats:
        k = max(math.ceil(16 / rec.beats), math.ceil(12.0 / full))
        return Clip(rec, np.tile(y, k), np.tile(y44, k), truth, repeats=k)
    if rec.kind == "song":
        y = y[: round(rec.seconds * ANALYSIS_RATE)]
        y44 = y44[: round(rec.seconds * ESSENTIA_RATE)]
    return Clip(rec, y, y44, truth)


def essentia_rhythm(samples44: np.ndarray) -> tuple[float, np.ndarray, float]:
    """essentia ``RhythmExtractor2013(method="multifeature")``: (bpm, beat times, confidence).

    Raises:
        ImportError: essentia is not installed (it is in the ``dev`` extra).
    """
    import essentia.standard as es

    extractor = es.RhythmExtractor2013(method="multifeature")
    bpm, ticks, confidence, _, _ = extractor(np.ascontiguousarray(samples44, dtype=np.float32))
    return float(bpm), np.asarray(ticks, dtype=np.float64), float(confidence)


def f_measure(estimated: np.ndarray, reference: np.ndarray, window: float = 0.07) -> float:
    """Beat F-measure as mir_eval computes it (no trimming): one-to-one hits within ``window``."""
    est = np.sort(np.asarray(estimated, dtype=np.float64))
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    if not len(est) or not len(ref):
        return 0.0
    used = np.zeros(len(ref), dtype=bool)
    hits = 0
    for t in est:
        gap = np.where(used, np.inf, np.abs(ref - t))
        j = int(np.argmin(gap))
        if gap[j] <= window:
            used[j] = True
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(est), hits / len(ref)
    return 2 * precision * recall / (precision + recall)


#: Metrical relations between two readings of one pulse, simplest first.
_RELATIONS = (1.0, 2.0, 0.5, 1.5, 2 / 3, 3.0, 1 / 3, 4.0, 0.25)


def octave_relation(ours: float, reference: float, tolerance: float = 0.02) -> float | None:
    """The ratio ``ours / reference`` as one of 1, 2, 1/2, 3/2, ... within ``tolerance``."""
    for ratio in _RELATIONS:
        if abs(ours / (reference * ratio) - 1) <= tolerance:
            return ratio
    return None


def reference_at(reference: np.ndarray, ratio: float, ours: np.ndarray) -> np.ndarray:
    """Reference beats at our metrical level: midpoints added (x2) or every other kept (x1/2).

    For x1/2 the one of the two halves that matches ``ours`` best is returned.
    """
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    if ratio == 2.0 and len(ref) >= 2:
        return np.sort(np.concatenate([ref, (ref[:-1] + ref[1:]) / 2]))
    if ratio == 0.5:
        halves = (ref[0::2], ref[1::2])
        return max(halves, key=lambda h: f_measure(ours, h))
    return ref


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail under ``ARTDAG_REQUIRE_SERVICES=1`` (as ``tests.conftest.unavailable``)."""
    if os.environ.get("ARTDAG_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (ARTDAG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


class RealMusic:
    """Recordings fetched, decoded and referenced once per session, on first use.

    A recording that cannot be fetched, or essentia missing, makes the test that
    asks skip (or fail under ``ARTDAG_REQUIRE_SERVICES=1``) with the reason.
    """

    def __init__(self) -> None:
        self._by_key = {r.key: r for r in RECORDINGS}
        self._paths: dict[str, Path] = {}
        self._clips: dict[str, Clip] = {}
        self._failed: dict[str, str] = {}
        self._essentia: dict[str, tuple[float, np.ndarray, float]] = {}

    def path(self, key: str) -> Path:
        """The cached file of recording ``key`` (fetched on first use)."""
        if key in self._failed:
            _unavailable(self._failed[key])
        if key not in self._paths:
            rec = self._by_key[key]
            try:
                self._paths[key] = fetch((rec,))[key]
            except MediaUnavailable as exc:
                self._failed[key] = f"real recording {key} ({rec.package}): {exc}"
                _unavailable(self._failed[key])
        return self._paths[key]

    def clip(self, key: str) -> Clip:
        """The decoded clip of recording ``key``."""
        if key not in self._clips:
            self._clips[key] = load_clip(self._by_key[key], self.path(key))
        return self._clips[key]

    def essentia(self, key: str) -> tuple[float, np.ndarray, float]:
        """essentia's (bpm, beats, confidence) on the clip of ``key``."""
        if key not in self._essentia:
            clip = self.clip(key)
            try:
                self._essentia[key] = essentia_rhythm(clip.samples44)
            except ImportError as exc:
                _unavailable(f"essentia is not installed (pip extra dev): {exc}")
        return self._essentia[key]
