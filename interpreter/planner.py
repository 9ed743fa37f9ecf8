"""Phase 1 and 2 of the 3-phase model: analysis requests and the execution plan.

A plan lists every step with a content-derived cache id (a Merkle hash), its
level (longest distance from a source) and whether the cache already holds
its output. Steps of one level are independent and may run in parallel.

Cache ids:

- SOURCE bound to an input: the input's content CID.
- SOURCE generator: ``SHA3-256(canonical JSON of {generator, params})`` with
  every default filled in.
- ANALYZE: ``analysis_id(input cache id, features)``, the specification's
  analysis id with the input's cache id as its "input hash".
- any other step: ``SHA3-256(type | canonical JSON config | sorted input
  cache ids)``; where port order matters (two or more inputs) the config
  carries ``"_ports"``: the index of each port's input in the sorted list,
  so ``BLEND(a, b)`` and ``BLEND(b, a)`` differ.

Configs are resolved: schema defaults filled, recipe params folded into
expressions as constants, expressions as ``{"expr": ast}``. A SEQUENCE of N
parts becomes a tree of pairwise joins in ``ceil(log2 N)`` levels.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from effects.registry import Registry
from interpreter.canonical import canonical_value, recipe_id
from interpreter.errors import MissingInputError, ParamRangeError, PlanError
from interpreter.ids import analysis_id, canonical_json, sha3_hex
from interpreter.nodes import Expr, NodeType, Recipe, Step
from interpreter.schema import GENERATORS, resolve_fields
from interpreter.validate import default_registry, topological_order, validate

__all__ = ["PLAN_VERSION", "AnalysisRequest", "ExecutionPlan", "PlanStep", "plan_recipe"]

PLAN_VERSION = 1


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One step of an execution plan.

    Attributes:
        step_id: Unique id within the plan (the recipe step id; SEQUENCE
            joins are ``<id>.<level>.<k>``).
        name: Human-readable description.
        node_type: Node type value (``"EFFECT"``, ...).
        config: Resolved canonical config (JSON data).
        inputs: Step ids of its inputs, in port order.
        level: 0 for sources, else 1 + the highest input level.
        cache_id: Content-derived id of its output.
        cached: Whether the cache already holds that output (skipped at run time).
    """

    step_id: str
    name: str
    node_type: str
    config: Mapping[str, Any]
    inputs: tuple[str, ...]
    level: int
    cache_id: str
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON data."""
        return {
            "step_id": self.step_id,
            "name": self.name,
            "node_type": self.node_type,
            "config": self.config,
            "inputs": list(self.inputs),
            "level": self.level,
            "cache_id": self.cache_id,
            "cached": self.cached,
        }


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """Phase 1: features to extract from one input.

    Attributes:
        step_id: The ANALYZE step.
        input_step: The step whose output is analysed.
        input_cid: That step's cache id (the CID for recipe inputs).
        features: Sorted feature names.
        analysis_id: ``SHA3-256(input CID + sorted feature names)``.
    """

    step_id: str
    input_step: str
    input_cid: str
    features: tuple[str, ...]
    analysis_id: str


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """An ordered, cache-aware plan (phase 2).

    Attributes:
        plan_id: SHA3-256 over the sorted step cache ids and the output's.
        recipe_id: Id of the recipe it was planned from.
        recipe_name: Its name.
        inputs: Recipe input name -> CID.
        params: Param values used (defaults overlaid with overrides).
        steps: Steps in execution order (by level, then step id).
        output: Step id of the output.
        analysis: Phase-1 requests.
    """

    plan_id: str
    recipe_id: str
    recipe_name: str
    inputs: Mapping[str, str]
    params: Mapping[str, Any]
    steps: tuple[PlanStep, ...]
    output: str
    analysis: tuple[AnalysisRequest, ...] = ()

    @property
    def levels(self) -> list[list[PlanStep]]:
        """Steps grouped by level, level 0 first."""
        out: list[list[PlanStep]] = [
            [] for _ in range(1 + max((s.level for s in self.steps), default=-1))
        ]
        for s in self.steps:
            out[s.level].append(s)
        return out

    def step(self, step_id: str) -> PlanStep:
        """The step with that id (KeyError if absent)."""
        for s in self.steps:
            if s.step_id == step_id:
                return s
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON data (``version`` first so readers can reject what they do not know)."""
        return {
            "version": PLAN_VERSION,
            "plan_id": self.plan_id,
            "recipe_id": self.recipe_id,
            "recipe_name": self.recipe_name,
            "inputs": dict(self.inputs),
            "params": dict(self.params),
            "output": self.output,
            "levels": len(self.levels),
            "analysis": [
                dataclasses.asdict(a) | {"features": list(a.features)} for a in self.analysis
            ],
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The plan as JSON text."""
        return json.dumps(
            self.to_dict(), indent=indent, sort_keys=indent is not None, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ExecutionPlan:
        """Read a plan written by :meth:`to_json`.

        Raises:
            PlanError: Not JSON, unknown version, or missing / mistyped fields.
        """
        try:
            d = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PlanError(f"plan is not JSON: {exc}", file="<plan>") from None
        try:
            if d.get("version") != PLAN_VERSION:
                raise PlanError(f"unsupported plan version {d.get('version')!r}", file="<plan>")
            steps = tuple(
                PlanStep(
                    step_id=str(s["step_id"]),
                    name=str(s["name"]),
                    node_type=str(s["node_type"]),
                    config=dict(s["config"]),
                    inputs=tuple(str(i) for i in s["inputs"]),
                    level=int(s["level"]),
                    cache_id=str(s["cache_id"]),
                    cached=bool(s["cached"]),
                )
                for s in d["steps"]
            )
            analysis = tuple(
                AnalysisRequest(
                    str(a["step_id"]),
                    str(a["input_step"]),
                    str(a["input_cid"]),
                    tuple(str(f) for f in a["features"]),
                    str(a["analysis_id"]),
                )
                for a in d["analysis"]
            )
            plan = cls(
                plan_id=str(d["plan_id"]),
                recipe_id=str(d["recipe_id"]),
                recipe_name=str(d["recipe_name"]),
                inputs={str(k): str(v) for k, v in d["inputs"].items()},
                params=dict(d["params"]),
                steps=steps,
                output=str(d["output"]),
                analysis=analysis,
            )
        except PlanError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanError(f"malformed plan: {exc!r}", file="<plan>") from None
        ids = {s.step_id for s in plan.steps}
        if plan.output not in ids or any(i not in ids for s in plan.steps for i in s.inputs):
            raise PlanError(
                "malformed plan: a step refers to a step that is not in the plan", file="<plan>"
            )
        return plan


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


def _resolved_config(step: Step, registry: Registry, params: Mapping[str, float]) -> dict[str, Any]:
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
    return json.loads(canonical_json(out))  # type: ignore[no-any-return]


def _hash_step(node_type: str, config: Mapping[str, Any], input_ids: list[str]) -> str:
    ordered = sorted(input_ids)
    cfg = dict(config)
    if len(input_ids) > 1:
        # sorted() loses port order; record it so swapped inputs hash differently
        cfg["_ports"] = [ordered.index(c) for c in input_ids]
    return sha3_hex(node_type, canonical_json(cfg), *ordered)


def _describe(step: Step) -> str:
    cfg = step.config
    if step.type is NodeType.SOURCE:
        return f"input {cfg['input']}" if "input" in cfg else f"generator {cfg.get('generator')}"
    if step.type is NodeType.EFFECT:
        return f"effect {cfg.get('effect')}"
    if step.type is NodeType.ANALYZE:
        return "analyze " + ", ".join(cfg.get("features") or [])
    return step.type.value.lower().replace("_", " ")


def plan_recipe(
    recipe: Recipe,
    inputs: Mapping[str, str],
    is_cached: Callable[[str], bool] = lambda cache_id: False,
    params: Mapping[str, float] | None = None,
    registry: Registry | None = None,
) -> ExecutionPlan:
    """Validate a recipe and build its execution plan.

    Args:
        recipe: A loaded (normalised) recipe.
        inputs: Recipe input name -> content CID.
        is_cached: Whether the cache holds a cache id (cached steps are marked).
        params: Overrides of recipe params.
        registry: Effect registry (default: the catalog).

    Raises:
        MissingInputError: A declared input has no CID.
        ParamRangeError: An override is unknown, not a number or out of range.
        RecipeValidationError: The recipe is not valid.
    """
    registry = registry if registry is not None else default_registry()
    validate(recipe, registry)

    def err(cls: type, message: str, pos: Any, hint: str = "") -> Any:
        return cls(
            message,
            file=recipe.filename,
            line=pos.line,
            column=pos.column,
            text=recipe.line_text(pos.line),
            hint=hint,
        )

    values: dict[str, float] = {p.name: p.default for p in recipe.params}
    for k, v in (params or {}).items():
        decl = next((p for p in recipe.params if p.name == k), None)
        if decl is None:
            raise ParamRangeError(
                f"unknown param {k!r}", file=recipe.filename, hint="params: " + ", ".join(values)
            )
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise err(ParamRangeError, f"param {k!r}: expected a number, got {v!r}", decl.pos)
        if (decl.min is not None and v < decl.min) or (decl.max is not None and v > decl.max):
            raise err(
                ParamRangeError,
                f"param {k!r}: {v:g} is out of range {decl.min}..{decl.max}",
                decl.pos,
            )
        values[k] = v
    for idecl in recipe.inputs:
        if not inputs.get(idecl.name):
            raise err(
                MissingInputError,
                f"recipe input {idecl.name!r} is not bound",
                idecl.pos,
                f"pass -i {idecl.name}=FILE_OR_CID",
            )

    cache: dict[str, str] = {}
    level: dict[str, int] = {}
    out: list[PlanStep] = []
    analysis: list[AnalysisRequest] = []
    for step in topological_order(recipe):
        cfg = _resolved_config(step, registry, values)
        in_ids = [cache[i] for i in step.inputs]
        lvl = 1 + max((level[i] for i in step.inputs), default=-1)
        step_inputs = step.inputs
        if step.type is NodeType.SOURCE:
            if "input" in cfg:
                cid = inputs[cfg["input"]]
                cfg = {"input": cfg["input"], "cid": cid}
            else:
                cid = sha3_hex(canonical_json(cfg))
        elif step.type is NodeType.ANALYZE:
            cid = analysis_id(in_ids[0], cfg["features"])
            analysis.append(
                AnalysisRequest(step.id, step.inputs[0], in_ids[0], tuple(cfg["features"]), cid)
            )
        elif step.type is NodeType.SEQUENCE and len(step.inputs) > 2:
            cid, lvl, step_inputs = _sequence_tree(step, cfg, cache, level, out, is_cached)
        else:
            cid = _hash_step(step.type.value, cfg, in_ids)
        cache[step.id] = cid
        level[step.id] = lvl
        out.append(
            PlanStep(
                step.id,
                _describe(step),
                step.type.value,
                cfg,
                step_inputs,
                lvl,
                cid,
                is_cached(cid),
            )
        )
    ordered = tuple(sorted(out, key=lambda s: (s.level, s.step_id)))
    plan_id = sha3_hex("plan", canonical_json(sorted(cache.values())), cache[recipe.output])
    return ExecutionPlan(
        plan_id=plan_id,
        recipe_id=recipe_id(recipe),
        recipe_name=recipe.name,
        inputs={d.name: inputs[d.name] for d in recipe.inputs},
        params=values,
        steps=ordered,
        output=recipe.output,
        analysis=tuple(analysis),
    )


def _sequence_tree(
    step: Step,
    cfg: Mapping[str, Any],
    cache: dict[str, str],
    level: dict[str, int],
    out: list[PlanStep],
    is_cached: Callable[[str], bool],
) -> tuple[str, int, tuple[str, ...]]:
    """Pairwise joins of a SEQUENCE's parts, keeping their order.

    Returns the root join's cache id, level and input step ids.

    Intermediate joins are added to ``out``; the root is left for the caller
    (it keeps the step's id). ``ceil(log2 N)`` rounds of joins.
    """
    parts = [(i, cache[i], level[i]) for i in step.inputs]
    rounds = math.ceil(math.log2(len(parts)))
    root: tuple[str, int, tuple[str, ...]] = ("", 0, ())
    for r in range(1, rounds + 1):
        nxt = []
        for k in range(0, len(parts), 2):
            pair = parts[k : k + 2]
            if len(pair) == 1:
                nxt.append(pair[0])
                continue
            ids = [p[1] for p in pair]
            cid = _hash_step(NodeType.SEQUENCE.value, cfg, ids)
            lvl = 1 + max(p[2] for p in pair)
            if r == rounds:
                root = (cid, lvl, tuple(p[0] for p in pair))
                nxt.append((step.id, cid, lvl))
                continue
            sid = f"{step.id}.{r}.{k // 2}"
            out.append(
                PlanStep(
                    sid,
                    f"sequence join {r}.{k // 2}",
                    "SEQUENCE",
                    dict(cfg),
                    tuple(p[0] for p in pair),
                    lvl,
                    cid,
                    is_cached(cid),
                )
            )
            nxt.append((sid, cid, lvl))
        parts = nxt
    # the last round produced exactly one join: the root
    return root
