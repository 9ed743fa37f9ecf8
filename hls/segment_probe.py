"""Measure what a multivariant playlist says about a rendition from its encoded bytes.

CODECS comes from the real SPS (``avc1.PPCCLL``: profile_idc, constraint
flags, level_idc), RESOLUTION from the decoder's view of the stream and
FRAME-RATE from the frames the segment holds over its duration, so the
multivariant playlist describes what was encoded, not what was asked for.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from hls.errors import HLSError

__all__ = ["AAC_LC", "SegmentProbe", "avc1_from_sps", "probe_segment"]

#: RFC 6381 codec string of AAC-LC (the only audio the encoder writes).
AAC_LC = "mp4a.40.2"


@dataclass(frozen=True, slots=True)
class SegmentProbe:
    """What one media segment holds.

    Attributes:
        video_codec: ``avc1.PPCCLL`` from the SPS.
        width: Coded width.
        height: Coded height.
        frames: Video frames in the segment.
        audio: True when it carries an AAC track.
    """

    video_codec: str
    width: int
    height: int
    frames: int
    audio: bool

    @property
    def codecs(self) -> str:
        """The CODECS attribute value."""
        return f"{self.video_codec},{AAC_LC}" if self.audio else self.video_codec


def avc1_from_sps(sps: bytes) -> str:
    """``avc1.PPCCLL`` from an SPS NAL unit (header byte first)."""
    if len(sps) < 4 or sps[0] & 0x1F != 7:
        raise HLSError("not an H.264 SPS")
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


def _sps_in_annexb(data: bytes) -> bytes | None:
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        if i + 3 < len(data) and data[i + 3] & 0x1F == 7:
            return data[i + 3 : i + 7]
        i = data.find(b"\x00\x00\x01", i + 3)
    return None


def probe_segment(data: bytes, init: bytes | None = None) -> SegmentProbe:
    """Demux one segment (fMP4: after its ``init`` segment) and measure it.

    Raises:
        HLSError: No H.264 video or no SPS in the segment.
    """
    try:
        with av.open(io.BytesIO((init or b"") + data), mode="r") as container:
            vstream = next(iter(container.streams.video), None)
            if vstream is None:
                raise HLSError("segment has no video stream")
            audio = any(s.type == "audio" for s in container.streams)
            extradata = vstream.codec_context.extradata
            frames, sps = 0, None
            for packet in container.demux(vstream):
                if packet.size == 0:
                    continue
                frames += 1
                if sps is None:
                    sps = _sps_in_annexb(bytes(packet))
            width, height = vstream.codec_context.width, vstream.codec_context.height
    except av.FFmpegError as exc:
        raise HLSError(f"segment cannot be demuxed: {exc}") from exc
    if extradata and extradata[0] == 1 and len(extradata) >= 4:  # avcC (fMP4)
        codec = f"avc1.{extradata[1]:02x}{extradata[2]:02x}{extradata[3]:02x}"
    elif sps is not None or (extradata and (sps := _sps_in_annexb(extradata)) is not None):
        codec = avc1_from_sps(sps)
    else:
        raise HLSError("no H.264 SPS in the segment")
    return SegmentProbe(codec, width, height, frames, audio)
