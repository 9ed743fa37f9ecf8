"""Encoding and output options for the HLS writers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hls.errors import HLSError

__all__ = ["X264_PRESETS", "HLSOptions"]

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


@dataclass(frozen=True, slots=True)
class HLSOptions:
    """How segments are encoded and published.

    Attributes:
        segment_duration: Target segment length in seconds; segments are cut at
            the first frame at or after each multiple of it.
        first_segment_duration: When shorter than ``segment_duration``, the
            first segment is cut there (the next one ends at
            ``segment_duration``, later cuts are unchanged), so a live stream
            lists its first segment sooner. ``None`` (or not shorter): no extra cut.
        container: ``"mpegts"`` (default) or ``"fmp4"`` (CMAF, with an init segment).
        preset: libx264 preset.
        crf: Constant rate factor when ``video_bitrate`` is unset.
        video_bitrate: Target bits/s for video (overrides ``crf``).
        video_maxrate: Capped CRF: ``crf`` with an x264 VBV cap of this many bits/s
            (buffer: 2 s at the cap), so simple pictures cost less than the cap and
            busy ones never more. Ignored when ``video_bitrate`` is set.
        audio_bitrate: AAC bits/s (average: the encoder adapts its quantiser
            frame by frame, a state with no bound).
        audio_quality: Constant-quality AAC instead (FFmpeg's ``-q:a``: the
            encoder's lambda is ``118 * audio_quality``; ``audio_bitrate`` is
            then unused). Its state is bounded, so a chunk encoded from a few
            frames of pre-roll gives the same packets as one pass: chunked
            renders (:mod:`hls.chunk_encoder`) require it.
        tune: Optional x264 tune (e.g. ``"zerolatency"`` trades size for latency).
        bframes: Maximum consecutive B-frames (``None``: the preset's choice).
        rc_lookahead: x264 rate-control lookahead frames (``None``: the preset's).
        threads: libx264 frame threads. The default 2 measured best in the live
            pipeline on 2 cores (decode and effects have threads of their own):
            1 leaves the encoder a single thread's share of a busy machine
            (the slowest stage); x264's auto (``0``: 1.5 x cores) was slower
            and adds encoder delay (first packet after ~17 frames; 1: ~11, 2: ~16).
        part_duration: Low-latency HLS: seconds of a partial segment (rounded to
            whole frames; fMP4 only). ``0`` (default): no parts, standard HLS.
    """

    segment_duration: float = 2.0
    first_segment_duration: float | None = 1.0
    container: Literal["mpegts", "fmp4"] = "mpegts"
    preset: str = "veryfast"
    crf: int = 23
    video_bitrate: int | None = None
    video_maxrate: int | None = None
    audio_bitrate: int = 128_000
    audio_quality: float | None = None
    tune: str | None = None
    bframes: int | None = None
    rc_lookahead: int | None = None
    threads: int = 2
    part_duration: float = 0.0
    queue_size: int = 8
    upload_timeout: float = 30.0
    upload_retry_base: float = 0.5
    upload_retry_max: float = 10.0
    finish_timeout: float = 60.0
    playlist_name: str = "playlist.m3u8"

    def __post_init__(self) -> None:
        if not 0.1 <= self.segment_duration <= 60:
            raise HLSError(
                f"HLSOptions.segment_duration: {self.segment_duration!r} is outside 0.1..60 s"
            )
        first = self.first_segment_duration
        if first is not None and not 0.1 <= first <= 60:
            raise HLSError(f"HLSOptions.first_segment_duration: {first!r} is outside 0.1..60 s")
        if self.threads < 0:
            raise HLSError(f"HLSOptions.threads: {self.threads!r} must be 0 (auto) or more")
        if self.container not in ("mpegts", "fmp4"):
            raise HLSError(f"HLSOptions.container: {self.container!r} is not 'mpegts' or 'fmp4'")
        if self.preset not in X264_PRESETS:
            raise HLSError(
                f"HLSOptions.preset: {self.preset!r} is not one of {', '.join(X264_PRESETS)}"
            )
        if not 0 <= self.crf <= 51:
            raise HLSError(f"HLSOptions.crf: {self.crf!r} is outside 0..51")
        if self.audio_quality is not None and not 0.1 <= self.audio_quality <= 10:
            raise HLSError(f"HLSOptions.audio_quality: {self.audio_quality!r} is outside 0.1..10")
        if self.part_duration and not 0.1 <= self.part_duration <= 2.0:
            raise HLSError(
                f"HLSOptions.part_duration: {self.part_duration!r} is outside 0.1..2 s (or 0: off)"
            )
        if self.part_duration and self.container != "fmp4":
            raise HLSError("HLSOptions.part_duration: partial segments need container='fmp4'")
        if self.queue_size < 1:
            raise HLSError(f"HLSOptions.queue_size: {self.queue_size!r} must be at least 1")
        if self.upload_timeout <= 0 or self.finish_timeout < 0:
            raise HLSError("HLSOptions: upload_timeout must be > 0 and finish_timeout >= 0")
        if "/" in self.playlist_name or not self.playlist_name.endswith(".m3u8"):
            raise HLSError(
                f"HLSOptions.playlist_name: {self.playlist_name!r} must be a bare *.m3u8 name"
            )
