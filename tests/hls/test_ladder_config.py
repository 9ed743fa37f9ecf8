"""HLS_LADDER parsing and rung sizing."""

from __future__ import annotations

import pytest

from effects.frame import VideoFormat
from hls.errors import HLSError
from hls.ladder_config import AUTO_LADDER, RungSpec, parse_ladder, rung_sizes


def test_auto_and_off() -> None:
    assert parse_ladder("auto") == parse_ladder("") == AUTO_LADDER
    assert [r.height for r in AUTO_LADDER] == [720, 480, 360]
    assert parse_ladder("off") == ()


def test_explicit_list_sorted_top_first() -> None:
    rungs = parse_ladder("360p:800k, 720p:2.8M,480p:crf26,240p")
    assert rungs == (
        RungSpec(720, 2_800_000),
        RungSpec(480, None, 26),
        RungSpec(360, 800_000),
        RungSpec(240, 400_000),
    )
    assert rungs[0].name == "720p"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("720", "entry 1"),
        ("720p,480p:fast", "entry 2 '480p:fast'"),
        ("720p:crf60", "crf outside"),
        ("720p,720p:1M", "given twice"),
        ("32p", "height outside"),
        ("480p:5k", "bitrate under"),
    ],
)
def test_bad_entries_are_named(text: str, message: str) -> None:
    with pytest.raises(HLSError, match=message):
        parse_ladder(text)


def test_sizes_keep_aspect_even_and_strictly_below() -> None:
    sizes = rung_sizes(VideoFormat(1920, 1080, 25, 1), AUTO_LADDER)
    assert [(s.video.width, s.video.height) for s in sizes] == [(1280, 720), (854, 480), (640, 360)]
    assert all(s.video.fps_num == 25 for s in sizes)
    assert [s.video.height for s in rung_sizes(VideoFormat(1280, 720), AUTO_LADDER)] == [480, 360]
    assert rung_sizes(VideoFormat(192, 108), AUTO_LADDER) == ()


def test_non_square_pixels_keep_display_aspect() -> None:
    (size,) = rung_sizes(VideoFormat(1440, 1080, 25, 1, 4, 3), (RungSpec(540),))
    assert (size.video.width, size.video.height) == (720, 540)
    assert size.video.sar == VideoFormat(1440, 1080, 25, 1, 4, 3).sar
