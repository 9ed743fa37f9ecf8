"""``artdag plan FILE -i NAME=PATH_OR_CID ... [--param K=V] [--json] [--cache-dir DIR]``.

Validates the recipe, binds inputs (a path is hashed to its IPFS CID, anything
else is taken as a CID) and prints the execution plan: levels, cache ids and
which steps are already cached (a file or folder named by the cache id in
``--cache-dir``). ``--json`` prints the plan JSON (each step with its level).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interpreter.planner import ExecutionPlan

__all__ = ["bind_inputs", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``plan``."""
    p = subparsers.add_parser("plan", help="print the execution plan of a recipe")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="NAME=PATH_OR_CID",
        help="bind a recipe input (repeatable)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="override a recipe param (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--cache-dir", type=Path, help="mark steps whose cache id exists in DIR")
    p.set_defaults(func=run)


def bind_inputs(pairs: list[str]) -> dict[str, str]:
    """``NAME=PATH_OR_CID`` pairs to name -> CID (files are hashed as ``ipfs add`` would).

    Raises:
        ValueError: A pair without ``=`` or with an empty side.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"expected NAME=PATH_OR_CID, got {pair!r}")
        path = Path(value)
        if path.is_file():
            from cache.cid import cid_of_file

            out[name] = cid_of_file(path)
        else:
            out[name] = value
    return out


def _params(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ValueError(f"expected NAME=NUMBER, got {pair!r}")
    return out


def _print_plan(plan: ExecutionPlan) -> None:
    print(f"plan {plan.plan_id}")
    print(f"recipe {plan.recipe_name!r} {plan.recipe_id}")
    for req in plan.analysis:
        print(f"analyze {req.input_step} [{', '.join(req.features)}] -> {req.analysis_id[:16]}")
    for n, level in enumerate(plan.levels):
        print(f"level {n}:")
        for s in level:
            mark = "cached" if s.cached else "run"
            ins = f" <- {', '.join(s.inputs)}" if s.inputs else ""
            print(f"  {s.step_id:<20} {s.node_type:<10} {s.cache_id[:16]}  {mark:<6} {s.name}{ins}")
    todo = sum(not s.cached for s in plan.steps)
    print(
        f"{len(plan.steps)} steps in {len(plan.levels)} levels, {todo} to run; output {plan.output}"
    )


def run(args: argparse.Namespace) -> int:
    """Plan the recipe and print it."""
    from interpreter.errors import InterpreterError
    from interpreter.loader import load_file
    from interpreter.planner import plan_recipe

    try:
        inputs = bind_inputs(args.input)
        params = _params(args.param)
    except (ValueError, OSError) as exc:
        print(f"artdag plan: {exc}", file=sys.stderr)
        return 2
    cache_dir: Path | None = args.cache_dir

    def is_cached(cache_id: str) -> bool:
        return cache_dir is not None and (cache_dir / cache_id).exists()

    try:
        plan = plan_recipe(load_file(args.file), inputs, is_cached, params)
    except InterpreterError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(plan.to_json(indent=2))
    else:
        _print_plan(plan)
    return 0
