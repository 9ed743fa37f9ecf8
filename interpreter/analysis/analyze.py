"""``analyze_file``: phase 1 for one input, blocking and pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..ids import analysis_id
from .audio import ENVELOPE_RATE, analyse_audio
from .decode import ANALYSIS_RATE, MediaInfo, decode_audio, iter_grey_frames, probe
from .errors import AnalysisError, UnknownFeatureError
from .features import AUDIO_FEATURES, FEATURES, VIDEO_FEATURES
from .result import AnalysisResult, AudioAnalysis, VideoAnalysis
from .video import analyse_motion

__all__ = [
    "AUDIO_FEATURES",
    "FEATURES",
    "VIDEO_FEATURES",
    "analyze_file",
    "file_sha256_id",
    "resolve_features",
]

_GROUPS = {"audio": AUDIO_FEATURES, "video": VIDEO_FEATURES, "all": FEATURES}


def resolve_features(
    features: Iterable[str] | str | None, info: MediaInfo | None = None, source: str = "<features>"
) -> tuple[str, ...]:
    """Normalise requested feature names to a sorted tuple.

    Args:
        features: Names, a comma-separated string, group names (``audio``,
            ``video``, ``all``), or ``None`` for everything the input's streams allow
            (needs ``info``).
        info: Probe of the input, used for ``None``.
        source: Where the names came from, for error messages.

    Raises:
        UnknownFeatureError: A name is not in :data:`FEATURES` or a group.
    """
    if features is None:
        if info is None:
            return FEATURES
        chosen: list[str] = []
        if info.has_audio:
            chosen += AUDIO_FEATURES
        if info.video is not None:
            chosen += VIDEO_FEATURES
        return tuple(sorted(chosen))
    names = features.split(",") if isinstance(features, str) else list(features)
    out: set[str] = set()
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name in _GROUPS:
            out.update(_GROUPS[name])
        elif name in FEATURES:
            out.add(name)
        else:
            raise UnknownFeatureError(
                f"unknown analysis feature {raw.strip()!r}",
                file=source,
                hint="known: " + ", ".join((*FEATURES, *_GROUPS)),
            )
    if not out:
        raise UnknownFeatureError(
            "no analysis features requested",
            file=source,
            hint="known: " + ", ".join((*FEATURES, *_GROUPS)),
        )
    return tuple(sorted(out))


def file_sha256_id(path: Path) -> str:
    """Fallback input id (``sha256:<hex>``) for callers without a CID."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def analyze_file(
    path: str | Path, features: Iterable[str] | str | None = None, *, input_cid: str | None = None
) -> AnalysisResult:
    """Analyse one media file (blocking: decode + DSP; run it in a thread or process).

    Args:
        path: Any file PyAV can open (audio, or video with or without audio).
        features: See :func:`resolve_features`; ``None`` = all the streams allow.
        input_cid: Content id of the file; defaults to :func:`file_sha256_id`.

    Returns:
        The result, ``analysis_id`` = SHA3-256(input_cid + sorted features).

    Raises:
        AnalysisError: Unreadable file, missing stream for a requested feature,
            or an unknown feature name.
    """
    p = Path(path)
    if not p.is_file():
        raise AnalysisError("input file not found", file=str(p))
    info = probe(p)
    names = resolve_features(features, info)
    wanted = frozenset(names)
    cid = input_cid or file_sha256_id(p)
    result = AnalysisResult(analysis_id=analysis_id(cid, names), input_cid=cid, features=names)

    audio_wanted = wanted & set(AUDIO_FEATURES)
    if audio_wanted:
        if not info.has_audio:
            raise AnalysisError(
                "input has no audio stream",
                file=str(p),
                hint=f"drop the audio features {sorted(audio_wanted)} for this input",
            )
        y = decode_audio(p, ANALYSIS_RATE)
        feats = analyse_audio(y, ANALYSIS_RATE, frozenset(audio_wanted))
        empty = np.zeros(0)
        result.audio = AudioAnalysis(
            duration=feats.duration,
            sample_rate=info.audio_rate,
            channels=info.audio_channels,
            tempo=feats.tempo if "tempo" in wanted else None,
            tempo_confidence=feats.tempo_confidence,
            tempo_alternatives=feats.tempo_alternatives,
            beats=feats.beats if "beats" in wanted and feats.beats is not None else empty,
            downbeats=feats.downbeats if feats.downbeats is not None else empty,
            onsets=feats.onsets if feats.onsets is not None else empty,
            envelope_rate=ENVELOPE_RATE,
            energy=feats.energy if feats.energy is not None else empty,
            bass=feats.bass if feats.bass is not None else empty,
            mid=feats.mid if feats.mid is not None else empty,
            high=feats.high if feats.high is not None else empty,
        )

    video_wanted = wanted & set(VIDEO_FEATURES)
    if video_wanted:
        if info.video is None:
            raise AnalysisError(
                "input has no video stream",
                file=str(p),
                hint=f"drop the video features {sorted(video_wanted)} for this input",
            )
        v = info.video
        section = VideoAnalysis(
            duration=v.duration,
            fps=v.fps,
            width=v.width,
            height=v.height,
            codec=v.codec,
            frame_count=v.frame_count,
        )
        if video_wanted - {"metadata"}:
            motion = analyse_motion(iter_grey_frames(p), v.fps)
            section.frame_count = len(motion.motion)
            if "motion" in wanted:
                section.motion = motion.motion
            if "cuts" in wanted:
                section.cuts = motion.cuts
            if "motion_tempo" in wanted:
                section.motion_tempo = motion.tempo
        result.video = section
    return result
