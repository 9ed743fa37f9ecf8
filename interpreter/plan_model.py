"""Execution plans as data: steps, analysis requests, and their JSON form."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interpreter.errors import PlanError

__all__ = ["PLAN_VERSION", "AnalysisRequest", "ExecutionPlan", "PlanStep"]

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
