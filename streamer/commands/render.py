"""``artdag render INPUT... [--effect NAME[:k=v,...]]... [--recipe FILE] [--out DIR]``.

The quick render client. Without a server URL it renders locally: the inputs
play one after another through the effect chain (or ``--recipe`` runs with
the inputs bound to its declared inputs in order, or ``--input NAME=PATH``),
into ``--out DIR`` as a live HLS playlist plus segments named by their CIDs.
With no input and no recipe it renders a generated demo (test pattern with
clicks at 120 BPM).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from effects.frame import VideoFormat
from interpreter.errors import InterpreterError
from interpreter.nodes import InputDecl, NodeType, Recipe, Step
from streamer.demo import DEMO_EFFECTS, demo_recipe

__all__ = ["parse_effect", "quick_recipe", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``render``."""
    p = subparsers.add_parser(
        "render",
        help="render inputs through effects (or a recipe) to HLS",
        description="Quick render. Without --server, renders locally into --out DIR "
        "(playlist.m3u8 + segments). With no INPUT and no --recipe: a generated demo.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="media files, played in order")
    p.add_argument("--effect", action="append", default=[], metavar="NAME[:k=v,...]",
                   help="effect applied in order (repeatable), e.g. hue:degrees=90")  # fmt: skip
    p.add_argument("--recipe", type=Path, help="recipe file (YAML or S-expression)")
    p.add_argument("--input", "-i", action="append", default=[], metavar="NAME=PATH",
                   help="bind a recipe input (repeatable)")  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default ./out)")
    p.add_argument("--duration", type=float, help="seconds to render")
    p.add_argument("--size", help="output size WxH (default: the first source's)")
    p.add_argument("--fps", type=float, help="output frame rate")
    p.add_argument("--segment", type=float, default=2.0, help="segment duration in seconds")
    p.add_argument("--preset", default="veryfast", help="x264 preset")
    p.add_argument("--server", help="L1 server URL (server mode; not available yet)")
    p.add_argument(
        "--sync", action="store_true", help="wait and print the output and playlist CIDs"
    )
    p.set_defaults(func=run)


def parse_effect(text: str) -> tuple[str, dict[str, Any]]:
    """``"hue:degrees=90,x=1"`` -> ``("hue", {"degrees": 90.0, "x": 1})``."""
    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise ValueError(f"--effect {text!r}: expected k=v, got {item!r}")
        params[k.strip()] = _value(v.strip())
    if not name:
        raise ValueError(f"--effect {text!r}: missing effect name")
    return name.strip(), params


def _value(v: str) -> Any:
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def quick_recipe(
    inputs: list[Path], effects: list[tuple[str, dict[str, Any]]]
) -> tuple[Recipe, dict[str, Path]]:
    """A recipe playing ``inputs`` in order through ``effects`` (a linear chain)."""
    steps: list[Step] = []
    names = [f"input{i}" for i in range(len(inputs))]
    for n in names:
        steps.append(Step(n, NodeType.SOURCE, (), {"input": n}))
    last = names[0]
    if len(names) > 1:
        steps.append(Step("sequence", NodeType.SEQUENCE, tuple(names), {"transition": "cut"}))
        last = "sequence"
    for i, (name, params) in enumerate(effects):
        sid = f"fx{i}_{name}"
        steps.append(Step(sid, NodeType.EFFECT, (last,), {"effect": name, "params": params}))
        last = sid
    decls = tuple(InputDecl(n, "video") for n in names)
    recipe = Recipe("quick-render", "1.0", "artdag render", decls, (), tuple(steps), last)
    return recipe, dict(zip(names, inputs, strict=True))


def _video_format(args: argparse.Namespace, default: VideoFormat | None) -> VideoFormat | None:
    if not args.size and not args.fps:
        return default
    if args.size:
        w, _, h = args.size.lower().partition("x")
        width, height = int(w) & ~1, int(h) & ~1
    else:
        assert default is not None
        width, height = default.width, default.height
    fps = args.fps or (default.fps if default else 30.0)
    num, den = (round(fps), 1) if float(fps).is_integer() else (round(fps * 1000), 1000)
    return VideoFormat(width, height, num, den)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``artdag render``."""
    if args.server:
        print("artdag render: server mode is not available yet; omit --server to render locally",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        effects = [parse_effect(e) for e in args.effect]
        return asyncio.run(_render_local(args, effects))
    except (InterpreterError, ValueError) as e:
        print(f"artdag render: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _render_local(args: argparse.Namespace, effects: list[tuple[str, dict[str, Any]]]) -> int:
    from cache.cid import cid_of_bytes
    from hls.options import HLSOptions
    from hls.output import LocalHLSOutput
    from interpreter.stream import Progress, StreamInterpreter

    def cid_fn(data: bytes) -> str:
        return cid_of_bytes(data)

    inputs = [Path(p) for p in args.inputs]
    for p in inputs:
        if not p.exists():
            raise ValueError(f"{p}: no such file")
    duration = args.duration
    default_vf: VideoFormat | None = None
    if args.recipe:
        from interpreter.loader import load_recipe
        from interpreter.validate import validate

        recipe = load_recipe(args.recipe.read_text(), filename=str(args.recipe))
        validate(recipe)
        bound: dict[str, Path] = dict(zip([d.name for d in recipe.inputs], inputs, strict=False))
        for item in args.input:
            k, eq, v = item.partition("=")
            if not eq:
                raise ValueError(f"--input {item!r}: expected NAME=PATH")
            bound[k] = Path(v)
    elif inputs:
        recipe, bound = quick_recipe(inputs, effects)
    else:
        duration = duration or 10.0
        recipe, bound = demo_recipe(duration, effects or DEMO_EFFECTS), {}
        default_vf = VideoFormat(1280, 720, 30, 1)
    vf = _video_format(args, default_vf)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    sink = LocalHLSOutput(
        out, HLSOptions(segment_duration=args.segment, preset=args.preset), cid_fn
    )
    started = time.perf_counter()

    def progress(p: Progress) -> None:
        print(f"\r{p.frames}/{p.total_frames} frames  {p.seconds:7.2f} s  {p.fps:6.1f} fps",
              end="\n" if p.done else "", file=sys.stderr, flush=True)  # fmt: skip

    interp = StreamInterpreter(
        recipe, bound, sink, on_progress=progress, video_format=vf, duration=duration
    )
    result = await interp.run()
    elapsed = time.perf_counter() - started
    playlist = getattr(result, "playlist_path", out / "playlist.m3u8")
    print(f"playlist: {playlist}")
    segments = getattr(result, "segments", ())
    print(f"segments: {len(segments)}  duration: {getattr(result, 'duration', 0.0):.3f} s  "
          f"elapsed: {elapsed:.2f} s")  # fmt: skip
    if args.sync:
        print(f"playlist_cid: {cid_fn(Path(playlist).read_bytes())}")
        for s in segments:
            print(f"segment: {getattr(s, 'uri', s)}")
    return 0
