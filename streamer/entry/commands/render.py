"""``artdag render INPUT... [--effect NAME[:k=v,...]]... [--recipe FILE] [--out DIR]``.

The quick render client. Without a server URL it renders locally: the inputs
play one after another through the effect chain (or ``--recipe`` runs with
the inputs bound to its declared inputs in order, or ``--input NAME=PATH``),
into ``--out DIR`` as a live HLS playlist plus segments named by their CIDs.
With no input and no recipe it renders a generated demo (test pattern with
clicks at 120 BPM).

With ``--server URL`` it submits instead (the spec's ``render.py dog cat``):
uploads the inputs (``POST /cache/upload``), starts a run with the same
recipe (``POST /runs``) using the Bearer token from ``--token`` or
``ARTDAG_TOKEN``, and prints the run id and its live playlist URL. ``--sync``
then polls ``GET /api/run/{id}`` until the run ends and prints the output and
playlist CIDs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interpreter.errors import InterpreterError
from interpreter.nodes import InputDecl, NodeType, Recipe, Step

if TYPE_CHECKING:
    from effects.frame import VideoFormat

__all__ = ["parse_effect", "quick_recipe", "recipe_yaml", "register", "run", "submit"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``render``."""
    p = subparsers.add_parser(
        "render",
        help="render inputs through effects (or a recipe) to HLS",
        description="Quick render. Without --server, renders locally into --out DIR "
        "(playlist.m3u8 + segments). With no INPUT and no --recipe: a generated demo.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="media files, played in order")
    p.add_argument(
        "--effect",
        action="append",
        default=[],
        metavar="NAME[:k=v,...]",
        help="effect applied in order (repeatable), e.g. hue:degrees=90",
    )
    p.add_argument("--recipe", type=Path, help="recipe file (YAML or S-expression)")
    p.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="bind a recipe input (repeatable)",
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default ./out)")
    p.add_argument("--duration", type=float, help="seconds to render")
    p.add_argument("--size", help="output size WxH (default: the first source's)")
    p.add_argument("--fps", type=float, help="output frame rate")
    p.add_argument("--segment", type=float, default=2.0, help="segment duration in seconds")
    p.add_argument("--preset", default="veryfast", help="x264 preset")
    p.add_argument("--server", help="L1 server URL: upload the inputs and start a run there")
    p.add_argument("--token", help="API token for --server (default: $ARTDAG_TOKEN)")
    p.add_argument("--pace", type=float, help="with --server: render at most this x real time")
    p.add_argument("--poll", type=float, default=0.5, help="with --server --sync: poll interval")
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


# rates people type as decimals, kept exact (29.97 is 30000/1001, not 2997/100)
_NTSC_RATES = ((24000, 1001), (30000, 1001), (60000, 1001))


def _frame_rate(fps: float) -> tuple[int, int]:
    """``--fps`` as an exact rate: 25 -> 25/1, 29.97 -> 30000/1001, 12.5 -> 25/2.

    Raises:
        ValueError: not a positive rate up to 240.
    """
    if not 0 < fps <= 240:
        raise ValueError(f"--fps {fps:g}: expected a frame rate above 0 and at most 240")
    for num, den in _NTSC_RATES:
        if abs(fps - num / den) < 0.005:
            return num, den
    rate = Fraction(fps).limit_denominator(1000)
    return rate.numerator, rate.denominator


def _frame_size(text: str) -> tuple[int, int]:
    """``--size WxH`` rounded down to even; raises ValueError naming the flag."""
    w, sep, h = text.lower().partition("x")
    if not (sep and w.isdigit() and h.isdigit()) or not (
        2 <= int(w) <= 8192 and 2 <= int(h) <= 8192
    ):
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT, each 2..8192 (e.g. 1280x720)")
    return int(w) & ~1, int(h) & ~1


def _video_format(
    args: argparse.Namespace, default: VideoFormat | None, first_input: Path | None = None
) -> VideoFormat | None:
    """The output format from ``--size``/``--fps``; what is not given comes from ``default``.

    Without a default (a file input), the missing half comes from the first input's
    video (probed), so ``--fps 25`` alone keeps the clip's size.
    """
    if not args.size and not args.fps:
        return default
    from effects.frame import VideoFormat

    if default is None and first_input is not None and not (args.size and args.fps):
        from interpreter.runtime.media import probe, video_format_of

        info = probe(first_input)
        if info.has_video:
            default = video_format_of(info)
    if args.size:
        width, height = _frame_size(args.size)
    elif default is not None:
        width, height = default.width, default.height
    else:
        raise ValueError("--fps without --size needs a video input to take the size from")
    num, den = _frame_rate(args.fps) if args.fps else (30, 1)
    if default is not None:
        # the source's pixel aspect stays; only what was asked for changes
        if not args.fps:
            num, den = default.fps_num, default.fps_den
        return dataclasses.replace(default, width=width, height=height, fps_num=num, fps_den=den)
    return VideoFormat(width, height, num, den)


def recipe_yaml(recipe: Recipe) -> str:
    """YAML text of a recipe built in code (inputs referenced by name, as the loader reads it).

    Raises:
        ValueError: a step holds something YAML cannot carry (an expression).
    """
    import yaml

    from interpreter.nodes import Expr

    def plain(v: Any, where: str) -> Any:
        if isinstance(v, Expr):
            raise ValueError(f"{where}: expressions cannot be sent to a server from here")
        if isinstance(v, dict):
            return {k: plain(x, f"{where}.{k}") for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x, where) for x in v]
        return v

    declared = {d.name for d in recipe.inputs}
    steps = []
    for st in recipe.steps:
        if st.type == NodeType.SOURCE and st.id in declared and st.config == {"input": st.id}:
            continue  # the loader makes these from ``inputs``
        item: dict[str, Any] = {"id": st.id, "type": st.type.value}
        if st.inputs:
            item["inputs"] = list(st.inputs)
        if st.config:
            item["config"] = plain(dict(st.config), f"step {st.id}")
        steps.append(item)
    doc: dict[str, Any] = {"name": recipe.name, "version": recipe.version}
    if recipe.description:
        doc["description"] = recipe.description
    doc["inputs"] = {d.name: {"type": d.type} for d in recipe.inputs}
    doc["steps"] = steps
    doc["output"] = recipe.output
    return str(yaml.safe_dump(doc, sort_keys=False))


def run(args: argparse.Namespace) -> int:
    """Entry point of ``artdag render``."""
    try:
        effects = [parse_effect(e) for e in args.effect]
        if args.server:
            return asyncio.run(submit(args, effects))
        return asyncio.run(_render_local(args, effects))
    except (InterpreterError, ValueError, ServerError) as e:
        print(f"artdag render: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


class ServerError(Exception):
    """The server refused a request or cannot be reached (the message says which)."""


def _server_recipe(
    args: argparse.Namespace, effects: list[tuple[str, dict[str, Any]]]
) -> tuple[str, dict[str, Path], dict[str, Any] | None]:
    """Recipe text to send, recipe input name -> file to upload, analysis to send."""
    inputs = [Path(p) for p in args.inputs]
    for p in inputs:
        if not p.is_file():
            raise ValueError(f"{p}: no such file")
    if args.recipe:
        from interpreter.loader import load_recipe
        from interpreter.validate import validate

        text = args.recipe.read_text()
        recipe = load_recipe(text, filename=str(args.recipe))
        validate(recipe)  # positioned errors here, before anything is uploaded
        bound = dict(zip([d.name for d in recipe.inputs], inputs, strict=False))
        for item in args.input:
            k, eq, v = item.partition("=")
            if not eq:
                raise ValueError(f"--input {item!r}: expected NAME=PATH")
            bound[k] = Path(v)
        return text, bound, None
    if inputs:
        recipe, bound = quick_recipe(inputs, effects)
        return recipe_yaml(recipe), bound, None
    from streamer.entry.demo import demo_analysis, demo_recipe_text

    # the demo's click track is generated: its analysis is known without decoding
    duration = args.duration or 10.0
    return demo_recipe_text(duration), {}, demo_analysis(duration)


async def submit(args: argparse.Namespace, effects: list[tuple[str, dict[str, Any]]]) -> int:
    """Server mode: upload, POST /runs, and with ``--sync`` wait for the run to end.

    Prints ``run_id:``, ``playlist_url:`` and, with ``--sync``, ``status:``,
    ``output_cid:`` and ``playlist_cid:`` lines (the playlist CID falls back to
    the output CID, the final playlist, when the server has no IPFS node).
    Returns 0 when the run completed (or was submitted), 1 when it failed.
    """
    import aiohttp

    from streamer.runs.status import TERMINAL_STATUSES, RunStatus

    text, files, analysis = _server_recipe(args, effects)
    token = args.token or os.environ.get("ARTDAG_TOKEN")
    if not token:
        raise ValueError("--server needs a token: --token TOKEN or ARTDAG_TOKEN")
    base = args.server.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}

    async def call(session: aiohttp.ClientSession, method: str, path: str, **kw: Any) -> Any:
        try:
            async with session.request(method, base + path, **kw) as resp:
                body = await resp.text()
                if resp.status >= 400:
                    raise ServerError(f"{method} {path}: HTTP {resp.status}: {_detail(body)}")
                return await resp.json(content_type=None)
        except aiohttp.ClientError as e:
            raise ServerError(f"{method} {path}: {e}") from e

    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        cids: dict[str, str] = {}
        for name, path in files.items():
            with path.open("rb") as f:
                up = await call(
                    session, "POST", "/cache/upload", params={"filename": path.name}, data=f
                )
            cids[name] = str(up["cid"])
            print(f"uploaded {name}: {path} -> {cids[name]}")
        body: dict[str, Any] = {"recipe": text, "inputs": cids}
        if analysis is not None:
            body["analysis"] = analysis
        if args.duration is not None:
            body["duration"] = args.duration
        if args.pace is not None:
            body["pace"] = args.pace
        run_row = await call(session, "POST", "/runs", json=body)
        run_id = str(run_row["run_id"])
        print(f"run_id: {run_id}")
        print(f"playlist_url: {base}/runs/{run_id}/playlist.m3u8", flush=True)
        if not args.sync:
            return 0
        while True:
            state = await call(session, "GET", f"/api/run/{run_id}")
            if state.get("status") in TERMINAL_STATUSES:
                break
            await asyncio.sleep(max(0.05, args.poll))
    print(f"status: {state['status']}")
    if state["status"] != RunStatus.COMPLETED:
        if state.get("error"):
            print(f"error: {state['error']}", file=sys.stderr)
        return 1
    output = state.get("output_cid")
    print(f"output_cid: {output}")
    print(f"playlist_cid: {state.get('playlist_cid') or output}")
    return 0


def _detail(body: str) -> str:
    import json

    try:
        doc = json.loads(body)
    except ValueError:
        return body[:500]
    if isinstance(doc, dict):
        return str(doc.get("detail") or doc.get("error") or doc)[:500]
    return str(doc)[:500]


async def _render_local(args: argparse.Namespace, effects: list[tuple[str, dict[str, Any]]]) -> int:
    from cache.cid import cid_of_bytes
    from effects.frame import VideoFormat
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
        from streamer.entry.demo import DEMO_EFFECTS, demo_recipe

        duration = duration or 10.0
        recipe, bound = demo_recipe(duration, effects or DEMO_EFFECTS), {}
        default_vf = VideoFormat(1280, 720, 30, 1)
    vf = _video_format(args, default_vf, next(iter(bound.values()), None))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    sink = LocalHLSOutput(
        out, HLSOptions(segment_duration=args.segment, preset=args.preset), cid_fn
    )
    started = time.perf_counter()

    def progress(p: Progress) -> None:
        print(
            f"\r{p.frames}/{p.total_frames} frames  {p.seconds:7.2f} s  {p.fps:6.1f} fps",
            end="\n" if p.done else "",
            file=sys.stderr,
            flush=True,
        )

    interp = StreamInterpreter(
        recipe, bound, sink, on_progress=progress, video_format=vf, duration=duration
    )
    result = await interp.run()
    elapsed = time.perf_counter() - started
    playlist = getattr(result, "playlist_path", out / "playlist.m3u8")
    print(f"playlist: {playlist}")
    segments = getattr(result, "segments", ())
    print(
        f"segments: {len(segments)}  duration: {getattr(result, 'duration', 0.0):.3f} s  "
        f"elapsed: {elapsed:.2f} s"
    )
    if args.sync:
        print(f"playlist_cid: {cid_fn(Path(playlist).read_bytes())}")
        for s in segments:
            print(f"segment: {getattr(s, 'uri', s)}")
    return 0
