"""Keep libx264 off its AVX-512 code, which made encodes non-deterministic.

Measured on an AMD EPYC (Zen 4) VM, 2026-12-06: the same frames through the
same libx264 settings in one process gave different bytes from run to run
(160x96: a first segment of 2891-2925 bytes; 854x480, the 480p ladder rung,
4 different results in 5 encodes) whenever x264 used its AVX-512 functions;
with every other instruction set it detects, 3 processes x 12 encodes were
byte-identical, as were encodes with no assembly at all. Byte identity across
workers and chunk orders depends on it, so when x264 would use AVX-512 the
encoder is given x264's own detected CPU flags less that one (``asm=<flags>``
in x264-params). x264's output does not depend on the instruction set, so
this changes nothing on machines without AVX-512.

The flags come from the libx264 this process has loaded (PyAV's, found in
``/proc/self/maps``): its ``x264_cpu_detect()`` and its ``x264_cpu_names``
table (for the AVX-512 bit of that build). Anywhere that cannot be read (not
Linux, no libx264 loaded), x264 picks its own flags as before.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

__all__ = ["x264_cpu_flags"]

log = logging.getLogger(__name__)

_MAPS = Path("/proc/self/maps")


class _CpuName(ctypes.Structure):
    # x264's x264_cpu_name_t: { const char *name; uint32_t flags; }
    _fields_ = [("name", ctypes.c_char_p), ("flags", ctypes.c_uint32)]


def _loaded_x264() -> str | None:
    try:
        maps = _MAPS.read_text()
    except OSError:
        return None
    paths = sorted({line.split()[-1] for line in maps.splitlines() if "/libx264" in line})
    return paths[0] if paths else None


def _cpu_names(lib: ctypes.CDLL) -> dict[str, int]:
    table = (_CpuName * 64).in_dll(lib, "x264_cpu_names")
    names: dict[str, int] = {}
    for entry in table:
        if not entry.flags or entry.name is None:
            break
        names[entry.name.decode("ascii", "replace")] = entry.flags
    return names


def x264_cpu_flags() -> int | None:
    """The CPU flags to give x264 (``asm=``), or ``None`` to let it detect its own.

    Returns:
        x264's detected flags less AVX-512 when it would use AVX-512; ``None``
        when it would not, or when the loaded libx264 cannot be inspected.
    """
    path = _loaded_x264()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        names = _cpu_names(lib)
        lib.x264_cpu_detect.restype = ctypes.c_uint32
        detected = int(lib.x264_cpu_detect())
    except (OSError, AttributeError, ValueError) as exc:
        log.debug("libx264 at %s not inspected: %r", path, exc)
        return None
    avx512 = names.get("AVX512", 0) & ~names.get("AVX2", 0)
    if not avx512 or not detected & avx512:
        return None
    return detected & ~avx512
