"""``artdag analyze FILE_OR_CID [--features beats,energy,...] [--json] [-o PATH] [--cache-dir DIR]``.

Runs phase 1 on one input. A path is hashed to its IPFS CID; anything else is
taken as a CID and looked up in the local cache. The result JSON is stored as
``<cache-dir>/analysis/<analysis_id>.json`` (a repeated request reads it back and
decodes nothing) and, with ``-o``, also written to PATH. Prints a summary, or
the result JSON with ``--json`` (tempo in BPM, times in seconds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from interpreter.analysis.features import FEATURES

if TYPE_CHECKING:
    from interpreter.analysis import AnalysisResult

__all__ = ["register", "run", "summary"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``analyze``."""
    p = subparsers.add_parser(
        "analyze",
        help="analyse an input: tempo, beats, energy, bands, motion, cuts",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("target", metavar="FILE_OR_CID")
    p.add_argument(
        "--features",
        default=None,
        metavar="NAMES",
        help="comma-separated: "
        + ",".join(FEATURES)
        + " or audio, video, all (default: all the input's streams allow)",
    )
    p.add_argument("--json", action="store_true", help="print the result JSON to stdout")
    p.add_argument("-o", "--output", type=Path, help="also write the result JSON here")
    p.add_argument(
        "--cache-dir", type=Path, help="cache root (default: CACHE_DIR from the environment)"
    )
    p.set_defaults(func=run)


def _cache_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    from streamer.settings import Settings

    return Settings.from_env().storage.cache_dir


def _resolve(target: str, cache_dir: Path) -> tuple[Path, str]:
    """(path, cid) of a file path or a CID stored in the local cache."""
    from cache.cid import cid_of_file

    path = Path(target)
    if path.is_file():
        return path, cid_of_file(path)
    from cache.errors import StorageError
    from cache.local import LocalStore

    try:
        return LocalStore(cache_dir).path(target), target
    except StorageError as exc:
        raise FileNotFoundError(
            f"{target}: not a file, and not in the local cache ({exc})"
        ) from exc


def _fmt_times(times: object, n: int = 8) -> str:
    values = list(times)  # type: ignore[call-overload]
    head = ", ".join(f"{t:.3f}" for t in values[:n])
    return f"[{head}{', ...' if len(values) > n else ''}] ({len(values)})"


def summary(result: AnalysisResult, source: str) -> str:
    """Human-readable summary of a result."""
    lines = [
        f"input     {source}",
        f"cid       {result.input_cid}",
        f"analysis  {result.analysis_id}",
        f"features  {', '.join(result.features)}",
    ]
    a = result.audio
    if a is not None:
        lines.append(f"audio     {a.duration:.2f} s, {a.sample_rate} Hz, {a.channels} ch")
        if a.tempo is not None:
            lines.append(f"tempo     {a.tempo:.2f} BPM")
        if len(a.beats):
            lines.append(f"beats     {_fmt_times(a.beats)}")
        if len(a.downbeats):
            lines.append(f"downbeats {_fmt_times(a.downbeats)}")
        for name in ("energy", "bass", "mid", "high"):
            env = getattr(a, name)
            if len(env):
                lines.append(
                    f"{name:<9} mean {float(env.mean()):.3f} at {a.envelope_rate} Hz "
                    f"({len(env)} values)"
                )
    v = result.video
    if v is not None:
        lines.append(
            f"video     {v.width}x{v.height} {v.codec} {v.fps:.3f} fps, "
            f"{v.duration:.2f} s, {v.frame_count} frames"
        )
        if len(v.motion):
            lines.append(f"motion    mean {float(v.motion.mean()):.4f}")
        if "cuts" in result.features:
            lines.append(f"cuts      frames {[int(c) for c in v.cuts]}")
        if v.motion_tempo is not None:
            lines.append(f"motion    tempo {v.motion_tempo:.2f} BPM")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Analyse, store and print."""
    import asyncio

    from interpreter.analysis import AnalysisCache, resolve_features
    from interpreter.errors import InterpreterError

    cache_dir = _cache_dir(args.cache_dir)
    try:
        features = (
            None if args.features is None else resolve_features(args.features, source="--features")
        )
        path, cid = _resolve(args.target, cache_dir)
    except InterpreterError as exc:
        print(f"artdag analyze: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"artdag analyze: {exc}", file=sys.stderr)
        return 2
    cache = AnalysisCache(cache_dir)
    try:
        result = asyncio.run(cache.get_or_compute(cid, path, features))
    except InterpreterError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    text = result.to_json()
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    if args.json:
        print(text)
    else:
        print(summary(result, str(path)))
        state = "cache hit" if cache.hits else "computed"
        print(f"stored    {cache.path_for(result.analysis_id)} ({state})")
    return 0
