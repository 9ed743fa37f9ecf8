"""Writes fMP4 (CMAF) ``moof+mdat`` fragments from encoded packets, byte by byte.

FFmpeg's ``mp4`` muxer cuts a fragment at each keyframe (or by duration, on
whichever track gets there first) and PyAV cannot ask it to flush one at a
chosen packet. Low-latency HLS parts must end on chosen video frames, so the
fragments of a parted stream are written here: the muxer still writes the
init segment (``ftyp+moov``: track ids, timescales, codec configuration),
read back with :func:`init_tracks`, and :func:`build_fragment` writes one
``moof`` (``mfhd``, then per track ``traf``: ``tfhd`` with
default-base-is-moof, ``tfdt``, ``trun``) and one ``mdat`` holding every
track's samples in turn, as the muxer lays them out. H.264 samples go from
Annex B (what libx264 hands out) to length-prefixed NAL units, as the muxer
converts them. Pure functions, no I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hls.errors import EncoderError

__all__ = [
    "FragmentSample",
    "InitTrack",
    "TrackRun",
    "annexb_to_avcc",
    "build_fragment",
    "init_tracks",
]

#: ``trun`` sample flags, as FFmpeg writes them: a sync sample depends on nothing...
SYNC_FLAGS = 0x02000000
#: ...any other depends on others and is not a sync sample.
NON_SYNC_FLAGS = 0x01010000

_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
# data-offset, sample-duration, sample-size, sample-flags, sample-composition-time-offset
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800


@dataclass(frozen=True, slots=True)
class InitTrack:
    """A track of the init segment.

    Attributes:
        track_id: ``tkhd`` track id (``tfhd`` names it).
        timescale: ``mdhd`` units per second (``tfdt`` and ``trun`` count in them).
        handler: ``hdlr`` type, ``b"vide"`` or ``b"soun"``.
    """

    track_id: int
    timescale: int
    handler: bytes


@dataclass(frozen=True, slots=True)
class FragmentSample:
    """One sample of a track run.

    Attributes:
        data: The sample bytes as stored (H.264: length-prefixed NAL units).
        duration: In the track's timescale.
        sync: A random-access point (an IDR frame; every AAC frame).
        cts_offset: Presentation minus decode time, in the track's timescale.
    """

    data: bytes
    duration: int
    sync: bool
    cts_offset: int = 0


@dataclass(frozen=True, slots=True)
class TrackRun:
    """The samples of one track in a fragment, from decode time ``base_dts`` on."""

    track_id: int
    base_dts: int
    samples: Sequence[FragmentSample]


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise EncoderError(f"malformed box {kind!r} at byte {pos} of the init segment")
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for k, s, e in _boxes(data, start, end):
        if k == kind:
            return s, e
    raise EncoderError(f"the init segment has no {kind.decode(errors='replace')} box")


def init_tracks(init: bytes) -> list[InitTrack]:
    """The tracks of an fMP4 init segment, in ``moov`` order.

    Raises:
        EncoderError: The bytes are not an init segment with tracks.
    """
    tracks: list[InitTrack] = []
    moov = _child(init, 0, len(init), b"moov")
    for kind, start, end in _boxes(init, *moov):
        if kind != b"trak":
            continue
        tkhd, _ = _child(init, start, end, b"tkhd")
        version = init[tkhd]
        track_id = struct.unpack_from(">I", init, tkhd + (20 if version == 1 else 12))[0]
        mdia = _child(init, start, end, b"mdia")
        mdhd, _ = _child(init, *mdia, b"mdhd")
        timescale = struct.unpack_from(">I", init, mdhd + (20 if init[mdhd] == 1 else 12))[0]
        hdlr, _ = _child(init, *mdia, b"hdlr")
        tracks.append(InitTrack(track_id, timescale, bytes(init[hdlr + 8 : hdlr + 12])))
    if not tracks:
        raise EncoderError("the init segment has no tracks")
    return tracks


def annexb_to_avcc(data: bytes) -> bytes:
    """H.264 Annex B (start codes) to length-prefixed NAL units; other input is returned as is."""
    if not (data.startswith(b"\x00\x00\x01") or data.startswith(b"\x00\x00\x00\x01")):
        return data
    out = bytearray()
    pos = data.index(b"\x00\x00\x01") + 3
    while True:
        nxt = data.find(b"\x00\x00\x01", pos)
        end = len(data) if nxt < 0 else nxt
        nal_end = end
        # a 4-byte start code's leading zero (and trailing zero bytes) belong to no NAL unit
        while nal_end > pos and data[nal_end - 1] == 0 and nxt >= 0:
            nal_end -= 1
        if nal_end > pos:
            out += struct.pack(">I", nal_end - pos) + data[pos:nal_end]
        if nxt < 0:
            return bytes(out)
        pos = nxt + 3


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _trun(run: TrackRun, data_offset: int) -> bytes:
    rows = b"".join(
        struct.pack(
            ">IIIi",
            s.duration,
            len(s.data),
            SYNC_FLAGS if s.sync else NON_SYNC_FLAGS,
            s.cts_offset,
        )
        for s in run.samples
    )
    # version 1: signed composition offsets (CMAF)
    return _box(
        b"trun", struct.pack(">IIi", (1 << 24) | _TRUN_FLAGS, len(run.samples), data_offset), rows
    )


def _traf(run: TrackRun, data_offset: int) -> bytes:
    tfhd = _box(b"tfhd", struct.pack(">II", _TFHD_DEFAULT_BASE_IS_MOOF, run.track_id))
    tfdt = _box(b"tfdt", struct.pack(">IQ", 1 << 24, run.base_dts))
    return _box(b"traf", tfhd, tfdt, _trun(run, data_offset))


def build_fragment(sequence: int, runs: Sequence[TrackRun]) -> bytes:
    """One ``moof+mdat``: the runs' samples, track after track, in one ``mdat``.

    Args:
        sequence: ``mfhd`` sequence number (1, 2, ... along the stream).
        runs: One run per track that has samples (empty runs are left out).

    Returns:
        The fragment's bytes.
    """
    runs = [r for r in runs if r.samples]
    if not runs:
        raise EncoderError("a fragment needs at least one sample")
    # The moof's size does not depend on the offsets: build it once with zeros to measure.
    sizes = [sum(len(s.data) for s in r.samples) for r in runs]
    mfhd = _box(b"mfhd", struct.pack(">II", 0, sequence))
    moof_size = len(_box(b"moof", mfhd, *(_traf(r, 0) for r in runs)))
    offsets, pos = [], moof_size + 8
    for size in sizes:
        offsets.append(pos)
        pos += size
    moof = _box(b"moof", mfhd, *(_traf(r, o) for r, o in zip(runs, offsets, strict=True)))
    mdat = _box(b"mdat", *(s.data for r in runs for s in r.samples))
    return moof + mdat
