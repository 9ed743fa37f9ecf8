"""hls.codec: the shared libx264 stream set-up and frame hand-over."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from effects.frame import VideoFormat, YUVFrame
from hls.codec import add_h264_stream, to_video_frame


def _frame(width: int, height: int, seed: int) -> YUVFrame:
    frame = YUVFrame.alloc(width, height)
    frame.data[:] = np.random.default_rng(seed).integers(0, 256, frame.data.shape, np.uint8)
    return frame


@pytest.mark.parametrize("height", [64, 66])  # 66 % 4 != 0: the copying path
def test_to_video_frame_keeps_pixels_pts_and_time_base(height: int) -> None:
    frame = _frame(48, height, height)
    vf = to_video_frame(frame, 7, Fraction(1, 25))
    assert (vf.width, vf.height, vf.format.name) == (48, height, "yuv420p")
    assert vf.pts == 7 and vf.time_base == Fraction(1, 25)
    assert np.array_equal(vf.to_ndarray(), frame.data)


def test_add_h264_stream_encodes_a_decodable_stream() -> None:
    video = VideoFormat(width=64, height=48, fps_num=30000, fps_den=1001)
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as out:
        vs = add_h264_stream(out, video, {"preset": "ultrafast", "crf": "20"})
        assert (vs.width, vs.height, vs.pix_fmt) == (64, 48, "yuv420p")
        assert vs.codec_context.time_base == Fraction(1001, 30000)
        for i in range(5):
            out.mux(vs.encode(to_video_frame(_frame(64, 48, i), i, vs.codec_context.time_base)))
        out.mux(vs.encode(None))
    buf.seek(0)
    with av.open(buf, mode="r") as back:
        stream = back.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == Fraction(30000, 1001)
        assert len(list(back.decode(stream))) == 5
