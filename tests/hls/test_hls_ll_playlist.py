"""Low-Latency HLS playlists: the pure model (hls.ll_playlist) and every revision of a live render."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import m3u8
import pytest

import hls.local_output
from effects.frame import AudioFormat, VideoFormat
from hls.errors import PlaylistError
from hls.ll_playlist import LowLatencyParts, delta_update, playlist_progress
from hls.options import HLSOptions
from hls.output import LocalHLSOutput, sha256_cid
from hls.playlist import MediaPlaylist, Segment
from hls.segment_files import atomic_write
from tests.hls.hls_media import make_frames, tone_for_frame

VIDEO = VideoFormat(160, 96, 25, 1)


def _model() -> tuple[MediaPlaylist, LowLatencyParts]:
    return MediaPlaylist(2.0, datetime(2026, 1, 1, tzinfo=UTC), "init.mp4"), LowLatencyParts(
        0.32, "ab12"
    )


def test_parts_render_with_server_control_and_a_preload_hint() -> None:
    pl, ll = _model()
    for i in range(4):
        ll.add(0, i, 0.32 if i < 3 else 0.04, i == 0, i == 3)
    pl.add(Segment("s0.m4s", 1.0, 0, 0.0))
    ll.add(1, 0, 0.32, True, False)
    parsed = m3u8.loads(ll.render(pl))
    assert parsed.server_control.can_block_reload == "YES"
    assert parsed.server_control.part_hold_back == pytest.approx(0.96)
    assert parsed.part_inf.part_target == pytest.approx(0.32)
    assert parsed.preload_hint.uri == "llab12s1p1.m4s"
    assert [p.uri for p in parsed.segments[0].parts] == [f"llab12s0p{i}.m4s" for i in range(4)]
    assert [p.uri for p in parsed.segments[1].parts] == ["llab12s1p0.m4s"]
    progress = playlist_progress(ll.render(pl).encode())
    assert (progress.low_latency, progress.next_msn, progress.parts) == (True, 1, 1)
    assert progress.has(0, None) and progress.has(1, 0) and not progress.has(1, 1)
    assert not progress.has(1, None) and not progress.has(2, 0)
    pl.end()
    assert ll.render(pl) == pl.render()  # an ended stream is standard HLS
    assert playlist_progress(pl.render().encode()).has(99, 3)


def test_parts_out_of_order_or_too_long_are_refused() -> None:
    _, ll = _model()
    with pytest.raises(PlaylistError, match="out of order"):
        ll.add(0, 1, 0.32, False, False)
    with pytest.raises(PlaylistError, match="duration"):
        ll.add(0, 0, 0.4, True, False)
    with pytest.raises(PlaylistError, match="alphanumeric"):
        LowLatencyParts(0.32, "a/b")


def test_prune_forgets_old_segments_parts() -> None:
    _, ll = _model()
    for seg in range(4):
        ll.add(seg, 0, 0.32, True, False)
        ll.add(seg, 1, 0.1, False, True)
    assert ll.prune(4) == ["llab12s0p0.m4s", "llab12s0p1.m4s", "llab12s1p0.m4s", "llab12s1p1.m4s"]
    assert ll.prune(None) == [f"llab12s{s}p{p}.m4s" for s in (2, 3) for p in (0, 1)]


def _check_revision(text: str, parts_seen: dict[str, float]) -> m3u8.M3U8:
    """RFC 8216bis rules one playlist revision must follow."""
    pl = m3u8.loads(text)
    target = pl.part_inf.part_target
    assert pl.server_control.can_block_reload == "YES"
    assert pl.server_control.part_hold_back >= 3 * target - 1e-9
    assert pl.segment_map and pl.segment_map[0].uri.endswith(".mp4")
    for seg in pl.segments:
        for i, part in enumerate(seg.parts):
            assert part.duration <= target + 1e-9
            assert (part.independent == "YES") == (i == 0), part.uri
            # a part once listed never changes
            assert parts_seen.setdefault(part.uri, part.duration) == part.duration
        if seg.uri is not None and seg.parts:  # a complete segment: its parts sum to EXTINF
            assert sum(p.duration for p in seg.parts) == pytest.approx(seg.duration, abs=1e-4)
            assert all(p.duration >= 0.85 * target for p in seg.parts[:-1])
    assert pl.preload_hint is not None and pl.preload_hint.hint_type == "PART"
    return pl


async def test_every_revision_of_a_live_ll_render_follows_the_rules(
    tmp_path: Path, ffprobe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = AudioFormat(48000, 2)
    written: list[tuple[str, bytes]] = []
    lock = threading.Lock()

    def recording_write(path: Path, data: bytes, *, fsync: bool = False) -> None:
        atomic_write(path, data, fsync=fsync)
        with lock:
            written.append((path.name, data))

    monkeypatch.setattr(hls.local_output, "atomic_write", recording_write)
    options = HLSOptions(container="fmp4", segment_duration=1.0, part_duration=0.32)
    out = LocalHLSOutput(tmp_path, options, sha256_cid)
    await out.start(VIDEO, audio)
    frames = make_frames(VIDEO, 90)

    def pump() -> None:
        for i, f in enumerate(frames):
            out.write(f, tone_for_frame(audio, VIDEO, i))

    await asyncio.to_thread(pump)
    result = await out.finish()

    files = dict(written)
    revisions = [data.decode() for name, data in written if name == "playlist.m3u8"]
    assert len(revisions) > 2 * len(result.segments)  # one per part and one per segment
    parts_seen: dict[str, float] = {}
    last_msn, last_parts, hint = 0, -1, None
    for text in revisions[:-1]:
        pl = _check_revision(text, parts_seen)
        assert pl.media_sequence == 0  # EVENT: the media sequence never moves
        progress = playlist_progress(text.encode())
        # the playlist only grows: a later revision holds at least as much
        assert (progress.next_msn, progress.parts) >= (last_msn, last_parts)
        if hint is not None:  # the previous hint is listed now, or still the hint
            listed = [p.uri for s in pl.segments for p in s.parts]
            assert hint in listed or pl.preload_hint.uri == hint, text
        # the hint names the next part: of the open segment, or the next segment's first
        nxt = pl.preload_hint.uri[:-4].split("s")[-1]
        assert nxt in (f"{progress.next_msn}p{progress.parts}", f"{progress.next_msn + 1}p0")
        last_msn, last_parts, hint = progress.next_msn, progress.parts, pl.preload_hint.uri
    # each segment's bytes are its parts' bytes in order, and ffprobe reads the parts
    init = files[Path(m3u8.loads(revisions[-1]).segment_map[0].uri).name]
    by_segment: dict[int, list[str]] = {}
    for name in files:
        if name.startswith("ll"):
            by_segment.setdefault(int(name[:-4].split("s")[-1].split("p")[0]), []).append(name)
    for names in by_segment.values():
        names.sort(key=lambda n: int(n[:-4].split("p")[-1]))
    assert sorted(by_segment) == list(range(len(result.segments)))
    for entry in result.segments:
        assert len(by_segment[entry.index]) > 1
        assert b"".join(files[n] for n in by_segment[entry.index]) == files[entry.uri]
    rebuilt = tmp_path / "rebuilt.mp4"
    rebuilt.write_bytes(init + b"".join(files[n] for n in by_segment[1]))
    probe = subprocess.run(
        [ffprobe, "-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(rebuilt)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert int(probe.strip().rstrip(",")) == 25
    # the ended playlist is standard HLS and the part files are gone
    final = m3u8.loads(revisions[-1])
    assert final.is_endlist and "EXT-X-SERVER-CONTROL" not in revisions[-1]
    assert not any(s.parts for s in final.segments) and "EXT-X-PART" not in revisions[-1]
    assert not list(tmp_path.glob("ll*.m4s"))
    assert result.stats.parts_local == len([n for n in files if n.startswith("ll")])


def test_delta_update_skips_old_segments_and_keeps_the_map() -> None:
    pl, ll = _model()
    for seg in range(12):
        ll.add(seg, 0, 0.32, True, False)
        ll.add(seg, 1, 0.18, False, True)
        pl.add(Segment(f"s{seg}.m4s", 0.5, seg, seg * 0.5))
        ll.prune(seg + 1)
    ll.add(12, 0, 0.32, True, False)
    full = ll.render(pl)
    assert "CAN-SKIP-UNTIL=12" in full  # six target durations (2 s)
    assert delta_update(full.encode()) is None  # 6 s of segments: nothing older than 12 s
    for seg in range(12, 40):
        if seg > 12:
            ll.add(seg, 0, 0.32, True, False)
        ll.add(seg, 1, 0.18, False, True)
        pl.add(Segment(f"s{seg}.m4s", 0.5, seg, seg * 0.5))
        ll.prune(seg + 1)
    ll.add(40, 0, 0.32, True, False)
    full = ll.render(pl)
    delta = delta_update(full.encode())
    assert delta is not None
    parsed, whole = m3u8.loads(delta.decode()), m3u8.loads(full)
    assert parsed.version == 9 and parsed.skip.skipped_segments == 40 - 24
    assert [s.uri for s in parsed.segments if s.uri] == [f"s{i}.m4s" for i in range(16, 40)]
    assert parsed.segment_map[0].uri == "init.mp4" and delta.count(b"#EXT-X-MAP") == 1
    assert parsed.preload_hint.uri == whole.preload_hint.uri
    assert parsed.segments[-1].parts[0].uri == whole.segments[-1].parts[0].uri
    pl.end()
    assert delta_update(ll.render(pl).encode()) is None


def test_cached_rendering_matches_a_fresh_one() -> None:
    """The text kept between parts (prefix, standard lines) never goes stale."""
    pl, ll = _model()
    steps: list[tuple[int, int, float, bool, bool]] = []
    for seg in range(6):
        for i in range(4):
            steps.append((seg, i, 0.32 if i < 3 else 0.04, i == 0, i == 3))
            ll.add(*steps[-1])
            fresh_pl, fresh = _model()
            for s in pl.segments:
                fresh_pl.add(s)
            for st in steps:
                fresh.add(*st)
            fresh.prune(len(pl.segments))
            assert ll.render(pl) == fresh.render(fresh_pl)
        pl.add(Segment(f"s{seg}.m4s", 1.0, seg, float(seg)))
        ll.prune(len(pl.segments))
        assert ll.render(pl).count("#EXTINF") == seg + 1
