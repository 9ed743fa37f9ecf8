"""x264 kept off AVX-512 (hls.x264_cpu): identical frames give identical bytes."""

from __future__ import annotations

import ctypes

import av  # noqa: F401  (loads libavcodec, and with it libx264)

from effects.frame import VideoFormat
from hls.encoder import SegmentEncoder
from hls.options import HLSOptions
from hls.x264_cpu import _cpu_names, _loaded_x264, x264_cpu_flags
from tests.hls.hls_media import make_frames


def test_the_flags_never_include_avx512() -> None:
    path = _loaded_x264()
    assert path is not None, "PyAV's libx264 is mapped once av is imported"
    names = _cpu_names(ctypes.CDLL(path))
    assert names, "the table of CPU flag names was read"
    flags = x264_cpu_flags()
    if "AVX512" not in names:  # not an x86 build of x264: nothing to take away
        assert flags is None
        return
    avx512 = names["AVX512"] & ~names["AVX2"]
    assert flags is None or (flags & avx512 == 0 and flags & names["SSE2"] == names["SSE2"])


def test_identical_encodes_give_identical_bytes() -> None:
    """On an AVX-512 machine (Zen 4) this differed from run to run without the fix."""
    video = VideoFormat(160, 96, 25, 1)
    frames = make_frames(video, 60)
    outputs = set()
    for _ in range(6):  # a fixed thread count (x264's bytes depend on it, by design)
        enc = SegmentEncoder(video, None, HLSOptions(segment_duration=1.0))
        segments = [s for f in frames for s in enc.write(f)] + enc.flush()
        outputs.add(tuple(s.data for s in segments))
    assert len(outputs) == 1
