"""The HLS layer's exception root."""

from __future__ import annotations

__all__ = ["EncoderError", "HLSError", "OutputStateError", "OutputWriteError", "PlaylistError"]


class HLSError(Exception):
    """Root of every error raised by ``hls/``."""


class PlaylistError(HLSError, ValueError):
    """A segment or playlist operation violates RFC 8216 or the model's rules."""


class EncoderError(HLSError):
    """Encoding or muxing a segment failed, or input does not match the format."""


class OutputStateError(HLSError, RuntimeError):
    """An output was used out of order (write before start, write after finish...)."""


class OutputWriteError(HLSError, OSError):
    """A segment or playlist could not be written (disk full...); nothing partial is left.

    The message names the file and its directory.
    """
