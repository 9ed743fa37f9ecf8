"""Request parsing and response shapes of the runs API.

Requests are read from plain JSON objects with field-precise errors
(:class:`api.errors.BadRequest` / :class:`api.errors.Unprocessable` naming the
field), rather than a schema library's generic message.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from api.errors import BadRequest
from cache.cid import cid_of_bytes, cid_to_bytes
from cache.errors import InvalidCIDError
from interpreter.ids import canonical_json
from streamer.recipes.store import RecipeRef
from streamer.runs.service import RunSpec

__all__ = [
    "MAX_DURATION",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_PACE",
    "RunRequest",
    "check_cid",
    "check_paging",
    "iso",
    "parse_run_request",
    "provenance_json",
    "run_json",
    "run_links",
]

MAX_DURATION = 24 * 3600.0
MAX_PACE = 100.0
MAX_LIMIT = 200
#: Beyond any real table; keeps OFFSET inside PostgreSQL's bigint (a larger one was a 500).
MAX_OFFSET = 10**9
_RUN_FIELDS = {"recipe_id", "recipe", "inputs", "params", "analysis", "pace", "duration"}


def check_paging(limit: int, offset: int) -> None:
    """Check a list endpoint's ``limit`` (1..MAX_LIMIT) and ``offset`` (0..MAX_OFFSET).

    Raises:
        BadRequest: either is out of range (``field`` names it).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: {limit} is outside 1..{MAX_LIMIT}", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset: {offset} is outside 0..{MAX_OFFSET}", field="offset")


@dataclass(frozen=True)
class RunRequest:
    """A validated ``POST /runs`` body.

    Attributes:
        recipe_id: Id of a stored recipe (exclusive with ``recipe``).
        recipe: Recipe text, YAML or S-expression.
        inputs: Recipe input name -> CID.
        params: Recipe parameter overrides (numbers).
        analysis: Analysis JSON for beat/energy variables.
        pace: Render at most this multiple of real time (None: as fast as possible).
        duration: Seconds to render (needed for outputs that never end).
    """

    recipe_id: str | None = None
    recipe: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, Any] | None = None
    pace: float | None = None
    duration: float | None = None

    def to_spec(self) -> RunSpec:
        """The runs service's view of this request."""
        return RunSpec(
            recipe=self.ref(),
            inputs=dict(self.inputs),
            params=dict(self.params),
            analysis=self.analysis,
            pace=self.pace,
            duration=self.duration,
        )

    def ref(self) -> RecipeRef:
        """The recipe this request names or carries."""
        return RecipeRef(recipe_id=self.recipe_id, text=self.recipe)


def check_cid(cid: str, field_name: str = "cid") -> str:
    """Return ``cid`` if it parses as a CID, else raise a 400 naming ``field_name``."""
    try:
        cid_to_bytes(cid)
    except (InvalidCIDError, ValueError) as exc:
        raise BadRequest(
            f"{field_name}: {cid!r} is not a valid CID ({exc})", field=field_name
        ) from None
    return cid


def _number(doc: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{name}: expected a number, got {value!r}", field=name)
    if not low < value <= high:
        raise BadRequest(f"{name}: {value} is outside ({low:g}, {high:g}]", field=name)
    return float(value)


def parse_run_request(doc: Any) -> RunRequest:
    """Validate the shape of a ``POST /runs`` body (the recipe itself is checked later).

    Raises:
        BadRequest: a field is missing, of the wrong type, unknown, or a CID is malformed.
    """
    if not isinstance(doc, dict):
        raise BadRequest(f"expected a JSON object, got {type(doc).__name__}")
    unknown = sorted(set(doc) - _RUN_FIELDS)
    if unknown:
        raise BadRequest(
            f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(_RUN_FIELDS))}",
            field=unknown[0],
        )
    recipe_id, recipe = doc.get("recipe_id"), doc.get("recipe")
    if (recipe_id is None) == (recipe is None):
        raise BadRequest("give exactly one of 'recipe_id' and 'recipe'", field="recipe")
    if recipe_id is not None and (not isinstance(recipe_id, str) or not recipe_id.strip()):
        raise BadRequest("recipe_id: expected a non-empty string", field="recipe_id")
    if recipe is not None and (not isinstance(recipe, str) or not recipe.strip()):
        raise BadRequest("recipe: expected the recipe text (YAML or S-expression)", field="recipe")
    inputs = doc.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise BadRequest("inputs: expected an object {name: CID}", field="inputs")
    for name, cid in inputs.items():
        if not isinstance(cid, str):
            raise BadRequest(f"inputs.{name}: expected a CID string", field=f"inputs.{name}")
        check_cid(cid, f"inputs.{name}")
    params = doc.get("params") or {}
    if not isinstance(params, dict):
        raise BadRequest("params: expected an object {name: number}", field="params")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(
                f"params.{name}: expected a number, got {value!r}", field=f"params.{name}"
            )
    analysis = doc.get("analysis")
    if analysis is not None and not isinstance(analysis, dict):
        raise BadRequest("analysis: expected a JSON object", field="analysis")
    return RunRequest(
        recipe_id=recipe_id,
        recipe=recipe,
        inputs=dict(inputs),
        params={k: float(v) for k, v in params.items()},
        analysis=analysis,
        pace=_number(doc, "pace", 0.0, MAX_PACE),
        duration=_number(doc, "duration", 0.0, MAX_DURATION),
    )


def run_links(run_id: str, playlist_cid: str | None = None) -> dict[str, str]:
    """URLs of a run's resources (paths on this server)."""
    links = {
        "self": f"/api/run/{run_id}",
        "page": f"/run/{run_id}",
        "playlist": f"/runs/{run_id}/playlist.m3u8",
        "ipfs": f"/runs/{run_id}/ipfs",
        "events": f"/runs/{run_id}/events",
        "plan": f"/api/run/{run_id}/plan",
        "analysis": f"/api/run/{run_id}/analysis",
        "provenance": f"/api/run/{run_id}/provenance",
    }
    if playlist_cid:
        links["ipfs_playlist"] = f"/ipfs/{playlist_cid}"
    return links


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 text; anything else unchanged (JSON bodies of rows)."""
    return value.isoformat() if isinstance(value, dt.datetime) else value


def run_json(row: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
    """The public JSON of a run row (``full`` adds inputs, params and links)."""
    out: dict[str, Any] = {
        "run_id": row["id"],
        "recipe_id": row.get("recipe_id"),
        "status": row["status"],
        "progress": row.get("progress", 0.0),
        "segment_count": row.get("segment_count", 0),
        "playlist_cid": row.get("playlist_cid"),
        "output_cid": row.get("output_cid"),
        "error": row.get("error"),
        "created_at": iso(row.get("created_at")),
        "started_at": iso(row.get("started_at")),
        "finished_at": iso(row.get("finished_at")),
    }
    if full:
        out["inputs"] = row.get("inputs") or {}
        out["params"] = row.get("params") or {}
        out["plan_id"] = row.get("plan_id")
        out["has_analysis"] = row.get("analysis") is not None
        out["links"] = run_links(row["id"], row.get("playlist_cid"))
    return out


def provenance_json(row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON of a provenance row.

    ``record_cid`` is the CID of the record's canonical JSON: what
    :func:`streamer.content.provenance.record_render_provenance` added to IPFS.
    """
    record = row["record"]
    if isinstance(record, str):  # a pool without the JSON codec answers text
        record = json.loads(record)
    return {
        "cid": row["cid"],
        "record_cid": cid_of_bytes(canonical_json(record).encode()),
        "rendered_at": record.get("rendered_at"),
        "rendered_by": record.get("rendered_by"),
        "record": record,
        "created_at": iso(row.get("created_at")),
    }
