"""Request and response models of the recipes API (``/recipes``).

A recipe is answered in brief in lists and uploads (:class:`RecipeSummary`)
and in full on ``GET /recipes/{id}`` (:class:`RecipeDetail`: source, canonical
form, declared inputs and params, the DAG with source positions, a plan
summary). The upload body is documented by :class:`UploadOperation`: the
handler reads a multipart file, a JSON object or the raw text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from msgspec import UNSET, Meta, Struct, UnsetType
from msgspec import field as struct_field

from api.models import iso
from api.schemas.fields import Timestamp
from api.schemas.runs import RunLinks
from interpreter.nodes import NodeType, Recipe
from interpreter.planner import ExecutionPlan
from streamer.recipes.catalog import RecipeDescription
from streamer.recipes.store import MAX_RECIPE_BYTES
from streamer.runs.status import RunStatus

__all__ = [
    "MAX_RECIPE_BYTES",
    "Dag",
    "DagEdge",
    "DagNode",
    "OptionalBodyOperation",
    "PlanAnalysisSummary",
    "PlanSummary",
    "RecipeDeleted",
    "RecipeDetail",
    "RecipeInput",
    "RecipeLinks",
    "RecipeList",
    "RecipeParam",
    "RecipeRunCreated",
    "RecipeSummary",
    "RecipeUploaded",
    "UploadOperation",
    "dag_of",
    "recipe_detail",
    "recipe_summary",
    "recipe_uploaded",
]


Syntax = Annotated[
    Literal["yaml", "sexp"], Meta(description="The surface syntax it was written in.")
]


class RecipeLinks(Struct, kw_only=True):
    """URLs of a recipe's resources on this server."""

    self_: str = struct_field(name="self")
    page: str
    run: str


class RecipeSummary(Struct, kw_only=True):
    """A stored recipe in brief."""

    recipe_id: Annotated[str, Meta(description="SHA3-256 of the canonical form (hex).")]
    name: str
    version: str
    description: str
    syntax: Syntax | None
    owner: Annotated[str, Meta(description="Who uploaded it first.")] | None
    inputs: Annotated[
        dict[str, dict[str, str]],
        Meta(description="Declared inputs: name -> {type, description}."),
    ]
    step_count: Annotated[int, Meta(ge=0)]
    created_at: Timestamp
    links: RecipeLinks


class RecipeUploaded(RecipeSummary, kw_only=True):
    """``POST /recipes/upload``: the stored recipe; 201 when new, 200 when already there."""

    created: bool


class RecipeList(Struct, kw_only=True):
    """A page of stored recipes, newest first."""

    recipes: list[RecipeSummary]
    total: Annotated[int, Meta(ge=0, description="Recipes matching the filter (all pages).")]
    limit: int
    offset: int


class RecipeInput(Struct, kw_only=True):
    """An input the recipe declares (bound to a CID when it runs)."""

    name: str
    type: Annotated[str, Meta(description='"video", "audio" or "image".')]
    description: str


class RecipeParam(Struct, kw_only=True):
    """A parameter the recipe declares."""

    name: str
    default: Any
    min: Annotated[float, Meta(description="Inclusive lower bound for overrides.")] | None
    max: Annotated[float, Meta(description="Inclusive upper bound for overrides.")] | None
    description: str


class DagNode(Struct, kw_only=True):
    """A step of the recipe graph with its source position."""

    id: str
    type: NodeType
    line: Annotated[int, Meta(description="1-based line of the step in the source.")]
    column: Annotated[int, Meta(description="1-based column of the step in the source.")]
    output: Annotated[bool, Meta(description="It is the recipe's output.")]


class DagEdge(Struct, kw_only=True):
    """An input of a step: ``from`` feeds port ``port`` of ``to``."""

    from_: str = struct_field(name="from")
    to: str
    port: Annotated[int, Meta(ge=0)]


class Dag(Struct, kw_only=True):
    """The recipe graph."""

    nodes: list[DagNode]
    edges: list[DagEdge]
    output: str


class PlanAnalysisSummary(Struct, kw_only=True):
    """An analysis the plan makes of one step's output."""

    step_id: str
    input: str
    features: list[str]


class PlanSummary(Struct, kw_only=True):
    """The recipe planned for placeholder inputs (``input:<name>``): its figures, or ``error``."""

    steps: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    levels: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    node_types: (
        Annotated[dict[str, int], Meta(description="Node type -> steps of that type.")] | UnsetType
    ) = UNSET
    analysis: list[PlanAnalysisSummary] | UnsetType = UNSET
    params: dict[str, Any] | UnsetType = UNSET
    error: (
        Annotated[str, Meta(description="Why it could not be planned (then nothing else).")]
        | UnsetType
    ) = UNSET


class RecipeDetail(Struct, kw_only=True):
    """``GET /recipes/{id}``: source, canonical form, inputs, params, DAG and plan summary."""

    recipe_id: str
    name: str
    version: str
    description: str
    syntax: Syntax | None
    owner: str | None
    inputs: list[RecipeInput]
    step_count: Annotated[int, Meta(ge=0)]
    created_at: Timestamp
    links: RecipeLinks
    source: Annotated[str, Meta(description="The recipe text as uploaded.")]
    canonical: Annotated[dict[str, Any], Meta(description="The canonical form (JSON data).")]
    params: list[RecipeParam]
    dag: Dag
    plan: PlanSummary


class RecipeDeleted(Struct, kw_only=True):
    """A recipe was deleted."""

    deleted: Annotated[str, Meta(description="The deleted recipe's id.")]


class RecipeRunCreated(Struct, kw_only=True):
    """A run of a stored recipe was created and queued."""

    run_id: str
    recipe_id: str
    status: RunStatus
    links: RunLinks


# --- the upload body (read by the handler, documented here) ------------------------------------

_TEXT = Schema(
    type=OpenAPIType.STRING,
    description=f"The recipe, YAML or S-expression, UTF-8, at most {MAX_RECIPE_BYTES} bytes.",
    max_length=MAX_RECIPE_BYTES,
)


def _upload_body() -> RequestBody:
    return RequestBody(
        required=True,
        description="The recipe as a multipart file, a JSON object or the raw text.",
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    description="The first file part (any field name), else a `recipe` or "
                    "`source` text field.",
                    properties={
                        "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                        "recipe": _TEXT,
                    },
                )
            ),
            "application/json": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT, required=["recipe"], properties={"recipe": _TEXT}
                )
            ),
            "text/plain": OpenAPIMediaType(schema=_TEXT),
        },
    )


@dataclass
class UploadOperation(Operation):
    """The OpenAPI operation of ``POST /recipes/upload``, with its three body forms.

    The handler reads the body itself (it takes no ``data``), so Litestar
    derives no request body; this operation class documents it.
    """

    def __post_init__(self) -> None:
        """Set the documented request body."""
        self.request_body = _upload_body()


@dataclass
class OptionalBodyOperation(Operation):
    """An operation whose JSON body may be left out (Litestar marks every body required)."""

    def __post_init__(self) -> None:
        """Mark the derived request body optional."""
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


# --- building them ---------------------------------------------------------------------------


def _links(rid: str) -> RecipeLinks:
    return RecipeLinks(self_=f"/recipes/{rid}", page=f"/recipe/{rid}", run=f"/recipes/{rid}/run")


def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
    doc = row.get("canonical") or {}
    return {
        "recipe_id": row["id"],
        "name": row["name"],
        "version": row.get("version", ""),
        "description": row.get("description", ""),
        "syntax": row.get("syntax"),
        "owner": row.get("owner"),
        "inputs": doc.get("inputs", {}),
        "step_count": len(doc.get("steps", [])),
        "created_at": iso(row.get("created_at")),
        "links": _links(row["id"]),
    }


def recipe_summary(row: dict[str, Any]) -> RecipeSummary:
    """The list form of a recipe row."""
    return RecipeSummary(**_summary_fields(row))


def recipe_uploaded(row: dict[str, Any], created: bool) -> RecipeUploaded:
    """The answer of an upload."""
    return RecipeUploaded(**_summary_fields(row), created=created)


def dag_of(recipe: Recipe) -> Dag:
    """Nodes (with source positions) and edges of the recipe graph."""
    return Dag(
        nodes=[
            DagNode(
                id=s.id,
                type=s.type,
                line=s.pos.line,
                column=s.pos.column,
                output=s.id == recipe.output,
            )
            for s in recipe.steps
        ],
        edges=[
            DagEdge(from_=src, to=s.id, port=port)
            for s in recipe.steps
            for port, src in enumerate(s.inputs)
        ],
        output=recipe.output,
    )


def _plan_summary(plan: ExecutionPlan) -> PlanSummary:
    types: dict[str, int] = {}
    for step in plan.steps:
        types[step.node_type] = types.get(step.node_type, 0) + 1
    return PlanSummary(
        steps=len(plan.steps),
        levels=len(plan.levels),
        node_types=dict(sorted(types.items())),
        analysis=[
            PlanAnalysisSummary(step_id=a.step_id, input=a.input_step, features=list(a.features))
            for a in plan.analysis
        ],
        params=dict(plan.params),
    )


def recipe_detail(described: RecipeDescription) -> RecipeDetail:
    """The full view of a stored recipe."""
    recipe, row = described.recipe, described.row
    fields = _summary_fields(row)
    fields["inputs"] = [
        RecipeInput(name=i.name, type=i.type, description=i.description) for i in recipe.inputs
    ]
    return RecipeDetail(
        **fields,
        source=row["source"],
        canonical=row["canonical"],
        params=[
            RecipeParam(
                name=p.name, default=p.default, min=p.min, max=p.max, description=p.description
            )
            for p in recipe.params
        ],
        dag=dag_of(recipe),
        plan=(
            _plan_summary(described.plan)
            if described.plan is not None
            else PlanSummary(error=described.plan_error or "not planned")
        ),
    )
