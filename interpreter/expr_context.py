"""What expressions read each frame: the frame variables and their values."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FRAME_VARS", "FrameContext"]

FRAME_VARS: tuple[str, ...] = (
    "t",
    "frame",
    "beat",
    "beat_phase",
    "since_beat",
    "energy",
    "bass",
    "mid",
    "high",
)


@dataclass(frozen=True, slots=True)
class FrameContext:
    """Per-frame values the expressions read (audio values from the analysis)."""

    t: float = 0.0
    frame: int = 0
    beat: int = 0
    beat_phase: float = 0.0
    since_beat: float = 0.0
    energy: float = 0.0
    bass: float = 0.0
    mid: float = 0.0
    high: float = 0.0
