"""Effects benchmark: ms/frame per effect, and the 4-effect chain against ffmpeg.

For each size (720p, 1080p) a testsrc2 H.264 clip is generated in a temp dir.
In the same run, interleaved ``--repeat`` times:

- ffmpeg decode only: ``ffmpeg -i clip -f null -``;
- ffmpeg decode + filters: ``-vf negate,hue=h=90:s=1.5,boxblur=2:1,rotate=0.1 -f null -``;
  the filters' cost per frame is the difference of the two divided by frames;
- ours: the same frames, decoded once by PyAV into memory, through
  ``EffectChain(invert -> hue 90 -> saturation 1.5 -> blur 2 -> transform rotate 0.1)``.

Both wall time and CPU time are reported (ffmpeg: its user+sys CPU from
``getrusage``; ours: the thread's CPU time, the kernels are serial). On a
shared machine CPU time is the steadier figure; wall time includes waiting
for a core. Medians over the repeats.

Usage: ``python bench/effects.py [--sizes 720,1080] [--repeat 3] [--no-per-effect]``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from effects.catalog import default_registry
from effects.chain import EffectChain
from effects.frame import YUVFrame
from effects.registry import Effect, EffectSpec, ParamValue
from effects.warmup import warm_up

SIZES = {720: (1280, 720), 1080: (1920, 1080)}
FRAMES = {720: 120, 1080: 60}
FFMPEG_VF = "negate,hue=h=90:s=1.5,boxblur=2:1,rotate=0.1"


def make_clip(path: Path, width: int, height: int, frames: int) -> None:
    """testsrc2 -> H.264 yuv420p with ffmpeg."""
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=30",
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )


def decode(path: Path) -> list[YUVFrame]:
    """All frames of the clip as yuv420p buffers (PyAV)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return [
            YUVFrame.wrap(np.ascontiguousarray(f.to_ndarray(format="yuv420p"))) for f in c.decode(s)
        ]


def run_ffmpeg(path: Path, vf: str | None) -> tuple[float, float]:
    """(wall s, CPU s) of one ffmpeg run to the null muxer."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path)]
    if vf:
        cmd += ["-vf", vf]
    cmd += ["-f", "null", "-"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def timed(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """(wall s, thread CPU s) for fn(0..n-1)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    for i in range(n):
        fn(i)
    return time.perf_counter() - t0, time.thread_time() - c0


def bench_chain(size: int, repeat: int, tmp: Path) -> dict[str, float]:
    w, h = SIZES[size]
    n = FRAMES[size]
    clip = tmp / f"clip{size}.mp4"
    make_clip(clip, w, h, n)
    frames = decode(clip)
    n = len(frames)
    reg = default_registry()
    chain = EffectChain(
        [
            (reg.get("invert"), {}),
            (reg.get("hue"), {"degrees": 90.0}),
            (reg.get("saturation"), {"amount": 1.5}),
            (reg.get("blur"), {"radius": 2}),
            (reg.get("transform"), {"rotate": 0.1}),
        ],
        w,
        h,
    )
    chain.apply(frames[0])
    rows: dict[str, list[float]] = {
        k: [] for k in ("dec_w", "dec_c", "flt_w", "flt_c", "our_w", "our_c")
    }
    for _ in range(repeat):
        dw, dc = run_ffmpeg(clip, None)
        fw, fc = run_ffmpeg(clip, FFMPEG_VF)
        ow, oc = timed(lambda i: chain.apply(frames[i], frame_index=i), n)
        for k, v in zip(rows, (dw, dc, fw, fc, ow, oc), strict=True):
            rows[k].append(v * 1000 / n)
    med = {k: statistics.median(v) for k, v in rows.items()}
    med["ff_w"] = med["flt_w"] - med["dec_w"]
    med["ff_c"] = med["flt_c"] - med["dec_c"]
    med["frames"] = n
    return med


def _constant(params: dict[str, ParamValue], i: int) -> dict[str, ParamValue]:
    return params


def bench_effects(size: int, tmp: Path, iters: int) -> list[tuple[str, float, float]]:
    """(name, wall ms, CPU ms) per effect with default parameters, plus a few animated ones."""
    w, h = SIZES[size]
    clip = tmp / f"clip{size}.mp4"
    frames = decode(clip)[:8]
    cube = tmp / "lut.cube"
    g = np.linspace(0, 1, 17)
    cube.write_text(
        "LUT_3D_SIZE 17\n"
        + "".join(f"{r**0.8:.5f} {gg:.5f} {b**1.2:.5f}\n" for b in g for gg in g for r in g)
    )
    out = YUVFrame.alloc(w, h)
    reg = default_registry()
    cases: list[tuple[str, EffectSpec, Callable[[int], dict[str, ParamValue]]]] = []
    for spec in reg:
        const: dict[str, ParamValue] = {p.name: str(cube) for p in spec.params if p.type == "path"}
        cases.append((spec.name, spec, partial(_constant, const)))
    # Parameters that change every frame (what an audio-driven recipe does).
    cases.append(
        ("kaleidoscope, rotate animated", reg.get("kaleidoscope"), lambda i: {"rotate": 0.01 * i})
    )
    cases.append(("wave, phase animated", reg.get("wave"), lambda i: {"phase": 0.1 * i}))
    cases.append(
        ("transform, rotate animated", reg.get("transform"), lambda i: {"rotate": 0.1 + 0.01 * i})
    )
    res = []
    for name, spec, params in cases:
        fx = spec.factory(w, h)

        def step(
            i: int,
            fx: Effect = fx,
            spec: EffectSpec = spec,
            params: Callable[[int], dict[str, ParamValue]] = params,
        ) -> None:
            a = frames[i % len(frames)]
            b = frames[(i + 3) % len(frames)]
            fx.apply([a, b][: spec.arity], out, params(i), i)

        step(0)
        wall, cpu = timed(step, iters)
        res.append((name, wall * 1000 / iters, cpu * 1000 / iters))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="720,1080")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--iters", type=int, default=12, help="frames per effect in the per-effect table"
    )
    ap.add_argument("--no-per-effect", action="store_true")
    args = ap.parse_args()
    if not shutil.which("ffmpeg"):
        print("ffmpeg not found on PATH", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    ver = subprocess.run(
        ["ffmpeg", "-version"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    print(
        f"# effects bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, {ver}"
    )
    print(f"warm_up: {warm_up():.2f} s")
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for size in sizes:
            m = bench_chain(size, args.repeat, tmp)
            print(f"\n## {size}p chain ({m['frames']:.0f} frames, median of {args.repeat})")
            print("| | wall ms/frame | CPU ms/frame |\n|---|---|---|")
            print(f"| ffmpeg decode only | {m['dec_w']:.2f} | {m['dec_c']:.2f} |")
            print(f"| ffmpeg decode + `{FFMPEG_VF}` | {m['flt_w']:.2f} | {m['flt_c']:.2f} |")
            print(f"| ffmpeg filters (difference) | {m['ff_w']:.2f} | {m['ff_c']:.2f} |")
            print(
                f"| ours: EffectChain (3 passes after fusion) | {m['our_w']:.2f} | {m['our_c']:.2f} |"
            )
            print(
                f"\nratio ffmpeg filters / ours at {size}p: wall {m['ff_w'] / m['our_w']:.2f}x, CPU {m['ff_c'] / m['our_c']:.2f}x"
            )
        if not args.no_per_effect:
            tables = {s: bench_effects(s, tmp, args.iters) for s in sizes}
            print("\n## per effect, default parameters unless animated (ms/frame, wall / CPU)")
            print("| effect | " + " | ".join(f"{s}p" for s in sizes) + " |")
            print("|---|" + "---|" * len(sizes))
            for k, (name, *_rest) in enumerate(tables[sizes[0]]):
                cells = [f"{tables[s][k][1]:.2f} / {tables[s][k][2]:.2f}" for s in sizes]
                print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
