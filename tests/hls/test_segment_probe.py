"""What the multivariant playlist is measured from: SPS codec strings and segment probes."""

from __future__ import annotations

import pytest

from effects.frame import VideoFormat
from hls.encoder import SegmentEncoder
from hls.errors import HLSError
from hls.multivariant import MultivariantPlaylist, VariantInfo, VariantMeter
from hls.options import HLSOptions
from hls.segment_probe import avc1_from_sps, probe_segment
from tests.hls.hls_media import make_frames


def test_avc1_from_sps_bytes() -> None:
    # High profile (100), no constraint flags, level 3.1
    assert avc1_from_sps(bytes([0x67, 100, 0x00, 31, 0xAC])) == "avc1.64001f"
    with pytest.raises(HLSError, match="SPS"):
        avc1_from_sps(bytes([0x68, 0xCE, 0x3C, 0x80]))  # a PPS


@pytest.mark.parametrize("container", ["mpegts", "fmp4"])
def test_probe_reads_the_encoded_segment(container: str) -> None:
    video = VideoFormat(160, 120, 25, 1)
    options = HLSOptions(segment_duration=1.0, preset="ultrafast", container=container)  # type: ignore[arg-type]
    enc = SegmentEncoder(video, None, options)
    segments = [s for f in make_frames(video, 50) for s in enc.write(f)] + enc.flush()
    probe = probe_segment(segments[0].data, enc.init_segment)
    assert (probe.width, probe.height, probe.frames, probe.audio) == (160, 120, 25, False)
    assert (
        probe.codecs.startswith("avc1.42")
        or probe.codecs.startswith("avc1.4d")
        or (probe.codecs.startswith("avc1.64"))
    )
    assert "," not in probe.codecs  # no audio track, no mp4a


def test_probe_rejects_garbage() -> None:
    with pytest.raises(HLSError):
        probe_segment(b"\x00" * 1000)


def test_meter_and_playlist_listing() -> None:
    meter = VariantMeter()
    meter.add(250_000, 2.0, 50)
    meter.add(100_000, 1.0, 25)
    assert (meter.peak, meter.average, meter.frame_rate) == (1_000_000, 2_800_000 / 3, 25.0)
    pl = MultivariantPlaylist(("a.m3u8", "b.m3u8"))
    pl.set(VariantInfo("b.m3u8", 320, 180, "avc1.64000d", 25.0, 300_000, 200_000))
    assert not pl.complete
    pl.set(VariantInfo("a.m3u8", 640, 360, "avc1.64001e", 25.0, 900_000, 800_000))
    text = pl.render(lambda n: f"/x/{n}")
    assert pl.complete and text.index("/x/a.m3u8") < text.index("/x/b.m3u8")
    assert "AVERAGE-BANDWIDTH=800000" in text and "RESOLUTION=640x360" in text
    with pytest.raises(HLSError):
        pl.set(VariantInfo("c.m3u8", 1, 1, "", 1.0, 1, 1))
