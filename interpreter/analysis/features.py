"""Analysis feature names (no dependencies: the CLI lists them in its help)."""

from __future__ import annotations

__all__ = ["AUDIO_FEATURES", "FEATURES", "VIDEO_FEATURES"]

#: Audio feature names (``bands`` = bass, mid and high envelopes).
AUDIO_FEATURES = ("bands", "beats", "downbeats", "energy", "onsets", "tempo")
#: Video feature names (``metadata`` = duration, fps, size, codec).
VIDEO_FEATURES = ("cuts", "metadata", "motion", "motion_tempo")
FEATURES = tuple(sorted(AUDIO_FEATURES + VIDEO_FEATURES))
