"""ABR ladder benchmark: our 4-rung ladder vs ffmpeg's split + 4 encodes + hls muxer.

A 30 s 1080p25 testsrc2 clip with a sine tone is generated at run time; then,
in the same run and interleaved, each pipeline renders the effects chain of
the effects issue and encodes a 4-rung ladder (1080p CRF 23; 720p 2800k,
480p 1400k, 360p 800k; x264 ``veryfast``, AAC 128k muxed into every rung,
keyframes every 2 s, aligned) to HLS with a multivariant playlist:

- ours: invert -> hue 90 + saturation 1.5 -> blur radius 2 -> transform
  rotate 0.1 through ``StreamInterpreter`` (the chain runs once per frame)
  into ``hls.ladder.LadderOutput`` (numba area downscale per rung, each
  lower rung encoded in its own thread) with ``HLS_LADDER=auto``;
- ffmpeg: ``-filter_complex negate,hue=h=90:s=1.5,boxblur=2:1,rotate=0.1,
  split=4`` with ``scale=...:flags=area`` per lower rung, four libx264 and
  four AAC encodes, ``-f hls -var_stream_map ... -master_pl_name master.m3u8``.

Each measurement runs in a fresh subprocess (ours warm: numba caches loaded
and a 1 s render done first, as in a worker). Printed: fps of both, the ratio,
the real-time factor (clip seconds / wall seconds) and CPU per frame.
``--per-rung`` also renders ours with the top rung only, then top + 720p,
then + 480p (the full ladder being the last step), on ``--per-rung-seconds``
of the clip: the wall and CPU added by each rung is its cost.

``--threads-only`` compares the full ladder with its lower rungs scaled and
encoded in their own threads (the default) and in the pipeline thread.

Usage: ``python bench/ladder.py [--seconds 30] [--repeat 2] [--per-rung]
[--threads-only]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interpreter.nodes import Recipe

# bench/ holds other benchmark scripts that would shadow the project's packages
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

FPS = 25
FFMPEG_VF = "negate,hue=h=90:s=1.5,boxblur=2:1,rotate=0.1"
#: (height, width, x264 rate option) of the lower rungs, as ``HLS_LADDER=auto`` at 1080p.
LOWER = ((720, 1280, "2800k"), (480, 854, "1400k"), (360, 640, "800k"))
STEPS = {"top": "off", "top+720p": "720p:2800k", "top+720p+480p": "720p:2800k,480p:1400k"}
STEPS["full"] = "auto"


def make_clip(path: Path, seconds: float) -> None:
    """A 1080p25 testsrc2 H.264 clip with a sine tone (bench/live.py's, at 25 fps)."""
    from bench.live import make_clip as make_live_clip

    make_live_clip(path, 1080, seconds, fps=FPS)


def _recipe() -> Recipe:
    from bench.live import chain_recipe

    return chain_recipe("bench-ladder")


def _cpu(who: int) -> float:
    from bench.live import cpu_seconds

    return cpu_seconds(who)


async def _ours_once(
    clip: Path, out: Path, ladder: str, duration: float | None, serial: bool = False
) -> dict[str, Any]:
    from cache.cid import cid_of_bytes
    from hls.ladder import LadderOutput
    from hls.ladder_config import parse_ladder
    from hls.options import HLSOptions
    from hls.output import LocalHLSOutput
    from interpreter.stream import StreamInterpreter

    options = HLSOptions(segment_duration=2.0, preset="veryfast")
    top = LocalHLSOutput(out, options, cid_of_bytes)
    sink = LadderOutput(top, parse_ladder(ladder), lambda o: LocalHLSOutput(out, o, cid_of_bytes))
    interp = StreamInterpreter(_recipe(), {"video": clip}, sink, duration=duration)
    c0 = _cpu(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await interp.run()
    wall = time.perf_counter() - t0
    master = out / "master.m3u8"
    return {
        "cpu": _cpu(resource.RUSAGE_SELF) - c0,
        "frames": interp.total_frames,
        "wall": wall,
        "rungs": len(sink.rung_names) or 1,
        "master": master.read_text() if master.exists() else "",
    }


def run_ours(
    clip: Path, ladder: str, duration: float | None, serial: bool = False
) -> dict[str, Any]:
    """Warm up, then one measured render (in this process)."""
    from effects.warmup import warm_up
    from hls.scaler import warm_scaler

    with tempfile.TemporaryDirectory() as d:
        with contextlib.suppress(Exception):  # an optimisation; the 1 s render warms anyway
            warm_up()
            warm_scaler()
        asyncio.run(_ours_once(clip, Path(d) / "warm", ladder, 1.0, serial))
        r = asyncio.run(_ours_once(clip, Path(d) / "out", ladder, duration, serial))
    r["fps"] = r["frames"] / r["wall"]
    r["cpu_ms_per_frame"] = 1000 * r["cpu"] / r["frames"]
    return r


def ffmpeg_command(clip: Path, out: Path) -> list[str]:
    """ffmpeg: the chain once, split into 4, 3 area downscales, 4 x264 + 4 AAC, hls + master."""
    labels = "".join(f"[v{i}]" for i in range(4))
    graph = f"[0:v]{FFMPEG_VF},split=4{labels}"
    for i, (h, w, _) in enumerate(LOWER, 1):
        graph += f";[v{i}]scale={w}:{h}:flags=area[s{i}]"
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-filter_complex", graph]
    cmd += ["-map", "[v0]"] + [a for i in range(1, 4) for a in ("-map", f"[s{i}]")]
    cmd += ["-map", "0:a"] * 4
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf:v:0", "23"]
    for i, (_, _, rate) in enumerate(LOWER, 1):
        # capped CRF, as ours: the top's CRF under a VBV cap of the rung's rate
        bufsize = f"{2 * int(rate.rstrip('kK'))}k"
        cmd += [f"-crf:v:{i}", "23", f"-maxrate:v:{i}", rate, f"-bufsize:v:{i}", bufsize]
    cmd += ["-c:a", "aac", "-b:a", "128k", "-force_key_frames", "expr:gte(t,n_forced*2)"]
    cmd += [
        "-f",
        "hls",
        "-hls_time",
        "2",
        "-hls_playlist_type",
        "event",
        "-var_stream_map",
        " ".join(f"v:{i},a:{i}" for i in range(4)),
        "-master_pl_name",
        "master.m3u8",
        "-hls_segment_filename",
        str(out / "stream_%v_%03d.ts"),
        str(out / "stream_%v.m3u8"),
    ]
    return cmd


def run_ffmpeg(clip: Path) -> dict[str, Any]:
    """ffmpeg doing the same chain and ladder."""
    with tempfile.TemporaryDirectory() as d:
        c0 = _cpu(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(ffmpeg_command(clip, Path(d)), check=True)
        wall = time.perf_counter() - t0
        cpu = _cpu(resource.RUSAGE_CHILDREN) - c0
        master = (Path(d) / "master.m3u8").read_text()
    frames = _count_frames(clip)
    return {
        "frames": frames,
        "wall": wall,
        "fps": frames / wall,
        "cpu_ms_per_frame": 1000 * cpu / frames,
        "rungs": master.count("#EXT-X-STREAM-INF"),
        "master": master,
    }


def _count_frames(clip: Path) -> int:
    from bench.live import count_frames

    return count_frames(clip)


def _child(
    kind: str, clip: Path, ladder: str = "auto", seconds: float = 0.0, serial: bool = False
) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", kind, "--clip", str(clip), "--ladder", ladder]
    if serial:
        args.append("--serial")
    if seconds:
        args += ["--child-seconds", str(seconds)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=_HERE.parent)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--per-rung", action="store_true")
    ap.add_argument("--per-rung-seconds", type=float, default=10.0)
    ap.add_argument("--child", choices=["ours", "ffmpeg"])
    ap.add_argument("--clip", type=Path)
    ap.add_argument("--ladder", default="auto")
    ap.add_argument("--child-seconds", type=float, default=0.0)
    ap.add_argument(
        "--serial", action="store_true", help="child: lower rungs in the pipeline thread"
    )
    ap.add_argument(
        "--threads-only",
        action="store_true",
        help="only compare ours with the rungs in threads vs in the pipeline thread",
    )
    args = ap.parse_args()
    if args.child:
        if args.child == "ours":
            r = run_ours(args.clip, args.ladder, args.child_seconds or None, args.serial)
        else:
            r = run_ffmpeg(args.clip)
        print(json.dumps(r))
        return 0
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not found", file=sys.stderr)
        return 2
    print(
        f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"load average at start: {os.getloadavg()}", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as d:
        clip = Path(d) / "clip1080.mp4"
        make_clip(clip, args.seconds)
        if args.threads_only:
            _threads(clip, args.per_rung_seconds, args.repeat)
            return 0
        for _ in range(args.repeat):
            for kind in ("ffmpeg", "ours"):
                r = _child(kind, clip)
                r.update(kind=kind, load=os.getloadavg()[0])
                results.append(r)
                print(
                    f"1080p ladder {kind:6s} {r['rungs']} rungs {r['fps']:6.1f} fps  "
                    f"wall {r['wall']:6.2f} s  real time x{args.seconds / r['wall']:.2f}  "
                    f"CPU {r['cpu_ms_per_frame']:6.1f} ms/frame  load {r['load']:.1f}",
                    flush=True,
                )
        med = {
            kind: {
                k: statistics.median(r[k] for r in results if r["kind"] == kind)
                for k in ("fps", "wall", "cpu_ms_per_frame", "load")
            }
            for kind in ("ffmpeg", "ours")
        }
        f, o = med["ffmpeg"], med["ours"]
        print(
            f"medians of {args.repeat}: fps {f['fps']:.1f} / {o['fps']:.1f} "
            f"({o['fps'] / f['fps']:.2f}x ffmpeg), real time x{args.seconds / f['wall']:.2f} / "
            f"x{args.seconds / o['wall']:.2f}, CPU {f['cpu_ms_per_frame']:.1f} / "
            f"{o['cpu_ms_per_frame']:.1f} ms/frame, load {f['load']:.1f} / {o['load']:.1f} "
            "(ffmpeg / ours)"
        )
        ours_master = next(r["master"] for r in results if r["kind"] == "ours")
        ff_master = next(r["master"] for r in results if r["kind"] == "ffmpeg")
        print("ours master.m3u8:\n" + ours_master + "ffmpeg master.m3u8:\n" + ff_master)
        if args.per_rung:
            _per_rung(clip, args.per_rung_seconds)
    return 0


def _threads(clip: Path, seconds: float, repeat: int) -> None:
    """The full ladder with the lower rungs in threads vs in the pipeline thread."""
    for _ in range(repeat):
        for serial in (False, True):
            r = _child("ours", clip, "auto", seconds, serial)
            print(
                f"rungs {'in the pipeline thread' if serial else 'in their own threads':26s} "
                f"{r['fps']:6.1f} fps  CPU {r['cpu_ms_per_frame']:6.1f} ms/frame  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


def _per_rung(clip: Path, seconds: float) -> None:
    """Ours with 1, 2, 3, 4 rungs on the first ``seconds``: what each rung adds."""
    prev: dict[str, Any] | None = None
    for step, ladder in STEPS.items():
        r = _child("ours", clip, ladder, seconds)
        line = (
            f"per rung ({seconds:.0f} s) {step:14s} {r['fps']:6.1f} fps  "
            f"wall {1000 * r['wall'] / r['frames']:6.1f} ms/frame  "
            f"CPU {r['cpu_ms_per_frame']:6.1f} ms/frame"
        )
        if prev is not None:
            line += (
                f"  (+{1000 * (r['wall'] - prev['wall']) / r['frames']:.1f} ms wall, "
                f"+{r['cpu_ms_per_frame'] - prev['cpu_ms_per_frame']:.1f} ms CPU per frame)"
            )
        print(line + f"  load {os.getloadavg()[0]:.1f}", flush=True)
        prev = r


if __name__ == "__main__":
    sys.exit(main())
