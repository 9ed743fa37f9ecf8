"""Response model of ``GET /api/workers`` (what :func:`streamer.jobs.monitor.worker_status` collects).

Optional keys are absent rather than null, as the monitor leaves them out:
a job that finished between two reads has no ``function``; a result has
``result`` or ``error``. Numbers keep their JSON type (an ``int`` stays one).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

__all__ = ["ChunkClaim", "JobResult", "QueuedJob", "WorkerRecord", "WorkerStatus"]

_TIME = "unix time (seconds)"


class QueuedJob(Struct, kw_only=True):
    """A job a worker is running."""

    job_id: str
    function: str | UnsetType = UNSET
    try_: int | UnsetType = msgspec.field(default=UNSET, name="try")
    enqueued_at: Annotated[float, Meta(description=_TIME)] | UnsetType | None = UNSET
    args: Annotated[Any, Meta(description="JSON, or a shortened repr")] | UnsetType = UNSET
    kwargs: Annotated[Any, Meta(description="JSON, or a shortened repr")] | UnsetType = UNSET
    error: Annotated[str, Meta(description="the job could not be read")] | UnsetType = UNSET


class JobResult(Struct, kw_only=True):
    """A finished job of the queue (kept by arq for an hour)."""

    job_id: str
    function: str
    success: bool
    try_: int = msgspec.field(name="try")
    enqueued_at: Annotated[float, Meta(description=_TIME)] | None
    started_at: Annotated[float, Meta(description=_TIME)] | None
    finished_at: Annotated[float, Meta(description=_TIME)] | None
    duration_s: float | None
    result: (
        Annotated[Any, Meta(description="on success: JSON, or a shortened repr")] | UnsetType
    ) = UNSET
    error: Annotated[Any, Meta(description="on failure: the exception")] | UnsetType = UNSET


class WorkerRecord(Struct, kw_only=True):
    """A worker's own health record (gone when it stops; see ``streamer.entry.worker``)."""

    worker_id: str | UnsetType = UNSET
    host: str | UnsetType = UNSET
    pid: int | UnsetType = UNSET
    queue: str | UnsetType = UNSET
    started_at: Annotated[float, Meta(description=_TIME)] | UnsetType = UNSET
    updated_at: Annotated[float, Meta(description=_TIME)] | UnsetType = UNSET
    max_jobs: int | UnsetType = UNSET
    jobs_complete: int | UnsetType = UNSET
    jobs_failed: int | UnsetType = UNSET
    jobs_retried: int | UnsetType = UNSET
    jobs_ongoing: int | UnsetType = UNSET
    running: Annotated[list[str], Meta(description="job ids")] | UnsetType = UNSET
    health_check_interval: Annotated[int | float, Meta(description="seconds")] | UnsetType = UNSET
    age_s: Annotated[float, Meta(description="seconds since the worker wrote it")]
    ttl_ms: Annotated[int, Meta(description="until the record expires")]


class ChunkClaim(Struct, kw_only=True):
    """A chunk of a distributed live run that a worker is rendering now."""

    run_id: str
    index: int
    worker: Annotated[str, Meta(description="host:pid of the claim's holder")]
    heartbeat_age_s: Annotated[
        float, Meta(description="seconds since the claim was renewed (taken over after 15)")
    ]


class WorkerStatus(Struct, kw_only=True):
    """The queue, its workers and recent results, read from Redis."""

    queue: str
    checked_at: Annotated[float, Meta(description=_TIME)]
    queued: Annotated[int, Meta(description="jobs waiting (deferred ones included)")]
    deferred: Annotated[int, Meta(description="jobs scheduled for later")]
    in_progress: int
    in_progress_jobs: list[QueuedJob]
    chunks: Annotated[
        list[ChunkClaim], Meta(description="chunks being rendered (ARTDAG_CHUNK_SEGMENTS)")
    ]
    workers: list[WorkerRecord]
    worker_count: int
    arq_health: (
        Annotated[
            dict[str, Any],
            Meta(
                description="arq's last health line of the queue, split: "
                "`{line, time, j_complete, j_failed, j_retried, j_ongoing, queued}`"
            ),
        ]
        | None
    )
    arq_health_ttl_ms: Annotated[int, Meta(description="-2 when there is none")]
    healthy: Annotated[bool, Meta(description="a worker reported within its health interval")]
    recent: Annotated[list[JobResult], Meta(description="newest first")]
