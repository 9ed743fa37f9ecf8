"""``artdag effects list [--json]`` and ``artdag effects show NAME [--json]``.

Prints the effect registry: names, categories, parameters (type, default,
range, unit, doc), whether an effect is temporal, its input count and the
layout its kernel works in.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from effects.catalog import default_registry
from effects.registry import EffectSpec, ParamSpec, UnknownEffectError

__all__ = ["register", "run", "spec_to_dict"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``effects`` with ``list`` and ``show``."""
    p = subparsers.add_parser("effects", help="list and describe the registered effects")
    sub = p.add_subparsers(dest="effects_cmd", required=True)
    ls = sub.add_parser("list", help="all effects, one per line")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser("show", help="one effect with its parameters")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _param_dict(p: ParamSpec) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": p.name,
        "type": p.type,
        "default": list(p.default) if isinstance(p.default, tuple) else p.default,
        "min": p.min,
        "max": p.max,
        "unit": p.unit,
        "doc": p.doc,
        "animatable": p.animatable,
    }
    if p.choices:
        d["choices"] = list(p.choices)
    return d


def spec_to_dict(spec: EffectSpec) -> dict[str, Any]:
    """JSON-ready description of one effect."""
    return {
        "name": spec.name,
        "doc": spec.doc,
        "category": spec.category,
        "layout": spec.layout,
        "temporal": spec.temporal,
        "arity": spec.arity,
        "fusable": spec.fusable,
        "params": [_param_dict(p) for p in spec.params],
    }


def _param_line(p: ParamSpec) -> str:
    rng = f" {p.range_text().removeprefix('accepted range ')}" if p.type in ("float", "int") else ""
    choices = f" one of {', '.join(p.choices)}" if p.choices else ""
    return f"  {p.name:<12} {p.type:<6} default {p.default!s:<16}{rng}{choices}  {p.doc}"


def run(args: argparse.Namespace) -> int:
    """Print the registry or one effect; 2 for an unknown name."""
    reg = default_registry()
    if args.effects_cmd == "list":
        if args.json:
            print(json.dumps([spec_to_dict(s) for s in reg], indent=2))
            return 0
        for s in reg:
            flags = ("temporal " if s.temporal else "") + (
                f"{s.arity} inputs " if s.arity > 1 else ""
            )
            print(f"{s.name:<14} {s.category:<10} {flags}{s.doc}")
        return 0
    try:
        spec = reg.get(args.name)
    except UnknownEffectError as exc:
        print(f"artdag effects: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(spec_to_dict(spec), indent=2))
        return 0
    print(
        f"{spec.name} ({spec.category}, layout {spec.layout}, {spec.arity} input{'s' if spec.arity > 1 else ''}"
        f"{', temporal' if spec.temporal else ''}{', fusable' if spec.fusable else ''})"
    )
    print(f"  {spec.doc}")
    print("parameters:" if spec.params else "no parameters")
    for p in spec.params:
        print(_param_line(p))
    return 0
