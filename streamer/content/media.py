"""Media helpers for the cache API: probe, poster frame, waveform, MP4 remux.

Every function here does blocking decode/encode or file I/O: async callers
run them with ``asyncio.to_thread``. Outputs are written to a temporary file
next to the destination and renamed into place, so a concurrent reader never
sees a partial poster or MP4.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from hls.x264_cpu import x264_cpu_flags

__all__ = [
    "HLS_MEDIA_TYPE",
    "MediaError",
    "MediaInfo",
    "hls_segment_cids",
    "make_poster",
    "make_waveform",
    "probe",
    "remux_mp4",
]

HLS_MEDIA_TYPE = "application/vnd.apple.mpegurl"
_IMAGE_FORMATS = {
    "png_pipe",
    "jpeg_pipe",
    "image2",
    "webp_pipe",
    "bmp_pipe",
    "tiff_pipe",
    "gif",
    "gif_pipe",
    "jpegls_pipe",
}
_COPY_VIDEO = {"h264", "hevc"}
_COPY_AUDIO = {"aac", "mp3"}
_FORMAT_TYPES = {
    "mov,mp4,m4a,3gp,3g2,mj2": "video/mp4",
    "matroska,webm": "video/x-matroska",
    "mpegts": "video/mp2t",
    "avi": "video/x-msvideo",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
    "png_pipe": "image/png",
    "jpeg_pipe": "image/jpeg",
    "webp_pipe": "image/webp",
    "gif": "image/gif",
}
_CID_RE = re.compile(r"(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,})")


class MediaError(Exception):
    """The file cannot be decoded for this purpose (not media, no video, ...)."""


@dataclass
class MediaInfo:
    """What a file is, as far as the API cares."""

    kind: str = "other"  # video | audio | image | hls | other
    media_type: str = "application/octet-stream"
    format: str | None = None
    duration: float | None = None
    video: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON data."""
        return asdict(self)


def _sniff_text(path: Path) -> MediaInfo:
    with path.open("rb") as fh:
        head = fh.read(4096)
    stripped = head.lstrip()
    if stripped.startswith(b"#EXTM3U"):
        return MediaInfo(kind="hls", media_type=HLS_MEDIA_TYPE, format="hls")
    if stripped[:1] in (b"{", b"["):
        try:
            json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            pass
        else:
            return MediaInfo(media_type="application/json", format="json")
    if head and b"\0" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return MediaInfo()
        return MediaInfo(media_type="text/plain; charset=utf-8", format="text")
    return MediaInfo()


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Classify a file by decoding its header with PyAV (text/JSON/HLS sniffed first)."""
    path = Path(path)
    info = _sniff_text(path)
    if info.media_type != "application/octet-stream":
        return info
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError):
        return info
    with container:
        fmt = container.format.name
        duration = container.duration / 1_000_000 if container.duration else None
        vstreams = [s for s in container.streams.video]
        astreams = [s for s in container.streams.audio]
        video = audio = None
        if vstreams:
            v = vstreams[0]
            rate = v.average_rate or v.guessed_rate
            video = {
                "codec": v.codec_context.name,
                "width": v.codec_context.width,
                "height": v.codec_context.height,
                "fps": float(rate) if rate else None,
                "frames": v.frames or None,
            }
        if astreams:
            a = astreams[0]
            audio = {
                "codec": a.codec_context.name,
                "sample_rate": a.codec_context.sample_rate,
                "channels": a.codec_context.channels,
            }
    if video is None and audio is None:
        return info
    if video is not None and (fmt in _IMAGE_FORMATS or fmt.endswith("_pipe")):
        kind = "image"
        media_type = _FORMAT_TYPES.get(fmt, "image/" + fmt.split("_")[0])
    elif video is not None:
        kind = "video"
        media_type = _FORMAT_TYPES.get(fmt, "video/" + fmt.split(",")[0])
    else:
        kind = "audio"
        media_type = _FORMAT_TYPES.get(fmt, "audio/" + fmt.split(",")[0])
        if fmt.startswith("mov,mp4"):
            media_type = "audio/mp4"
    return MediaInfo(kind, media_type, fmt, duration, video, audio)


@contextmanager
def _atomic(dst: Path) -> Iterator[Path]:
    """A temp path beside ``dst``, renamed onto it when the block succeeds."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=".part-", suffix=dst.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def make_poster(src: str | os.PathLike[str], dst: Path, *, max_width: int = 640) -> Path:
    """Write a JPEG of a representative frame (10% in, at most 5 s) of a video or image.

    Raises:
        MediaError: the file has no decodable video.
    """
    try:
        container = av.open(str(src), metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot open as media: {exc}") from None
    with container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        target = 0.0
        if container.duration:
            target = min(container.duration / 1_000_000 * 0.1, 5.0)
        if target > 0 and stream.time_base:
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.FFmpegError:
                container.seek(0)
        frame = None
        try:
            for candidate in container.decode(stream):
                frame = candidate
                if candidate.time is None or candidate.time >= target:
                    break
        except av.FFmpegError as exc:
            if frame is None:
                raise MediaError(f"cannot decode video: {exc}") from None
        if frame is None:
            raise MediaError("no video frame decoded")
    width, height = frame.width, frame.height
    if width > max_width:
        height = max(2, round(height * max_width / width / 2) * 2)
        width = max_width
    width -= width % 2
    height -= height % 2
    rgb = frame.reformat(width=width, height=height, format="yuvj420p")
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    packets = list(codec.encode(rgb)) + list(codec.encode(None))
    data = b"".join(bytes(p) for p in packets)
    if not data.startswith(b"\xff\xd8"):
        raise MediaError("JPEG encoding produced no image")
    with _atomic(dst) as tmp:
        tmp.write_bytes(data)
    return dst


def make_waveform(src: str | os.PathLike[str], *, points: int = 800) -> dict[str, Any]:
    """Peak amplitude per bucket (``points`` buckets, 0..1) and the audio duration.

    Raises:
        MediaError: the file has no decodable audio.
    """
    rate = 8000
    try:
        container = av.open(str(src), metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot open as media: {exc}") from None
    chunks: list[np.ndarray] = []
    with container:
        if not container.streams.audio:
            raise MediaError("no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"cannot decode audio: {exc}") from None
    samples = np.abs(np.concatenate(chunks)) if chunks else np.zeros(0, np.float32)
    n = len(samples)
    if n == 0:
        return {"duration": 0.0, "sample_rate": rate, "peaks": []}
    buckets = max(1, min(points, n))
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    peaks = np.maximum.reduceat(samples, edges[:-1])
    peaks = np.clip(peaks, 0.0, 1.0)
    return {
        "duration": round(n / rate, 3),
        "sample_rate": rate,
        "peaks": [round(float(p), 4) for p in peaks],
    }


def hls_segment_cids(playlist_text: str) -> list[str]:
    """CIDs of a playlist's init segment (if any) and media segments, in order.

    URIs look like ``/ipfs/<cid>?filename=seg.ts``, ``ipfs://<cid>`` or
    ``<cid>.ts``; a URI without a CID raises :class:`MediaError`.
    """
    import m3u8

    playlist = m3u8.loads(playlist_text)
    uris: list[str] = []
    seen_init: set[str] = set()
    for seg in playlist.segments:
        init = getattr(seg, "init_section", None)
        if init is not None and init.uri and init.uri not in seen_init:
            seen_init.add(init.uri)
            uris.append(init.uri)
        uris.append(seg.uri)
    if not playlist.segments:
        raise MediaError("the playlist has no segments")
    cids = []
    for uri in uris:
        match = _CID_RE.search(uri or "")
        if match is None:
            raise MediaError(f"segment URI {uri!r} names no CID")
        cids.append(match.group(1))
    return cids


def _concat(sources: Sequence[Path], dst: Path) -> None:
    with dst.open("wb") as out:
        for src in sources:
            with src.open("rb") as fh:
                while piece := fh.read(1 << 20):
                    out.write(piece)


def remux_mp4(sources: Sequence[str | os.PathLike[str]], dst: Path) -> Path:
    """Write an MP4 (faststart) of one media file or of concatenated HLS segments.

    H.264/HEVC video and AAC/MP3 audio are copied; other codecs are encoded
    (libx264 ``veryfast``, AAC). Several sources are joined byte-wise first:
    MPEG-TS segments, or an fMP4 init segment followed by its fragments.

    Raises:
        MediaError: nothing decodable, or no audio/video stream.
    """
    paths = [Path(s) for s in sources]
    if not paths:
        raise MediaError("no source")
    with _atomic(dst) as tmp:
        if len(paths) == 1:
            _remux(paths[0], tmp)
        else:
            joined = tmp.with_suffix(".join")
            try:
                _concat(paths, joined)
                _remux(joined, tmp)
            finally:
                joined.unlink(missing_ok=True)
    return dst


def _remux(src: Path, dst: Path) -> None:
    try:
        inp = av.open(str(src), metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot open as media: {exc}") from None
    with inp:
        vin = inp.streams.video[0] if inp.streams.video else None
        ain = inp.streams.audio[0] if inp.streams.audio else None
        if vin is None and ain is None:
            raise MediaError("no audio or video stream")
        with av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            plan: dict[int, tuple[Any, Any]] = {}  # in index -> (out stream, encoder or None)
            if vin is not None:
                if vin.codec_context.name in _COPY_VIDEO:
                    plan[vin.index] = (out.add_stream_from_template(vin), None)
                else:
                    rate = vin.average_rate or vin.guessed_rate or Fraction(25)
                    vs = out.add_stream("libx264", rate=rate)
                    vs.width = vin.codec_context.width - vin.codec_context.width % 2
                    vs.height = vin.codec_context.height - vin.codec_context.height % 2
                    vs.pix_fmt = "yuv420p"
                    x264_options: dict[str, object] = {"preset": "veryfast"}
                    if (cpu := x264_cpu_flags()) is not None:  # deterministic bytes
                        x264_options["x264-params"] = f"asm={cpu}"
                    vs.options = x264_options
                    plan[vin.index] = (vs, "video")
            if ain is not None:
                if ain.codec_context.name in _COPY_AUDIO:
                    plan[ain.index] = (out.add_stream_from_template(ain), None)
                else:
                    rate_a = ain.codec_context.sample_rate or 48000
                    plan[ain.index] = (out.add_stream("aac", rate=rate_a), "audio")
            streams = [s for s in (vin, ain) if s is not None]
            counts = {index: 0 for index in plan}
            for packet in inp.demux(streams):
                ostream, mode = plan[packet.stream.index]
                if mode is None:
                    if packet.size == 0:  # demux's end-of-stream flush packet
                        continue
                    packet.stream = ostream
                    out.mux(packet)
                    continue
                for frame in packet.decode():
                    if mode == "video" and isinstance(frame, av.VideoFrame):
                        frame = frame.reformat(
                            width=ostream.width, height=ostream.height, format="yuv420p"
                        )
                        # renumber: the encoder's time base is 1/fps, not the input's
                        frame.pts = counts[packet.stream.index]
                        frame.time_base = 1 / Fraction(ostream.codec_context.framerate)
                        counts[packet.stream.index] += 1
                    out.mux(ostream.encode(frame))
            for ostream, mode in plan.values():
                if mode is not None:
                    out.mux(ostream.encode(None))
