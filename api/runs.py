"""Runs: start, list, inspect, cancel and delete renders; serve their live HLS.

- ``POST /runs`` -> 201 ``{"run_id"}``: validates the recipe (422 with
  line/column), stores it, creates the run row and enqueues ``render_run``.
- ``GET /runs`` (``limit``, ``offset``, ``status``, ``recipe``), ``GET /runs/{id}``,
  ``DELETE /runs/{id}`` (cancels first), ``POST /runs/{id}/cancel``.
- ``GET /api/run/{id}`` (+ ``/plan``, ``/analysis``, ``/provenance``).
- ``GET /runs/{id}/playlist.m3u8`` and ``GET /runs/{id}/{segment}``: the live
  local HLS; ``GET /runs/{id}/ipfs``: 302 to the current IPFS playlist on the
  gateway; ``GET /runs/{id}/events``: Server-Sent Events of progress.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File, Redirect, ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from api.auth import current_user
from api.errors import BadRequest, NotFound
from api.models import check_paging, parse_run_request, provenance_json, run_json
from cache.s3 import hls_key, object_url
from streamer.content.media import HLS_MEDIA_TYPE
from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import runs as runs_db
from streamer.resources import Resources
from streamer.runs.events import subscribe_events
from streamer.runs.service import CANCEL_WAIT_SECONDS, cancel_run, start_run
from streamer.runs.service import delete_run as delete_run_service
from streamer.runs.service import get_run as get_run_row
from streamer.runs.status import RUN_STATUSES, TERMINAL_STATUSES
from streamer.settings import Settings

__all__ = [
    "CANCEL_WAIT_SECONDS",
    "PLAYLIST_MEDIA_TYPE",
    "cancel_run",
    "runs_router",
    "start_run",
]

PLAYLIST_MEDIA_TYPE = HLS_MEDIA_TYPE
_SEGMENT_NAME = re.compile(r"^[A-Za-z0-9]{8,128}\.(ts|m4s|mp4|aac)$")
_SEGMENT_TYPES = {
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
}
_IMMUTABLE = "public, max-age=31536000, immutable"
_CORS = {"Access-Control-Allow-Origin": "*"}


# --- helpers ----------------------------------------------------------------------------


def _settings(res: Resources) -> Settings:
    return res.settings  # type: ignore[no-any-return]


# --- runs ---------------------------------------------------------------------------------


@post("/runs", status_code=201, summary="Start a rendering run")
async def create_run(
    res: Resources, request: Request[Any, Any, Any], data: JSONBody[Any]
) -> dict[str, Any]:
    """Body: ``{"recipe_id": ID} | {"recipe": TEXT}``, ``"inputs": {NAME: CID}``,
    optional ``"params"``, ``"analysis"``, ``"pace"`` (x real time), ``"duration"`` (s)."""
    req = parse_run_request(data)
    run = await start_run(res, req.to_spec(), owner=current_user(request))
    return {"run_id": run["id"], "status": run["status"], "links": run_json(run)["links"]}


@get("/runs", summary="List runs (paginated)")
async def list_runs(
    res: Resources,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
    status: FromQuery[str | None] = None,
    recipe: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Newest first; ``status`` and ``recipe`` (recipe id) filter."""
    check_paging(limit, offset)
    if status is not None and status not in RUN_STATUSES:
        raise BadRequest(
            f"status: {status!r} is not one of {', '.join(RUN_STATUSES)}", field="status"
        )
    total = await runs_db.count_runs(res.db, status=status, recipe_id=recipe)
    rows = await runs_db.list_runs(
        res.db, status=status, recipe_id=recipe, limit=limit, offset=offset
    )
    return {
        "runs": [run_json(r, full=False) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


async def _run_with_provenance(res: Resources, run_id: str) -> dict[str, Any]:
    """``run_json`` plus ``provenance``: the latest record's summary (None before one)."""
    out = run_json(await get_run_row(res, run_id))
    s3 = res.settings.s3
    if s3.enabled and s3.bucket:  # renders mirror their live HLS to the bucket
        key = hls_key(run_id, "playlist.m3u8")
        out["s3_playlist_key"] = key
        out["links"]["s3_playlist"] = object_url(s3.endpoint_url, s3.region, s3.bucket, key)
    rows = await content_db.list_provenance(res.db, run_id)
    latest = provenance_json(rows[-1]) if rows else None
    out["provenance"] = (
        None
        if latest is None
        else {k: latest[k] for k in ("record_cid", "cid", "rendered_at", "rendered_by")}
    )
    return out


@get("/runs/{run_id:str}", summary="Run status")
async def get_run(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """The run as JSON (same as ``/api/run/{id}``)."""
    return await _run_with_provenance(res, run_id)


@post("/runs/{run_id:str}/cancel", status_code=200, summary="Cancel a run")
async def cancel(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """Stop a pending or running render; answers the run afterwards."""
    return run_json(await cancel_run(res, run_id))


@delete("/runs/{run_id:str}", status_code=200, summary="Delete a run")
async def delete_run(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """Cancel the run if active, then delete its row and local HLS files."""
    run = await delete_run_service(res, run_id)
    return {"run_id": run_id, "deleted": True, "status": run["status"]}


# --- JSON views --------------------------------------------------------------------------


@get("/api/run/{run_id:str}", summary="Run as JSON")
async def api_run(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """Status, playlist CID, segment count, progress, links and the provenance summary."""
    return await _run_with_provenance(res, run_id)


@get("/api/run/{run_id:str}/plan", summary="Execution plan JSON")
async def api_run_plan(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """The plan made when the run was created."""
    run = await get_run_row(res, run_id)
    if run.get("plan") is None:
        raise NotFound(f"run {run_id!r} has no plan", field="run_id")
    return dict(run["plan"])


@get("/api/run/{run_id:str}/analysis", summary="Analysis data JSON")
async def api_run_analysis(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """The analysis given with the run (404 when none)."""
    run = await get_run_row(res, run_id)
    if run.get("analysis") is None:
        raise NotFound(f"run {run_id!r} has no analysis data", field="run_id")
    return dict(run["analysis"])


@get("/api/run/{run_id:str}/provenance", summary="Provenance records")
async def api_run_provenance(res: Resources, run_id: FromPath[str]) -> dict[str, Any]:
    """Provenance records of the run (one per completed render), oldest first.

    Each entry: ``cid`` (the output's), ``record_cid`` (CID of the record's canonical
    JSON, as added to IPFS), ``record`` (the specification's shape), ``created_at``.
    """
    await get_run_row(res, run_id)
    rows = await content_db.list_provenance(res.db, run_id)
    return {"run_id": run_id, "records": [provenance_json(r) for r in rows]}


# --- live HLS -----------------------------------------------------------------------------


@get("/runs/{run_id:str}/playlist.m3u8", summary="Live HLS playlist", include_in_schema=True)
async def playlist(res: Resources, run_id: FromPath[str]) -> Response[bytes]:
    """The local playlist; ``no-cache`` while live, CORS open."""
    await get_run_row(res, run_id)
    path = hls_dir(res.settings, run_id) / "playlist.m3u8"
    try:
        body = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        raise NotFound(
            f"run {run_id!r} has no playlist yet (no segment rendered)", field="run_id"
        ) from None
    ended = b"#EXT-X-ENDLIST" in body
    return Response(
        body,
        media_type=PLAYLIST_MEDIA_TYPE,
        headers={**_CORS, "Cache-Control": "public, max-age=60" if ended else "no-cache"},
    )


@get("/runs/{run_id:str}/ipfs", summary="Redirect to the run's current IPFS playlist")
async def run_ipfs(res: Resources, run_id: FromPath[str]) -> Redirect:
    """302 to ``IPFS_GATEWAY_URL/<current playlist CID>``, also while rendering."""
    run = await get_run_row(res, run_id)
    cid = run.get("playlist_cid")
    if not cid:
        raise NotFound(
            f"run {run_id!r} has no IPFS playlist yet (status {run['status']})", field="run_id"
        )
    gateway = res.settings.ipfs.gateway_url.rstrip("/")
    return Redirect(
        f"{gateway}/{cid}", status_code=302, headers={**_CORS, "Cache-Control": "no-cache"}
    )


@get("/runs/{run_id:str}/events", summary="Run progress as Server-Sent Events")
async def run_events(
    res: Resources, request: Request[Any, Any, Any], run_id: FromPath[str]
) -> ServerSentEvent:
    """``status`` first, then ``playlist``/``progress``/``status`` events until the run ends."""
    run = await get_run_row(res, run_id)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        current = run_json(run, full=False)
        yield ServerSentEventMessage(data=json.dumps(current), event="status")
        if current["status"] in TERMINAL_STATUSES:
            return
        async for event in subscribe_events(res.redis, res.keys, run_id):
            if event is None:
                if not request.is_connected:
                    return
                row = await runs_db.get_run(res.db, run_id)
                if row is None or row["status"] in TERMINAL_STATUSES:
                    if row is not None:
                        yield ServerSentEventMessage(
                            data=json.dumps(run_json(row, full=False)), event="status"
                        )
                    return
                continue
            kind = str(event.get("type", "message"))
            yield ServerSentEventMessage(data=json.dumps(event), event=kind)
            if kind == "status" and event.get("status") in TERMINAL_STATUSES:
                return

    return ServerSentEvent(stream(), headers={**_CORS, "Cache-Control": "no-cache"})


@get("/runs/{run_id:str}/{segment:str}", summary="Live HLS segment")
async def segment(res: Resources, run_id: FromPath[str], segment: FromPath[str]) -> File:
    """A segment (or fMP4 init) of the run: immutable, content-named."""
    if not _SEGMENT_NAME.match(segment):
        raise NotFound(f"{segment!r} is not a segment of run {run_id!r}", field="segment")
    await get_run_row(res, run_id)
    directory = hls_dir(res.settings, run_id)
    path = directory / segment
    # names are checked above; resolving again guards against symlinks out of the directory
    resolved = await asyncio.to_thread(Path.resolve, path)
    if resolved.parent != await asyncio.to_thread(Path.resolve, directory):
        raise NotFound(f"{segment!r} is not a segment of run {run_id!r}", field="segment")
    if not await asyncio.to_thread(resolved.is_file):
        raise NotFound(f"{segment!r} is not a segment of run {run_id!r}", field="segment")
    return File(
        resolved,
        media_type=_SEGMENT_TYPES[resolved.suffix],
        content_disposition_type="inline",
        headers={**_CORS, "Cache-Control": _IMMUTABLE},
    )


runs_router = Router(
    path="/",
    route_handlers=[
        create_run,
        list_runs,
        get_run,
        cancel,
        delete_run,
        api_run,
        api_run_plan,
        api_run_analysis,
        api_run_provenance,
        playlist,
        run_ipfs,
        run_events,
        segment,
    ],
    tags=["runs"],
)
