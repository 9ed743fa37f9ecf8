"""CLI start-up benchmark: whole-process wall time of ``artdag`` commands.

Each command runs as its own process (the ``artdag`` console script next to
this Python, else ``python -m streamer.entry.cli``), ``--repeat`` times after
one unmeasured warm-up run (which also fills numba's on-disk cache); the table
shows the median, min and max against the goals of issue 10:

- ``artdag --help`` and ``artdag COMMAND --help``: under 0.3 s;
- ``artdag recipe check recipes/effects-chain.yaml``: under 1 s;
- ``artdag render``: decoding starts within 1 s. "Decoding starts" is the
  first source frame decoded and converted (the first call of
  ``interpreter.runtime.sources.scale_frame``), measured from just before the
  process is spawned. To see that moment the render runs through this file's
  ``--child-render`` mode: a meta-path hook wraps ``scale_frame`` when its
  module is first imported (nothing is imported ahead of the CLI) and prints
  a wall-clock stamp. The same runs also give the time until the playlist
  file lists a segment (polled every 10 ms, as bench/live.py does) and the
  process's exit.

Then a whole 20 s render as a process against ffmpeg doing the same chain
(bench/live.py's: invert, hue 90, saturation 1.5, blur 2, rotate 0.1, x264
veryfast, 2 s HLS segments, AAC audio), interleaved in the same run.

``--baseline DIR`` measures another checkout as well ("before", e.g. from
``git archive COMMIT | tar -x -C DIR``), its runs taking turns with this
checkout's so both see the same machine load; it runs ``python -m
streamer.entry.cli`` in DIR, which puts DIR first on the path. The last
column is the load average when the row started (the machine is shared).

Usage: ``python bench/cli.py [--repeat 7] [--render-repeat 3] [--seconds 20] [--baseline DIR]``.
"""

from __future__ import annotations

import sys
import time

CHILD = "--child-render"
STAMP = "ARTDAG_BENCH_FIRST_FRAME"


def _child_render(root: str, argv: list[str]) -> int:
    """Run ``artdag`` from ``root`` with ``argv``, printing a stamp at the first decoded frame."""
    from pathlib import Path
    from types import ModuleType

    here = Path(__file__).resolve().parent
    # bench/effects.py would shadow the effects package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, root)
    target = "interpreter.runtime.sources"

    def instrument(module: ModuleType) -> None:
        original = module.scale_frame
        seen: list[bool] = []

        def scale_frame(*args: Any, **kwargs: Any) -> Any:
            frame = original(*args, **kwargs)
            if not seen:
                seen.append(True)
                print(f"{STAMP} {time.time():.6f}", file=sys.stderr, flush=True)
            return frame

        module.__dict__["scale_frame"] = scale_frame

    class Hook:
        """Wraps the loader of ``target`` so the module is instrumented once executed."""

        def find_spec(self, name: str, path: Any, target_module: Any = None) -> Any:
            if name != target:
                return None
            sys.meta_path.remove(self)
            from importlib.util import find_spec

            spec = find_spec(name)
            assert spec is not None and spec.loader is not None
            run = spec.loader.exec_module

            def exec_module(module: ModuleType) -> None:
                run(module)
                instrument(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, Hook())
    from streamer.entry.cli import main as artdag

    return artdag(argv)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == CHILD:
    sys.exit(_child_render(sys.argv[2], sys.argv[3:]))

# The parent's imports come after the child's exit: the child must not pay for them.
import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    "analyze",
    "effects",
    "plan",
    "recipe",
    "render",
    "serve",
    "services",
    "token",
    "worker",
)
RECIPE = "recipes/effects-chain.yaml"
EFFECTS = (
    "invert",
    "hue:degrees=90",
    "saturation:amount=1.5",
    "blur:radius=2",
    "transform:rotate=0.1",
)
FFMPEG_VF = "negate,hue=h=90:s=1.5,boxblur=2:1,rotate=0.1"


def artdag(root: Path) -> list[str]:
    """The command that starts the CLI in ``root``, as a user would."""
    script = Path(sys.executable).parent / "artdag"
    if root == ROOT and script.exists():
        return [str(script)]
    return [sys.executable, "-m", "streamer.entry.cli"]


def wall(cmd: list[str], cwd: Path) -> float:
    """Seconds from spawn to exit; the command must succeed."""
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def make_clip(path: Path, seconds: float, size: str = "1280x720") -> None:
    """A testsrc2 H.264 clip at 30 fps with a sine tone, made by ffmpeg."""
    video = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    codecs = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    end = ["-t", str(seconds), "-shortest", str(path)]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *video, *audio, *codecs, *end], check=True)


def _poll_playlist(path: Path, found: list[float], stop: threading.Event) -> None:
    while not stop.is_set() and not found:
        try:
            if "#EXTINF" in path.read_text():
                found.append(time.time())
                return
        except OSError:
            pass
        time.sleep(0.01)


def render_process(root: Path, args: list[str], out: Path) -> dict[str, float]:
    """One ``artdag render ... --out out`` process: seconds to first frame, segment, exit."""
    listed: list[float] = []
    stop = threading.Event()
    poll = threading.Thread(target=_poll_playlist, args=(out / "playlist.m3u8", listed, stop))
    poll.start()
    c0 = _children_cpu()
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, __file__, CHILD, str(root), "render", *args, "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    t1 = time.time()
    cpu = _children_cpu() - c0
    stop.set()
    poll.join()
    if proc.returncode:
        raise RuntimeError(f"render failed ({proc.returncode}): {proc.stderr[-2000:]}")
    stamps = [ln.split()[1] for ln in proc.stderr.splitlines() if ln.startswith(STAMP)]
    return {
        "first_frame": float(stamps[0]) - t0 if stamps else float("nan"),
        "first_segment": listed[0] - t0 if listed else float("nan"),
        "exit": t1 - t0,
        "cpu": cpu,
    }


def _children_cpu() -> float:
    """User + system seconds of the waited-for child processes so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def ffmpeg_process(clip: Path, out: Path) -> dict[str, float]:
    """ffmpeg rendering the same chain to HLS: seconds from spawn to exit, CPU seconds."""
    out.mkdir(parents=True, exist_ok=True)
    codecs = ["-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"]
    hls = ["-force_key_frames", "expr:gte(t,n_forced*2)", "-f", "hls", "-hls_time", "2"]
    hls += ["-hls_playlist_type", "event", str(out / "out.m3u8")]
    c0 = _children_cpu()
    seconds = wall(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-vf", FFMPEG_VF, *codecs, *hls], out
    )
    return {"exit": seconds, "cpu": _children_cpu() - c0}


Tree = tuple[str, Path]  # label ("before"/"after"), checkout


def _stats(runs: list[float]) -> str:
    return f"**{statistics.median(runs):.3f}** ({min(runs):.3f}-{max(runs):.3f})"


def _line(name: str, goal: float | None, samples: dict[str, list[float]], load: float) -> str:
    """One table row: the goal, then each tree's median (min-max); the verdict is the last's."""
    med = statistics.median(samples["after"])
    verdict = "" if goal is None else (" ok" if med < goal else " MISSED")
    goal_text = "—" if goal is None else f"< {goal:g} s"
    cells = " | ".join(_stats(runs) for runs in samples.values())
    return f"| {name} | {goal_text} | {cells}{verdict} | {load:.1f} |"


def _interleaved(
    trees: list[Tree], repeat: int, sample: Callable[[Path, int], Any]
) -> dict[str, list[Any]]:
    """``repeat`` samples per tree, the trees taking turns (one warm-up each first)."""
    for _, root in trees:
        sample(root, -1)
    out: dict[str, list[Any]] = {label: [] for label, _ in trees}
    for i in range(repeat):
        for label, root in trees:
            out[label].append(sample(root, i))
    return out


def startup_rows(trees: list[Tree], repeat: int, clip: Path, tmp: Path) -> None:
    """Every start-up case, printed as a table row when measured."""
    cases: list[tuple[str, float | None, list[str]]] = [("artdag --help", 0.3, ["--help"])]
    cases += [(f"artdag {c} --help", 0.3, [c, "--help"]) for c in COMMANDS]
    cases += [
        (f"artdag recipe check {RECIPE}", 1.0, ["recipe", "check", RECIPE]),
        ("artdag effects list", None, ["effects", "list"]),
    ]
    for name, goal, argv in cases:
        load = os.getloadavg()[0]

        def run(root: Path, _: int, argv: list[str] = argv) -> float:
            return wall(artdag(root) + argv, root)

        print(_line(name, goal, _interleaved(trees, repeat, run), load), flush=True)
    fx = [a for e in EFFECTS for a in ("--effect", e)]
    args = [str(clip), *fx, "--duration", "2"]
    load = os.getloadavg()[0]
    # the warm-up run also fills numba's cache if it is empty
    runs = _interleaved(
        trees, repeat, lambda root, i: render_process(root, args, tmp / f"{root.name}{i}")
    )
    for key, label, goal in (
        ("first_frame", "first frame decoded", 1.0),
        ("first_segment", "first segment listed", None),
        ("exit", "exit (2 s rendered)", None),
    ):
        samples = {tree: [r[key] for r in rs] for tree, rs in runs.items()}
        print(_line(f"artdag render (5 effects, 720p): {label}", goal, samples, load), flush=True)


def versus_ffmpeg(trees: list[Tree], repeat: int, clip: Path, seconds: float, tmp: Path) -> None:
    """A whole render as a process against ffmpeg, interleaved: wall and CPU seconds."""
    fx = [a for e in EFFECTS for a in ("--effect", e)]
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in ["ffmpeg"] + [t[0] for t in trees]}
    for i in range(repeat):
        runs["ffmpeg"].append(ffmpeg_process(clip, tmp / f"ff{i}"))
        for label, root in trees:
            runs[label].append(render_process(root, [str(clip), *fx], tmp / f"{label}{i}"))
        line = ", ".join(
            f"{k} {r[-1]['exit']:.2f} s ({r[-1]['cpu']:.1f} s CPU)" for k, r in runs.items()
        )
        print(f"run {i + 1} (load {os.getloadavg()[0]:.1f}): {line}", flush=True)
    med = {
        k: {m: statistics.median(r[m] for r in rs) for m in ("exit", "cpu")}
        for k, rs in runs.items()
    }
    f = med["ffmpeg"]
    print(f"\n{seconds:g} s 720p clip, whole processes, medians of {repeat}:")
    print(f"- ffmpeg: {f['exit']:.2f} s, {f['cpu']:.1f} s CPU")
    for label, _ in trees:
        o = med[label]
        print(
            f"- artdag render ({label}): {o['exit']:.2f} s, {o['cpu']:.1f} s CPU: "
            f"**{f['exit'] / o['exit']:.2f}x** ffmpeg's speed, {f['cpu'] / o['cpu']:.2f}x in CPU"
        )


def main() -> int:
    """Run the benchmark and print Markdown tables."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per start-up case")
    ap.add_argument("--render-repeat", type=int, default=3, help="runs of the whole render")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the whole render")
    ap.add_argument("--skip-render", action="store_true", help="only the start-up cases")
    ap.add_argument("--skip-startup", action="store_true", help="only the whole render")
    ap.add_argument("--baseline", type=Path, help="another checkout, measured in turn with this")
    args = ap.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not found", file=sys.stderr)
        return 2
    trees: list[Tree] = [("after", ROOT)]
    if args.baseline is not None:
        trees.insert(0, ("before", args.baseline.resolve()))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {os.getloadavg()}"
    )
    if not args.skip_startup:
        heads = " | ".join(f"{label} median s (min-max)" for label, _ in trees)
        print(f"\n| command | goal | {heads} | load |\n|---|---|" + "---|" * len(trees) + "---|")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clip = tmp / "clip.mp4"
        make_clip(clip, args.seconds)
        if not args.skip_startup:
            startup_rows(trees, args.repeat, clip, tmp)
        if not args.skip_render:
            versus_ffmpeg(trees, args.render_repeat, clip, args.seconds, tmp)
    print(f"\nload average at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
