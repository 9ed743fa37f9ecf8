"""Resolved step configs and the content-derived cache ids computed from them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from effects.registry import Registry
from interpreter.canonical import canonical_value
from interpreter.ids import canonical_json, sha3_hex
from interpreter.nodes import Expr, NodeType, Step
from interpreter.schema import GENERATORS, resolve_fields

__all__ = ["describe_step", "hash_step", "resolved_config"]


def _fold_params(value: Any, params: Mapping[str, float]) -> Any:
    """Replace recipe-param variables in expressions by their values."""
    if isinstance(value, Expr):
        if value.op == "var" and value.args[0] in params:
            return Expr("num", (params[value.args[0]],), value.pos)
        if value.op in ("num", "var"):
            return value
        return Expr(value.op, tuple(_fold_params(a, params) for a in value.args), value.pos)
    if isinstance(value, Mapping):
        return {k: _fold_params(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_fold_params(v, params) for v in value]
    return value


def resolved_config(step: Step, registry: Registry, params: Mapping[str, float]) -> dict[str, Any]:
    """A step's config as planned: defaults filled, params folded in, canonical JSON data."""
    cfg: dict[str, Any] = dict(step.config)
    if step.type is NodeType.EFFECT:
        spec = registry.get(cfg["effect"])
        cfg = {
            "effect": cfg["effect"],
            "params": {**spec.defaults(), **dict(cfg.get("params") or {})},
        }
    elif step.type is NodeType.SOURCE and "generator" in cfg:
        gen = GENERATORS[cfg["generator"]]
        defaults = {f.name: f.default for f in gen.params}
        cfg = {
            "generator": cfg["generator"],
            "params": {**defaults, **dict(cfg.get("params") or {})},
        }
    elif step.type is not NodeType.SOURCE:
        cfg = resolve_fields(step.type, cfg)
        if step.type is NodeType.MAP and cfg.get("effect"):
            spec = registry.get(cfg["effect"])
            cfg["params"] = {**spec.defaults(), **dict(cfg.get("params") or {})}
    if step.type is NodeType.ANALYZE:
        cfg["features"] = sorted(set(cfg["features"]))
    out = canonical_value(_fold_params(cfg, params))
    resolved: dict[str, Any] = json.loads(canonical_json(out))  # JSON data, as stored in plans
    return resolved


def hash_step(node_type: str, config: Mapping[str, Any], input_ids: list[str]) -> str:
    """The cache id of a step: its type, resolved config and input cache ids (port order kept)."""
    ordered = sorted(input_ids)
    cfg = dict(config)
    if len(input_ids) > 1:
        # sorted() loses port order; record it so swapped inputs hash differently
        cfg["_ports"] = [ordered.index(c) for c in input_ids]
    return sha3_hex(node_type, canonical_json(cfg), *ordered)


def describe_step(step: Step) -> str:
    """A short human description of a step (the plan's ``name``)."""
    cfg = step.config
    if step.type is NodeType.SOURCE:
        return f"input {cfg['input']}" if "input" in cfg else f"generator {cfg.get('generator')}"
    if step.type is NodeType.EFFECT:
        return f"effect {cfg.get('effect')}"
    if step.type is NodeType.ANALYZE:
        return "analyze " + ", ".join(cfg.get("features") or [])
    return step.type.value.lower().replace("_", " ")
