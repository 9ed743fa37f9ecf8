"""The ABR ladder's rungs: parsed from one setting, sized from the output.

``HLS_LADDER`` holds ``auto`` (the default), ``off`` or an explicit list:
``720p:2800k,480p:1400k,360p:crf28`` (a height with a ``p``, then a video
bitrate in ``k``/``M`` bits per second or ``crf<N>``; nothing after the
height takes the default for that height, or CRF 23 off the table). The top
rung is always the output itself, encoded as a single-rendition run is;
only rungs strictly below the output height are kept (never an upscale), so
a small output has no lower rungs and renders exactly as without a ladder.
Rung sizes keep the output's display aspect and are even.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from effects.frame import VideoFormat
from hls.errors import HLSError

__all__ = ["AUTO_LADDER", "DEFAULT_BITRATES", "RungSize", "RungSpec", "parse_ladder", "rung_sizes"]

#: Video bits per second of the usual heights (Apple's authoring table, rounded).
DEFAULT_BITRATES = {1080: 5_000_000, 720: 2_800_000, 480: 1_400_000, 360: 800_000, 240: 400_000}

_RUNG = re.compile(r"^(\d{2,4})p(?::(?:(\d+(?:\.\d+)?)([kKmM])|crf(\d{1,2})))?$")


@dataclass(frozen=True, slots=True)
class RungSpec:
    """One lower rung as configured.

    Attributes:
        height: Rung height in pixels (the width follows the aspect).
        video_bitrate: The rung's cap in video bits/s (capped CRF: the top's CRF under an
            x264 VBV cap, see ``HLSOptions.video_maxrate``), or ``None`` for ``crf`` alone.
        crf: x264 CRF when ``video_bitrate`` is ``None``.
    """

    height: int
    video_bitrate: int | None = None
    crf: int = 23

    @property
    def name(self) -> str:
        """``720p``: the rung's name in file names."""
        return f"{self.height}p"


#: ``auto``: 720p, 480p and 360p at their default bitrates.
AUTO_LADDER = tuple(RungSpec(h, DEFAULT_BITRATES[h]) for h in (720, 480, 360))


def parse_ladder(text: str) -> tuple[RungSpec, ...]:
    """The lower rungs named by an ``HLS_LADDER`` value (``()`` for ``off``).

    Raises:
        HLSError: A malformed entry, a height out of 64..4320, a CRF over 51,
            or a height given twice; the message names the entry.
    """
    value = text.strip().lower()
    if value in ("", "auto"):
        return AUTO_LADDER
    if value in ("off", "none", "0"):
        return ()
    rungs: list[RungSpec] = []
    for pos, raw in enumerate(value.split(","), 1):
        entry = raw.strip()
        m = _RUNG.match(entry)
        if m is None:
            raise HLSError(
                f"HLS_LADDER entry {pos} {entry!r}: expected <height>p[:<rate>k|:<rate>M|:crf<N>]"
            )
        height = int(m.group(1))
        if not 64 <= height <= 4320:
            raise HLSError(f"HLS_LADDER entry {pos} {entry!r}: height outside 64..4320")
        if any(r.height == height for r in rungs):
            raise HLSError(f"HLS_LADDER entry {pos} {entry!r}: height {height} given twice")
        if m.group(4) is not None:
            crf = int(m.group(4))
            if crf > 51:
                raise HLSError(f"HLS_LADDER entry {pos} {entry!r}: crf outside 0..51")
            rungs.append(RungSpec(height, None, crf))
        elif m.group(2) is not None:
            unit = 1_000 if m.group(3) == "k" else 1_000_000
            rate = round(float(m.group(2)) * unit)
            if rate < 10_000:
                raise HLSError(f"HLS_LADDER entry {pos} {entry!r}: bitrate under 10k")
            rungs.append(RungSpec(height, rate))
        else:
            rungs.append(RungSpec(height, DEFAULT_BITRATES.get(height)))
    return tuple(sorted(rungs, key=lambda r: -r.height))


@dataclass(frozen=True, slots=True)
class RungSize:
    """A lower rung fitted to one output.

    Attributes:
        spec: The configured rung.
        video: Its geometry (the output's rate and pixel aspect).
    """

    spec: RungSpec
    video: VideoFormat


def rung_sizes(output: VideoFormat, rungs: tuple[RungSpec, ...]) -> tuple[RungSize, ...]:
    """The rungs strictly below ``output``'s height, sized to keep its aspect (even sizes)."""
    out: list[RungSize] = []
    for spec in rungs:
        if spec.height >= output.height:
            continue
        height = spec.height - spec.height % 2
        width = max(2, round(output.width * height / output.height / 2) * 2)
        video = VideoFormat(
            width, height, output.fps_num, output.fps_den, output.sar_num, output.sar_den
        )
        out.append(RungSize(spec, video))
    return tuple(out)
