"""Splits the fMP4 muxer's byte stream into complete top-level ISO-BMFF boxes."""

from __future__ import annotations

import struct

from hls.errors import EncoderError

__all__ = ["BoxSplitter"]


class BoxSplitter:
    """A file-like sink for ``av.open`` that hands back whole boxes as they complete.

    ``ftyp``/``moov`` make the init segment; each ``moof``/``mdat`` pair is a
    media fragment. A box still being written stays buffered.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append muxer output; returns the number of bytes taken (file protocol)."""
        self._buf += data
        return len(data)

    def boxes(self) -> list[tuple[bytes, bytes]]:
        """Remove and return the complete boxes as ``(type, whole box bytes)``.

        Raises:
            EncoderError: A box header declares a size smaller than the header.
        """
        out: list[tuple[bytes, bytes]] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 8:
            size, kind = struct.unpack_from(">I4s", buf, pos)
            header = 8
            if size == 1:
                if len(buf) - pos < 16:
                    break
                size = struct.unpack_from(">Q", buf, pos + 8)[0]
                header = 16
            if size < header:
                raise EncoderError(f"fMP4 muxer wrote a malformed box {kind!r} of size {size}")
            if len(buf) - pos < size:
                break
            out.append((bytes(kind), bytes(buf[pos : pos + size])))
            pos += size
        del buf[:pos]
        return out
