"""A FrameSink writing one high-quality media file (plan step intermediates, final MP4).

Unlike the HLS outputs this writes a single seekable file: H.264 (x264, low
CRF) in Matroska or MP4, with lossless PCM (Matroska) or AAC (MP4) audio.
Intermediates of the 3-phase execution are re-decoded by the next step, so
they are encoded near-losslessly; the final output is an ordinary MP4.

``write()`` encodes in the interpreter's pipeline thread (x264 releases the
GIL); ``start``/``finish``/``abort`` do their file work in a thread. The file
is written under a temporary name and renamed on ``finish()``, so a crashed
or aborted render never leaves a truncated file at ``path``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

from effects.frame import AudioFormat, VideoFormat, YUVFrame
from hls.codec import add_h264_stream, to_video_frame
from hls.errors import EncoderError, OutputStateError

__all__ = ["AAC_FRAME_SIZE", "FileOutput", "FileResult"]

AAC_FRAME_SIZE = 1024

Container = Literal["mkv", "mp4"]
_FORMATS = {"mkv": "matroska", "mp4": "mp4"}


@dataclass(frozen=True, slots=True)
class FileResult:
    """What :meth:`FileOutput.finish` returns.

    Attributes:
        path: The finished file.
        frames: Video frames written.
        duration: Seconds of video (frames / fps).
        video: Video format of the file.
        audio: Audio format (None when the file has no audio track).
        size: File size in bytes.
    """

    path: Path
    frames: int
    duration: float
    video: VideoFormat
    audio: AudioFormat | None
    size: int


class FileOutput:
    """Encode every frame into one file at ``path``.

    Args:
        path: Target file (its directory is created).
        container: ``"mkv"`` (PCM audio: lossless intermediates) or ``"mp4"``
            (AAC audio, ``+faststart``: the published output).
        crf: x264 constant rate factor (12-16 is visually lossless).
        preset: x264 preset.
        audio_codec: Override the audio codec (``"aac"``, ``"pcm_s16le"``...).
        audio_bitrate: AAC bit rate.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        container: Container = "mkv",
        crf: int = 14,
        preset: str = "veryfast",
        audio_codec: str | None = None,
        audio_bitrate: int = 192_000,
    ) -> None:
        if container not in _FORMATS:
            raise ValueError(f"container must be one of {sorted(_FORMATS)}, got {container!r}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf!r}")
        self.path = Path(path)
        self.container = container
        self.crf = crf
        self.preset = preset
        self.audio_codec = audio_codec or ("aac" if container == "mp4" else "pcm_s16le")
        self.audio_bitrate = audio_bitrate
        self.frames = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{id(self):x}.part")
        self._out: Any = None
        self._vstream: Any = None
        self._astream: Any = None
        self._video: VideoFormat | None = None
        self._audio: AudioFormat | None = None
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._audio_pts = 0
        self._state = "new"

    # --- lifecycle ----------------------------------------------------------

    async def start(
        self, video: VideoFormat, audio: AudioFormat | None, on_playlist_update: Any = None
    ) -> None:
        """Open the file for this format (``on_playlist_update`` is unused: no playlist)."""
        if self._state != "new":
            raise OutputStateError(f"start() on a {self._state} FileOutput")
        await asyncio.to_thread(self._open, video, audio)
        self._state = "open"

    def _open(self, video: VideoFormat, audio: AudioFormat | None) -> None:
        if video.width % 2 or video.height % 2:
            raise EncoderError(f"frame size {video.width}x{video.height} must be even")
        if video.sar_num <= 0 or video.sar_den <= 0:
            raise EncoderError(f"bad sample aspect ratio {video.sar_num}:{video.sar_den}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        options = {"movflags": "+faststart"} if self.container == "mp4" else {}
        try:
            out = av.open(str(self._tmp), "w", format=_FORMATS[self.container], options=options)
        except (av.FFmpegError, OSError) as exc:
            raise EncoderError(f"cannot open {self.path}: {exc}") from exc
        try:
            opts = {"crf": str(self.crf), "preset": self.preset}
            self._vstream = add_h264_stream(out, video, opts)
            if audio is not None:
                layout = "mono" if audio.channels == 1 else "stereo"
                st: Any = out.add_stream(self.audio_codec, rate=audio.sample_rate, layout=layout)
                if self.audio_codec == "aac":
                    st.bit_rate = self.audio_bitrate
                self._astream = st
        except (av.FFmpegError, ValueError) as exc:
            out.close()
            self._tmp.unlink(missing_ok=True)
            raise EncoderError(f"cannot set up the streams of {self.path}: {exc}") from exc
        self._out = out
        self._video, self._audio = video, audio

    def write(self, frame: YUVFrame, audio: np.ndarray | None) -> None:
        """Encode one frame and its audio (pipeline thread)."""
        if self._state != "open":
            raise OutputStateError(f"write() on a {self._state} FileOutput")
        assert self._video is not None
        if frame.width != self._video.width or frame.height != self._video.height:
            raise EncoderError(
                f"frame {self.frames} is {frame.width}x{frame.height}, "
                f"the file is {self._video.width}x{self._video.height}"
            )
        vf = to_video_frame(frame, self.frames, self._vstream.codec_context.time_base)
        try:
            self._mux(self._vstream.encode(vf))
        except av.FFmpegError as exc:
            raise EncoderError(f"video encode failed at frame {self.frames}: {exc}") from exc
        self.frames += 1
        if self._audio is not None:
            if audio is None:
                # keep the tracks in sync: silence up to this frame's end
                fps = Fraction(self._video.fps_num, self._video.fps_den)
                end = round(self.frames / fps * self._audio.sample_rate)
                n = end - self._audio_pts - self._pending_n
                audio = np.zeros((self._audio.channels, max(0, n)), np.float32)
            self._push_audio(audio, final=False)

    def _push_audio(self, samples: np.ndarray, final: bool) -> None:
        assert self._audio is not None
        if samples.ndim != 2 or samples.shape[0] != self._audio.channels:
            raise EncoderError(
                f"audio must be (channels={self._audio.channels}, n), got shape {samples.shape}"
            )
        if samples.shape[1]:
            self._pending.append(np.asarray(samples, dtype=np.float32))
            self._pending_n += samples.shape[1]
        # AAC takes fixed 1024-sample frames; PCM takes any size
        size = AAC_FRAME_SIZE if self.audio_codec == "aac" else max(self._pending_n, 1)
        if self._pending_n < size and not (final and self._pending_n):
            return
        buf = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        usable = buf.shape[1] if final else buf.shape[1] - buf.shape[1] % size
        try:
            for start in range(0, usable, size):
                chunk = np.ascontiguousarray(buf[:, start : start + size])
                af = av.AudioFrame.from_ndarray(
                    chunk, format="fltp", layout="mono" if self._audio.channels == 1 else "stereo"
                )
                af.sample_rate = self._audio.sample_rate
                af.pts = self._audio_pts
                af.time_base = Fraction(1, self._audio.sample_rate)
                self._audio_pts += chunk.shape[1]
                self._mux(self._astream.encode(af))
        except av.FFmpegError as exc:
            raise EncoderError(f"audio encode failed at sample {self._audio_pts}: {exc}") from exc
        rest = buf[:, usable:]
        self._pending = [rest] if rest.shape[1] else []
        self._pending_n = rest.shape[1]

    def _mux(self, packets: list[Any]) -> None:
        for p in packets:
            self._out.mux(p)

    async def finish(self) -> FileResult:
        """Flush the encoders, close the file and move it to ``path``."""
        if self._state != "open":
            raise OutputStateError(f"finish() on a {self._state} FileOutput")
        self._state = "finishing"
        try:
            result = await asyncio.to_thread(self._finish)
        except BaseException:
            await asyncio.to_thread(self._discard)
            self._state = "aborted"
            raise
        self._state = "finished"
        return result

    def _finish(self) -> FileResult:
        assert self._video is not None
        try:
            if self._audio is not None:
                self._push_audio(np.zeros((self._audio.channels, 0), np.float32), final=True)
                self._mux(self._astream.encode(None))
            self._mux(self._vstream.encode(None))
            self._out.close()
        except av.FFmpegError as exc:
            raise EncoderError(f"finishing {self.path} failed: {exc}") from exc
        self._out = None
        os.replace(self._tmp, self.path)
        fps = Fraction(self._video.fps_num, self._video.fps_den)
        return FileResult(
            path=self.path,
            frames=self.frames,
            duration=float(self.frames / fps),
            video=self._video,
            audio=self._audio,
            size=self.path.stat().st_size,
        )

    async def abort(self) -> None:
        """Close and delete the partial file; ``path`` is left untouched."""
        if self._state in ("aborted", "finished"):
            return
        self._state = "aborted"
        await asyncio.to_thread(self._discard)

    def _discard(self) -> None:
        if self._out is not None:
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):
                self._out.close()
            self._out = None
        self._tmp.unlink(missing_ok=True)
