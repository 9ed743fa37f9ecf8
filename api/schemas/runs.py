"""Request and response models of the runs API (``/runs``, ``/api/run/{id}``).

The run JSON is the same on every endpoint that answers a run: a summary in
lists and SSE ``status`` events (:class:`RunSummary`), plus inputs, params,
plan id and links on the run itself (:class:`RunDetail`), plus the S3 mirror,
the latest provenance and the copies on storage providers on ``GET /runs/{id}``
(:class:`RunView`).
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, field

from api.models import MAX_DURATION, MAX_PACE, iso
from api.schemas.fields import (
    InputCids,
    ParamValues,
    RecipeIdField,
    RecipeTextField,
    Timestamp,
    check_inputs,
    check_one_of,
    check_params,
    openapi,
)
from streamer.content.provider_config import ProviderKind
from streamer.db.replicas import ReplicaState
from streamer.recipes.store import RecipeRef
from streamer.runs.queries import ProvenanceEntry, S3Playlist
from streamer.runs.service import RunSpec
from streamer.runs.status import RunStatus

__all__ = [
    "ProvenanceList",
    "ProvenanceRecord",
    "ProvenanceSummary",
    "RenderRequest",
    "Replica",
    "RunCreated",
    "RunDeleted",
    "RunDetail",
    "RunLinks",
    "RunList",
    "RunRequest",
    "RunSummary",
    "RunView",
    "provenance_record",
    "replica",
    "run_detail",
    "run_links",
    "run_summary",
    "run_view",
]

# --- requests --------------------------------------------------------------------------


class RenderRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """How to render a recipe: its inputs, parameters, analysis data, pace and length."""

    inputs: InputCids = {}
    params: ParamValues = {}
    analysis: (
        Annotated[
            dict[str, Any],
            Meta(description="Analysis JSON for the recipe's beat/energy variables."),
        ]
        | None
    ) = None
    pace: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=MAX_PACE,
                description="Render at most this multiple of real time (absent: as fast as possible).",
                extra_json_schema=openapi(exclusive_minimum=0),
            ),
        ]
        | None
    ) = None
    duration: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=MAX_DURATION,
                description="Seconds to render (needed for outputs that never end).",
                extra_json_schema=openapi(exclusive_minimum=0),
            ),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        """Check the map values msgspec cannot name (400 naming ``inputs.X``/``params.X``)."""
        check_inputs(self.inputs)
        check_params(self.params)

    def to_spec(self, recipe: RecipeRef) -> RunSpec:
        """The runs service's view of this request, rendering ``recipe``."""
        return RunSpec(
            recipe=recipe,
            inputs=check_inputs(self.inputs),
            params=check_params(self.params),
            analysis=self.analysis,
            pace=self.pace,
            duration=self.duration,
        )


class RunRequest(RenderRequest, kw_only=True):
    """``POST /runs``: a stored recipe (``recipe_id``) or its text (``recipe``), and how to render it."""

    recipe_id: RecipeIdField = None
    recipe: RecipeTextField = None

    def __post_init__(self) -> None:
        """Exactly one of ``recipe_id`` and ``recipe``; then the inputs and params."""
        check_one_of(("recipe_id", self.recipe_id), ("recipe", self.recipe), field="recipe")
        super().__post_init__()

    def ref(self) -> RecipeRef:
        """The recipe this request names or carries."""
        return RecipeRef(recipe_id=self.recipe_id, text=self.recipe)


# --- responses -------------------------------------------------------------------------


class RunLinks(Struct, kw_only=True):
    """URLs of a run's resources (paths on this server unless said otherwise)."""

    self_: str = field(name="self")
    page: str
    playlist: str
    ipfs: str
    events: str
    plan: str
    analysis: str
    provenance: str
    ipfs_playlist: (
        Annotated[str, Meta(description="The current IPFS playlist (once there is one).")]
        | UnsetType
    ) = UNSET
    s3_playlist: (
        Annotated[str, Meta(description="The playlist mirrored in S3 (when S3 is on).")] | UnsetType
    ) = UNSET


class RunSummary(Struct, kw_only=True):
    """A run in lists and in ``status`` events."""

    run_id: str
    recipe_id: str | None
    status: RunStatus
    progress: Annotated[float, Meta(ge=0, le=1, description="Fraction rendered, 0..1.")]
    segment_count: Annotated[int, Meta(ge=0, description="HLS segments written so far.")]
    playlist_cid: Annotated[str, Meta(description="CID of the current IPFS playlist.")] | None
    output_cid: Annotated[str, Meta(description="CID of the rendered output.")] | None
    error: Annotated[str, Meta(description="Why the run failed.")] | None
    created_at: Timestamp
    started_at: Timestamp
    finished_at: Timestamp


class RunDetail(RunSummary, kw_only=True):
    """A run with its inputs, parameters, plan id and links."""

    inputs: Annotated[dict[str, str], Meta(description="Recipe input name -> CID.")]
    params: Annotated[dict[str, float], Meta(description="Recipe parameter overrides.")]
    plan_id: str | None
    has_analysis: bool
    master_cid: (
        Annotated[
            str,
            Meta(
                description="CID of the newest multivariant (ABR ladder) playlist on IPFS; "
                "absent for a single-rendition run."
            ),
        ]
        | UnsetType
    ) = UNSET
    variant_cids: (
        Annotated[
            dict[str, str],
            Meta(
                description="Each lower ABR rung's newest media playlist CID on IPFS, by "
                "playlist name (`playlist_480p.m3u8`; the top rung's is `playlist_cid`); "
                "absent for a single-rendition run."
            ),
        ]
        | UnsetType
    ) = UNSET
    links: RunLinks


class ProvenanceSummary(Struct, kw_only=True):
    """The latest provenance record of a run, in brief."""

    record_cid: str
    cid: str
    rendered_at: str | None
    rendered_by: str | None


class Replica(Struct, kw_only=True):
    """The run's copy (output, final playlist, segments) on one storage provider."""

    provider_id: int
    provider_name: str
    kind: Annotated[ProviderKind, Meta(description="The provider's type.")]
    state: Annotated[
        ReplicaState,
        Meta(
            description="pending (queued, or waiting for a retry), copying, done, "
            "or failed (no attempt left)."
        ),
    ]
    objects_done: Annotated[int, Meta(ge=0, description="Objects the provider holds so far.")]
    objects_total: Annotated[
        int, Meta(ge=0, description="Objects of the copy (0 until the first attempt counts them).")
    ]
    attempts: Annotated[int, Meta(ge=0, description="Attempts made so far.")]
    error: Annotated[str, Meta(description="Why the last attempt failed.")] | None
    updated_at: Timestamp


class RunView(RunDetail, kw_only=True):
    """``GET /runs/{id}``: the run, where S3 mirrors it, its latest provenance and its copies."""

    s3_playlist_key: (
        Annotated[str, Meta(description="The playlist's key in the S3 bucket (S3 on).")] | UnsetType
    ) = UNSET
    provenance: ProvenanceSummary | None = None
    waiting_for_worker: (
        Annotated[
            bool,
            Meta(
                description="A distributed run (ARTDAG_CHUNK_SEGMENTS) has chunks left and no "
                "worker holds a claim on it: it stays running until a worker comes back."
            ),
        ]
        | UnsetType
    ) = UNSET
    replicas: Annotated[
        list[Replica],
        Meta(
            description="Its copies on the storage providers enabled when it completed "
            "(empty before that, or without providers)."
        ),
    ] = []


class RunList(Struct, kw_only=True):
    """A page of runs, newest first."""

    runs: list[RunSummary]
    total: Annotated[int, Meta(ge=0, description="Runs matching the filters (all pages).")]
    limit: int
    offset: int


class RunCreated(Struct, kw_only=True):
    """A run was created and queued."""

    run_id: str
    status: RunStatus
    links: RunLinks


class RunDeleted(Struct, kw_only=True):
    """A run was (cancelled and) deleted."""

    run_id: str
    deleted: bool
    status: RunStatus


class ProvenanceRecord(Struct, kw_only=True):
    """One provenance record of a run."""

    cid: Annotated[str, Meta(description="CID of the rendered output.")]
    record_cid: Annotated[
        str, Meta(description="CID of the record's canonical JSON, as added to IPFS.")
    ]
    rendered_at: str | None
    rendered_by: str | None
    record: Annotated[dict[str, Any], Meta(description="The record (the specification's shape).")]
    created_at: Timestamp


class ProvenanceList(Struct, kw_only=True):
    """The provenance records of a run (one per completed render), oldest first."""

    run_id: str
    records: list[ProvenanceRecord]


# --- building them from rows -------------------------------------------------------------


def run_links(
    run_id: str, playlist_cid: str | None = None, s3: S3Playlist | None = None
) -> RunLinks:
    """URLs of a run's resources."""
    return RunLinks(
        self_=f"/api/run/{run_id}",
        page=f"/run/{run_id}",
        playlist=f"/runs/{run_id}/playlist.m3u8",
        ipfs=f"/runs/{run_id}/ipfs",
        events=f"/runs/{run_id}/events",
        plan=f"/api/run/{run_id}/plan",
        analysis=f"/api/run/{run_id}/analysis",
        provenance=f"/api/run/{run_id}/provenance",
        ipfs_playlist=f"/ipfs/{playlist_cid}" if playlist_cid else UNSET,
        s3_playlist=s3.url if s3 is not None else UNSET,
    )


def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": row["id"],
        "recipe_id": row.get("recipe_id"),
        "status": RunStatus(row["status"]),
        "progress": row.get("progress", 0.0),
        "segment_count": row.get("segment_count", 0),
        "playlist_cid": row.get("playlist_cid"),
        "output_cid": row.get("output_cid"),
        "error": row.get("error"),
        "created_at": iso(row.get("created_at")),
        "started_at": iso(row.get("started_at")),
        "finished_at": iso(row.get("finished_at")),
    }


def _detail_fields(row: dict[str, Any], s3: S3Playlist | None = None) -> dict[str, Any]:
    return {
        **_summary_fields(row),
        "inputs": row.get("inputs") or {},
        "params": row.get("params") or {},
        "plan_id": row.get("plan_id"),
        "has_analysis": row.get("analysis") is not None,
        "master_cid": row.get("master_cid") or UNSET,
        "variant_cids": row.get("variant_cids") or UNSET,
        "links": run_links(row["id"], row.get("playlist_cid"), s3),
    }


def run_summary(row: dict[str, Any]) -> RunSummary:
    """The list form of a run row."""
    return RunSummary(**_summary_fields(row))


def run_detail(row: dict[str, Any]) -> RunDetail:
    """A run row with inputs, params and links."""
    return RunDetail(**_detail_fields(row))


def replica(row: dict[str, Any]) -> Replica:
    """The public form of a ``run_replicas`` row (with ``provider_name`` and ``kind``)."""
    return Replica(
        provider_id=row["provider_id"],
        provider_name=row["provider_name"],
        kind=row["kind"],
        state=row["state"],
        objects_done=row["objects_done"],
        objects_total=row["objects_total"],
        attempts=row["attempts"],
        error=row["last_error"],
        updated_at=iso(row["updated_at"]),
    )


def run_view(
    row: dict[str, Any],
    latest: ProvenanceEntry | None,
    s3: S3Playlist | None,
    replicas: list[dict[str, Any]] | None = None,
) -> RunView:
    """A run row with its S3 mirror, the summary of its ``latest`` provenance record and
    its copies on storage providers (``run_replicas`` rows)."""
    provenance = None
    if latest is not None:
        provenance = ProvenanceSummary(
            record_cid=latest.record_cid,
            cid=latest.cid,
            rendered_at=latest.rendered_at,
            rendered_by=latest.rendered_by,
        )
    return RunView(
        **_detail_fields(row, s3),
        s3_playlist_key=s3.key if s3 is not None else UNSET,
        provenance=provenance,
        replicas=[replica(r) for r in replicas or ()],
    )


def provenance_record(entry: ProvenanceEntry) -> ProvenanceRecord:
    """The public form of a provenance record."""
    return ProvenanceRecord(
        cid=entry.cid,
        record_cid=entry.record_cid,
        rendered_at=entry.rendered_at,
        rendered_by=entry.rendered_by,
        record=entry.record,
        created_at=iso(entry.created_at),
    )
