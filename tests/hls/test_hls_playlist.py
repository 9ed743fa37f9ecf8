from __future__ import annotations

from datetime import UTC, datetime, timedelta

import m3u8
import pytest

from hls.errors import PlaylistError
from hls.playlist import MediaPlaylist, Segment

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _pl(init_uri: str | None = None) -> MediaPlaylist:
    pl = MediaPlaylist(2.0, START, init_uri=init_uri)
    pl.add(Segment("a.ts", 2.0, 0, 0.0))
    pl.add(Segment("b.ts", 1.5, 1, 2.0))
    return pl


def test_event_playlist_live_has_no_endlist_and_required_tags() -> None:
    text = _pl().render()
    parsed = m3u8.loads(text)
    assert parsed.playlist_type == "event"
    assert not parsed.is_endlist
    assert parsed.is_independent_segments
    assert parsed.version == 3
    assert parsed.target_duration == 2
    assert [s.uri for s in parsed.segments] == ["a.ts", "b.ts"]
    assert [s.duration for s in parsed.segments] == [2.0, 1.5]
    assert parsed.segments[1].program_date_time == START + timedelta(seconds=2)
    assert "#EXT-X-ENDLIST" not in text


def test_endlist_after_end_and_no_add_after() -> None:
    pl = _pl()
    pl.end()
    assert m3u8.loads(pl.render()).is_endlist
    with pytest.raises(PlaylistError, match="after ENDLIST"):
        pl.add(Segment("c.ts", 1.0, 2, 3.5))


def test_target_duration_is_ceil_of_longest_extinf() -> None:
    pl = MediaPlaylist(2.0, START)
    pl.add(Segment("a.ts", 2.002, 0, 0.0))
    assert pl.target_duration == 3
    assert "#EXT-X-TARGETDURATION:3" in pl.render()
    assert "#EXTINF:2.002000," in pl.render()


def test_fmp4_has_map_and_version_7() -> None:
    text = _pl(init_uri="init.mp4").render(lambda u: f"/ipfs/{u}")
    parsed = m3u8.loads(text)
    assert parsed.version == 7
    assert text.count('#EXT-X-MAP:URI="/ipfs/init.mp4"') == 1
    assert parsed.segments[0].uri == "/ipfs/a.ts"


def test_prefix_render_never_ends_early_and_orders_are_checked() -> None:
    pl = _pl()
    pl.end()
    partial = m3u8.loads(pl.render(count=1))
    assert [s.uri for s in partial.segments] == ["a.ts"]
    assert not partial.is_endlist
    with pytest.raises(PlaylistError, match="out of order"):
        MediaPlaylist(2.0, START).add(Segment("x.ts", 1.0, 3, 0.0))
    with pytest.raises(PlaylistError, match="duration"):
        MediaPlaylist(2.0, START).add(Segment("x.ts", 0.0, 0, 0.0))
    with pytest.raises(PlaylistError, match="timezone"):
        MediaPlaylist(2.0, datetime(2026, 1, 1))
    assert pl.media_sequence == 0
