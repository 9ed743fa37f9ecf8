"""Request and response models of the 3-phase API (``/api/plan``, ``/api/execute``,
``/api/run-recipe``), and the execution plan JSON (also ``GET /api/run/{id}/plan``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from api.schemas.fields import (
    InputCids,
    ParamValues,
    RecipeIdField,
    RecipeTextField,
    check_inputs,
    check_one_of,
    check_params,
)
from api.schemas.runs import RunLinks
from interpreter.planner import PLAN_VERSION
from streamer.recipes.store import RecipeRef
from streamer.runs.phases import PlannedRecipe
from streamer.runs.status import RunStatus

__all__ = [
    "ExecuteCreated",
    "ExecuteRequest",
    "PipelineCreated",
    "PlanAnalysisDocument",
    "PlanDocument",
    "PlanRequest",
    "PlanStepDocument",
    "PlanView",
    "PlannedStep",
    "plan_document",
    "plan_view",
]

# --- requests --------------------------------------------------------------------------


class PlanRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """A recipe (stored id or text) with its inputs and parameter overrides."""

    recipe_id: RecipeIdField = None
    recipe: RecipeTextField = None
    inputs: InputCids = {}
    params: ParamValues = {}

    def __post_init__(self) -> None:
        """Exactly one of ``recipe_id`` and ``recipe``; CIDs and numbers in the maps."""
        check_one_of(("recipe_id", self.recipe_id), ("recipe", self.recipe), field="recipe")
        check_inputs(self.inputs)
        check_params(self.params)

    def ref(self) -> RecipeRef:
        """The recipe this request names or carries."""
        return RecipeRef(recipe_id=self.recipe_id, text=self.recipe)

    def input_cids(self) -> dict[str, str]:
        """The checked inputs."""
        return check_inputs(self.inputs)

    def param_values(self) -> dict[str, float]:
        """The checked parameter overrides."""
        return check_params(self.params)


class ExecuteRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """A plan to execute: one made by ``POST /api/plan`` (``plan_id``) or its JSON (``plan``)."""

    plan_id: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Za-z0-9]+$",
                description="Id of a plan made by POST /api/plan (hex).",
            ),
        ]
        | None
    ) = None
    plan: (
        Annotated[
            dict[str, Any],
            Meta(
                description=(
                    "The plan JSON (see PlanDocument); the planner reads it (422 when it cannot)."
                )
            ),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        """Exactly one of ``plan`` and ``plan_id``."""
        check_one_of(("plan", self.plan), ("plan_id", self.plan_id), field="plan")


# --- the plan JSON -------------------------------------------------------------------------


class PlanStepDocument(Struct, kw_only=True):
    """One step of an execution plan."""

    step_id: str
    name: str
    node_type: str
    config: Annotated[dict[str, Any], Meta(description="Resolved canonical config.")]
    inputs: Annotated[list[str], Meta(description="Step ids of its inputs, in port order.")]
    level: Annotated[int, Meta(ge=0, description="0 for sources, else 1 + its inputs' highest.")]
    cache_id: Annotated[str, Meta(description="Content-derived id of its output.")]
    cached: Annotated[bool, Meta(description="The cache holds its output (skipped at run time).")]


class PlanAnalysisDocument(Struct, kw_only=True):
    """A phase-1 analysis of one input."""

    step_id: str
    input_step: str
    input_cid: str
    features: list[str]
    analysis_id: str


class PlanDocument(Struct, kw_only=True):
    """An execution plan (``ExecutionPlan.to_dict``): what ``POST /api/execute`` takes back."""

    version: Annotated[
        int, Meta(description=f"Plan format version (this server reads {PLAN_VERSION}).")
    ]
    plan_id: str
    recipe_id: str
    recipe_name: str
    inputs: dict[str, str]
    params: dict[str, Any]
    output: Annotated[str, Meta(description="Step id of the output.")]
    levels: Annotated[int, Meta(ge=0, description="Number of levels.")]
    analysis: list[PlanAnalysisDocument]
    steps: list[PlanStepDocument]


# --- responses -------------------------------------------------------------------------


class PlannedStep(Struct, kw_only=True):
    """A step of a plan level, in brief."""

    step_id: str
    node_type: str
    cache_id: str
    cached: bool


class PlanView(Struct, kw_only=True):
    """``POST /api/plan``: the plan, by level, with cache ids and cached flags."""

    plan_id: str
    plan_cid: Annotated[str, Meta(description="The plan's CID (IPFS-primary mode).")] | None
    recipe_id: str
    output: str
    levels: list[list[PlannedStep]]
    cached_steps: Annotated[int, Meta(ge=0)]
    total_steps: Annotated[int, Meta(ge=0)]
    plan: PlanDocument


class ExecuteCreated(Struct, kw_only=True):
    """A run executing a plan was created and queued."""

    run_id: str
    plan_id: str
    status: RunStatus
    links: RunLinks


class PipelineCreated(Struct, kw_only=True):
    """A run of the whole pipeline (analyze, plan, execute) was created and queued."""

    run_id: str
    recipe_id: str
    status: RunStatus
    links: RunLinks


def plan_document(doc: dict[str, Any]) -> PlanDocument:
    """The typed form of a plan's JSON data (as ``ExecutionPlan.to_dict`` writes it)."""
    return msgspec.convert(doc, PlanDocument)


def plan_view(planned: PlannedRecipe) -> PlanView:
    """The answer of ``POST /api/plan``."""
    p = planned.plan
    return PlanView(
        plan_id=p.plan_id,
        plan_cid=planned.plan_cid,
        recipe_id=p.recipe_id,
        output=p.output,
        levels=[
            [
                PlannedStep(
                    step_id=s.step_id, node_type=s.node_type, cache_id=s.cache_id, cached=s.cached
                )
                for s in level
            ]
            for level in p.levels
        ],
        cached_steps=sum(1 for s in p.steps if s.cached),
        total_steps=len(p.steps),
        plan=plan_document(planned.document),
    )
