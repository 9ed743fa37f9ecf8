"""Reading runs: pages of runs, a run's plan, analysis, provenance, S3 mirror and copies.

The write side (start, cancel, delete) is :mod:`streamer.runs.service`. Raises
domain errors (:class:`~streamer.errors.Missing`); ``api/`` maps them to HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cache.cid import cid_of_bytes
from cache.s3 import hls_key, object_url
from interpreter.ids import canonical_json
from streamer.db import content as content_db
from streamer.db import replicas as replicas_db
from streamer.db import runs as runs_db
from streamer.errors import Missing
from streamer.resources import Resources
from streamer.runs.service import get_run
from streamer.runs.status import RunStatus

__all__ = [
    "ProvenanceEntry",
    "RunPage",
    "S3Playlist",
    "list_runs",
    "run_analysis",
    "run_plan",
    "run_provenance",
    "run_replicas",
    "s3_playlist",
]


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first.

    Attributes:
        rows: the run rows of this page.
        total: how many runs match the filters (all pages).
    """

    rows: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class ProvenanceEntry:
    """One provenance record of a run.

    Attributes:
        cid: the rendered output's CID.
        record_cid: CID of the record's canonical JSON: what
            :func:`streamer.content.provenance.record_render_provenance` added to IPFS.
        record: the record (the specification's shape).
        created_at: when it was stored.
    """

    cid: str
    record_cid: str
    record: dict[str, Any]
    created_at: dt.datetime | None

    @property
    def rendered_at(self) -> str | None:
        """When the render finished (ISO 8601, from the record)."""
        value = self.record.get("rendered_at")
        return None if value is None else str(value)

    @property
    def rendered_by(self) -> str | None:
        """Who rendered it (``@user@domain``, from the record)."""
        value = self.record.get("rendered_by")
        return None if value is None else str(value)


@dataclass(frozen=True)
class S3Playlist:
    """Where a run's live playlist is mirrored in the S3 bucket."""

    key: str
    url: str


async def list_runs(
    res: Resources,
    *,
    status: RunStatus | None = None,
    recipe_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RunPage:
    """Runs newest first, of one ``status`` and/or one recipe when given."""
    total = await runs_db.count_runs(res.db, status=status, recipe_id=recipe_id)
    rows = await runs_db.list_runs(
        res.db, status=status, recipe_id=recipe_id, limit=limit, offset=offset
    )
    return RunPage(rows=rows, total=total)


async def run_plan(res: Resources, run_id: str) -> dict[str, Any]:
    """The execution plan made when the run was created.

    Raises:
        Missing: no such run, or it has no plan.
    """
    run = await get_run(res, run_id)
    if run.get("plan") is None:
        raise Missing(f"run {run_id!r} has no plan", field="run_id")
    return dict(run["plan"])


async def run_analysis(res: Resources, run_id: str) -> dict[str, Any]:
    """The analysis JSON given with the run.

    Raises:
        Missing: no such run, or it was given none.
    """
    run = await get_run(res, run_id)
    if run.get("analysis") is None:
        raise Missing(f"run {run_id!r} has no analysis data", field="run_id")
    return dict(run["analysis"])


def _entry(row: dict[str, Any]) -> ProvenanceEntry:
    record = row["record"]
    if isinstance(record, str):  # a pool without the JSON codec answers text
        record = json.loads(record)
    return ProvenanceEntry(
        cid=row["cid"],
        record_cid=cid_of_bytes(canonical_json(record).encode()),
        record=record,
        created_at=row.get("created_at"),
    )


async def run_provenance(
    res: Resources, run_id: str, *, check: bool = True
) -> list[ProvenanceEntry]:
    """The provenance records of a run (one per completed render), oldest first.

    Args:
        res: the resources.
        run_id: the run.
        check: raise :class:`Missing` when the run does not exist (else: no records).
    """
    if check:
        await get_run(res, run_id)
    return [_entry(row) for row in await content_db.list_provenance(res.db, run_id)]


def s3_playlist(res: Resources, run_id: str) -> S3Playlist | None:
    """Where renders mirror the run's live playlist in S3 (None without a bucket)."""
    s3 = res.settings.s3
    if not (s3.enabled and s3.bucket):
        return None
    key = hls_key(run_id, "playlist.m3u8")
    return S3Playlist(key=key, url=object_url(s3.endpoint_url, s3.region, s3.bucket, key))


async def run_replicas(res: Resources, run_id: str) -> list[dict[str, Any]]:
    """The run's copies on storage providers (``run_replicas`` rows with the provider's
    ``provider_name`` and ``kind``), by provider id; none for a run that has none."""
    return await replicas_db.list_replicas(res.db, run_id)
