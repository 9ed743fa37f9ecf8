"""Canonical form, recipe id and the formatters (``artdag recipe fmt``).

The canonical form is plain JSON data: metadata, inputs, params and the steps
in a deterministic topological order (ties by id), each config with
expressions as their AST JSON (``{"expr": ...}``). A YAML recipe and its
S-expression twin have the same canonical form, hence the same recipe id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from interpreter.expr import FUNCTIONS
from interpreter.ids import canonical_json, sha3_hex
from interpreter.nodes import Expr, NodeType, Recipe, Step
from interpreter.validate import topological_order

__all__ = ["canonical", "canonical_value", "format_expr", "format_sexp", "format_yaml", "recipe_id"]


def canonical_value(value: Any) -> Any:
    """A config value as canonical JSON data (expressions as ``{"expr": ast}``)."""
    if isinstance(value, Expr):
        return {"expr": value.to_json()}
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    return value


def canonical(recipe: Recipe) -> dict[str, Any]:
    """The canonical data form of a (normalised) recipe."""
    return {
        "name": recipe.name,
        "version": recipe.version,
        "description": recipe.description,
        "inputs": {i.name: {"type": i.type, "description": i.description} for i in recipe.inputs},
        "params": {
            p.name: {
                k: v
                for k, v in (
                    ("default", p.default),
                    ("min", p.min),
                    ("max", p.max),
                    ("description", p.description),
                )
                if v is not None and v != ""
            }
            for p in recipe.params
        },
        "steps": [
            {
                "id": s.id,
                "type": s.type.value,
                "inputs": list(s.inputs),
                "config": canonical_value(dict(s.config)),
            }
            for s in topological_order(recipe)
        ],
        "output": recipe.output,
    }


def recipe_id(recipe: Recipe) -> str:
    """SHA3-256 of the canonical JSON form."""
    return sha3_hex(canonical_json(canonical(recipe)))


# --- formatting ----------------------------------------------------------------

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "!=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
    "neg": 7,
    "**": 8,
}


def _num_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def format_expr(e: Expr, parent: int = 0, right: bool = False) -> str:
    """Infix text of an expression that parses back to the same tree."""
    if e.op == "num":
        return _num_text(e.args[0])
    if e.op == "var":
        return str(e.args[0])
    if e.op in _PREC and e.op not in ("neg", "not"):
        p = _PREC[e.op]
        # left-associative except **: the side that would re-associate gets parentheses
        lp, rp = (p + 1, p) if e.op == "**" else (p, p + 1)
        text = f"{format_expr(e.args[0], lp)} {e.op} {format_expr(e.args[1], rp)}"
        return f"({text})" if p < parent else text
    if e.op == "neg":
        text = "-" + format_expr(e.args[0], 8)
        return f"({text})" if parent >= 7 else text
    if e.op == "not":
        text = "not " + format_expr(e.args[0], 4)
        return f"({text})" if parent > 3 else text
    return f"{e.op}(" + ", ".join(format_expr(a) for a in e.args) + ")"


def _sexp_expr(e: Expr) -> str:
    if e.op == "num":
        return _num_text(e.args[0])
    if e.op == "var":
        return str(e.args[0])
    op = "-" if e.op == "neg" else e.op
    assert op in FUNCTIONS or op == "-"
    return f"({op} " + " ".join(_sexp_expr(a) for a in e.args) + ")"


def _plain(value: Any) -> Any:
    if isinstance(value, Expr):
        return format_expr(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _flat_config(step: Step) -> dict[str, Any]:
    cfg = dict(step.config)
    if (
        step.type is NodeType.EFFECT
        or (step.type is NodeType.SOURCE and "generator" in cfg)
        or (step.type is NodeType.MAP and cfg.get("effect"))
        or ("params" in cfg and not cfg["params"])
    ):
        params = cfg.pop("params", {}) or {}
        cfg.update(params)
    return cfg


def format_yaml(recipe: Recipe) -> str:
    """The recipe in the specification's YAML format, canonical order, expressions infix."""
    doc: dict[str, Any] = {"name": recipe.name, "version": recipe.version}
    if recipe.description:
        doc["description"] = recipe.description
    canon = canonical(recipe)
    if recipe.inputs:
        doc["inputs"] = {
            k: {f: v for f, v in d.items() if v != ""} for k, d in canon["inputs"].items()
        }
    if recipe.params:
        doc["params"] = canon["params"]
    implicit = {i.name for i in recipe.inputs}
    steps = []
    for s in topological_order(recipe):
        if s.type is NodeType.SOURCE and s.id in implicit and dict(s.config) == {"input": s.id}:
            continue  # referenced directly by name
        entry: dict[str, Any] = {"id": s.id, "type": s.type.value}
        if s.inputs:
            entry["inputs"] = list(s.inputs)
        cfg = _plain(_flat_config(s))
        if cfg:
            entry["config"] = cfg
        steps.append(entry)
    doc["steps"] = steps
    doc["output"] = recipe.output
    return yaml.safe_dump(
        doc, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )


def _sexp_atom(v: Any) -> str:
    if isinstance(v, Expr):
        return _sexp_expr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nil"
    if isinstance(v, int | float):
        return _num_text(v)
    if isinstance(v, str):
        return (
            '"'
            + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
            + '"'
        )
    if isinstance(v, list | tuple):
        return "[" + " ".join(_sexp_atom(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as an S-expression")


def format_sexp(recipe: Recipe) -> str:
    """The recipe as an S-expression, one ``def`` per step, the output last."""
    head = f"(recipe {_sexp_atom(recipe.name)} :version {_sexp_atom(recipe.version)}"
    if recipe.description:
        head += f" :description {_sexp_atom(recipe.description)}"
    lines = [head]
    for i in recipe.inputs:
        extra = f" :description {_sexp_atom(i.description)}" if i.description else ""
        lines.append(f"  (input {i.name} :type {i.type}{extra})")
    for p in recipe.params:
        opts = "".join(
            f" :{k} {_sexp_atom(v)}"
            for k, v in (("min", p.min), ("max", p.max), ("description", p.description))
            if v not in (None, "")
        )
        lines.append(f"  (param {p.name} {_sexp_atom(p.default)}{opts})")
    implicit = {i.name for i in recipe.inputs}
    for s in topological_order(recipe):
        if s.type is NodeType.SOURCE and s.id in implicit and dict(s.config) == {"input": s.id}:
            continue
        form = s.type.value.lower().replace("_", "-")
        parts = [form]
        cfg = _flat_config(s)
        if s.type is NodeType.EFFECT:
            parts.append(str(cfg.pop("effect")))
        parts.extend(s.inputs)
        parts.extend(f":{k} {_sexp_atom(v)}" for k, v in cfg.items())
        lines.append(f"  (def {s.id} ({' '.join(parts)}))")
    lines.append(f"  {recipe.output})")
    return "\n".join(lines) + "\n"
