"""Runs: start, list, inspect, cancel and delete renders; serve their live HLS.

- ``POST /runs`` -> 201 ``{"run_id"}``: validates the recipe (422 with
  line/column), stores it, creates the run row and enqueues ``render_run``.
- ``GET /runs`` (``limit``, ``offset``, ``status``, ``recipe``), ``GET /runs/{id}``,
  ``DELETE /runs/{id}`` (cancels first), ``POST /runs/{id}/cancel``.
- ``GET /api/run/{id}`` (+ ``/plan``, ``/analysis``, ``/provenance``).
- ``GET /runs/{id}/playlist.m3u8`` and ``GET /runs/{id}/{segment}``: the live
  local HLS (``{segment}`` also names an ABR ladder's ``master.m3u8`` and
  ``playlist_<h>p.m3u8``); ``GET /runs/{id}/ipfs``: 302 to the current IPFS
  playlist on the gateway (a live ladder run: a multivariant playlist of the
  per-rendition redirects ``GET /runs/{id}/ipfs/<playlist name>``, api.ladder_ipfs);
  ``GET /runs/{id}/events``: Server-Sent Events of progress.

The request and response models are in :mod:`api.schemas.runs`; the work in
:mod:`streamer.runs.service` (start, cancel, delete) and
:mod:`streamer.runs.queries` (lists, plan, analysis, provenance).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Schema,
)
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect, ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from api.auth import current_user
from api.errors import NotFound, ServiceUnavailable
from api.hls_blocking import (
    BLOCKING_ANSWERS,
    SKIP_VALUES,
    HlsMsnQuery,
    HlsPartQuery,
    HlsSkipQuery,
    blocking_request,
    delta_file,
    hinted_part_wait,
)
from api.hls_serving import CORS, playlist_response, segment_response
from api.ladder_ipfs import live_master_text, rung_cid
from api.models import Limit, Offset
from api.openapi_errors import error_answers
from api.openapi_media import documented, file_responses
from api.schemas.fields import RunIdPath
from api.schemas.phases import PlanDocument, plan_document
from api.schemas.runs import (
    ProvenanceList,
    RunCreated,
    RunDeleted,
    RunDetail,
    RunList,
    RunRequest,
    RunView,
    provenance_record,
    run_detail,
    run_links,
    run_summary,
    run_view,
)
from cache.errors import StorageError
from hls.ladder import MASTER_NAME
from streamer.content.live_hls import HlsFile
from streamer.content.media import HLS_MEDIA_TYPE
from streamer.content.shared_hls import fill_segment, refresh_playlist
from streamer.content.stores import hls_dir
from streamer.db import runs as runs_db
from streamer.db.outage import database_unavailable
from streamer.jobs.chunk_state import waiting_for_worker
from streamer.present.deps import Res
from streamer.resources import Resources
from streamer.runs import queries
from streamer.runs.events import subscribe_events
from streamer.runs.service import CANCEL_WAIT_SECONDS, cancel_run, start_run
from streamer.runs.service import delete_run as delete_run_service
from streamer.runs.service import get_run as get_run_row
from streamer.runs.status import TERMINAL_STATUSES, RunStatus

__all__ = [
    "CANCEL_WAIT_SECONDS",
    "PLAYLIST_MEDIA_TYPE",
    "cancel_run",
    "runs_router",
    "start_run",
]

log = logging.getLogger(__name__)

PLAYLIST_MEDIA_TYPE = HLS_MEDIA_TYPE
#: Seconds to read a live ladder run's multivariant playlist from IPFS (no local copy).
_IPFS_MASTER_TIMEOUT = 5.0
_SEGMENT_NAME = re.compile(r"^[A-Za-z0-9]{8,128}\.(ts|m4s|mp4|aac)$")
#: The ABR ladder's playlists beside ``playlist.m3u8`` (hls.ladder).
_LADDER_PLAYLIST = re.compile(r"^(master|playlist_[0-9]{2,4}p)\.m3u8$")
_SEGMENT_TYPES = {
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
}
#: A run id that can name its HLS directory (one safe path component; run ids are uuid4).
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
#: Players need no token: the guard does not even look for one (no Redis per request).
_PUBLIC = {"auth": "public"}
_PLAYLIST_304 = {
    "304": OpenAPIResponse(description="not modified (`If-None-Match` names the ETag)")
}

StatusFilter = Annotated[RunStatus | None, QueryParameter(description="Only runs in this status.")]
#: No pattern in the schema: a name that is not a segment answers 404, not 400.
SegmentPath = Annotated[
    str,
    PathParameter(
        description="A segment file name of the run's playlist "
        f"(`{_SEGMENT_NAME.pattern}`), or an ABR ladder playlist "
        f"(`{_LADDER_PLAYLIST.pattern}`); 404 otherwise."
    ),
]
RecipeFilter = Annotated[
    str | None, QueryParameter(description="Only runs of this recipe (its id).")
]


# --- runs ---------------------------------------------------------------------------------


@post(
    "/runs",
    status_code=201,
    summary="Start a rendering run",
    responses=error_answers((404, "no stored recipe with this id"), 422),
)
async def create_run(
    res: Res, request: Request[Any, Any, Any], data: JSONBody[RunRequest]
) -> RunCreated:
    """Validate the recipe (422 with line/column), store it, create the run and queue its render."""
    run = await start_run(res, data.to_spec(data.ref()), owner=current_user(request))
    return RunCreated(
        run_id=run["id"],
        status=RunStatus(run["status"]),
        links=run_links(run["id"], run.get("playlist_cid")),
    )


@get("/runs", summary="List runs (paginated)")
async def list_runs(
    res: Res,
    limit: Limit = 50,
    offset: Offset = 0,
    status: StatusFilter = None,
    recipe: RecipeFilter = None,
) -> RunList:
    """Newest first; ``status`` and ``recipe`` (recipe id) filter."""
    page = await queries.list_runs(res, status=status, recipe_id=recipe, limit=limit, offset=offset)
    return RunList(
        runs=[run_summary(r) for r in page.rows], total=page.total, limit=limit, offset=offset
    )


async def _run_view(res: Resources, run_id: str) -> RunView:
    row = await get_run_row(res, run_id)
    records = await queries.run_provenance(res, run_id, check=False)
    replicas = await queries.run_replicas(res, run_id)
    latest = records[-1] if records else None
    view = run_view(row, latest, queries.s3_playlist(res, run_id), replicas)
    if row["status"] == RunStatus.RUNNING and await waiting_for_worker(res.redis, res.keys, run_id):
        view = msgspec.structs.replace(view, waiting_for_worker=True)
    return view


@get("/runs/{run_id:str}", summary="Run status")
async def get_run(res: Res, run_id: RunIdPath) -> RunView:
    """The run as JSON (same as ``/api/run/{id}``)."""
    return await _run_view(res, run_id)


@post("/runs/{run_id:str}/cancel", status_code=200, summary="Cancel a run")
async def cancel(res: Res, run_id: RunIdPath) -> RunDetail:
    """Stop a pending or running render; answers the run afterwards."""
    return run_detail(await cancel_run(res, run_id))


@delete("/runs/{run_id:str}", status_code=200, summary="Delete a run")
async def delete_run(res: Res, run_id: RunIdPath) -> RunDeleted:
    """Cancel the run if active, then delete its row and local HLS files."""
    run = await delete_run_service(res, run_id)
    return RunDeleted(run_id=run_id, deleted=True, status=RunStatus(run["status"]))


# --- JSON views --------------------------------------------------------------------------


@get("/api/run/{run_id:str}", summary="Run as JSON")
async def api_run(res: Res, run_id: RunIdPath) -> RunView:
    """Status, playlist CID, segment count, progress, links and the provenance summary."""
    return await _run_view(res, run_id)


@get("/api/run/{run_id:str}/plan", summary="Execution plan JSON")
async def api_run_plan(res: Res, run_id: RunIdPath) -> PlanDocument:
    """The plan made when the run was created."""
    return plan_document(await queries.run_plan(res, run_id))


@get(
    "/api/run/{run_id:str}/analysis",
    summary="Analysis data JSON",
    response_description="The analysis JSON object given with the run (free-form).",
)
async def api_run_analysis(res: Res, run_id: RunIdPath) -> dict[str, Any]:
    """The analysis given with the run (404 when none)."""
    return await queries.run_analysis(res, run_id)


@get("/api/run/{run_id:str}/provenance", summary="Provenance records")
async def api_run_provenance(res: Res, run_id: RunIdPath) -> ProvenanceList:
    """Provenance records of the run (one per completed render), oldest first.

    Each entry: ``cid`` (the output's), ``record_cid`` (CID of the record's canonical
    JSON, as added to IPFS), ``record`` (the specification's shape), ``created_at``.
    """
    records = await queries.run_provenance(res, run_id)
    return ProvenanceList(run_id=run_id, records=[provenance_record(r) for r in records])


# --- live HLS -----------------------------------------------------------------------------


@get(
    "/runs/{run_id:str}/playlist.m3u8",
    summary="Live HLS playlist",
    media_type=PLAYLIST_MEDIA_TYPE,
    response_description="The HLS media playlist (M3U8 text).",
    operation_class=documented(responses=_PLAYLIST_304),
    responses=BLOCKING_ANSWERS,
    opt=_PUBLIC,
)
async def playlist(
    res: Res,
    request: Request[Any, Any, Any],
    run_id: RunIdPath,
    hls_msn: HlsMsnQuery = None,
    hls_part: HlsPartQuery = None,
    hls_skip: HlsSkipQuery = None,
) -> Response[Any]:
    """The local playlist; ``no-cache`` while live, ``ETag`` (304 on ``If-None-Match``), CORS open.

    Served from memory (checked against the file every 0.1 s), never from the database.
    A Low-Latency HLS playlist (``HLS_PART_SECONDS``) answers a blocking reload
    (``_HLS_msn``, ``_HLS_part``) once it holds that segment or part (RFC 8216bis 6.2.5.2),
    waiting at most three target durations (then 503); ``_HLS_skip=YES`` answers a delta
    update (``EXT-X-SKIP``) when there are segments older than ``CAN-SKIP-UNTIL``.
    """
    file = None
    directory = hls_dir(res.settings, run_id)
    if _RUN_ID.match(run_id):
        file = await res.live_hls.playlist(run_id, directory)
        if await refresh_playlist(res, run_id, file):  # IPFS-primary: another node listed
            res.live_hls.forget(run_id)
            file = await res.live_hls.playlist(run_id, directory)
    if file is None:
        await get_run_row(res, run_id)  # 404 naming the run when it does not exist
        raise NotFound(f"run {run_id!r} has no playlist yet (no segment rendered)", field="run_id")
    wait = blocking_request(file, hls_msn, hls_part)
    if wait is not None:
        file, ready = await res.live_hls.wait_playlist(run_id, directory, wait.ready, wait.timeout)
        if file is None:
            raise NotFound(f"run {run_id!r} has no playlist any more", field="run_id")
        if not ready:
            raise ServiceUnavailable(
                f"segment {hls_msn} part {hls_part} did not appear within {wait.timeout:g} s",
                field="_HLS_msn",
                headers={**CORS, "Retry-After": "1"},
            )
    if hls_skip in SKIP_VALUES:  # made once per playlist version, whoever asks
        file = res.live_hls.derived(run_id, file, "delta", delta_file)
    return playlist_response(request, file, PLAYLIST_MEDIA_TYPE)


_LIVE_MASTER = {
    "302": OpenAPIResponse(
        description="The playlist on the IPFS gateway: the run's current media playlist, or "
        "an ABR ladder run's multivariant playlist once it has ended",
        headers={
            "location": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING), description="the gateway URL"
            )
        },
    ),
    "200": OpenAPIResponse(
        description="A live ABR ladder run: its multivariant playlist, each variant URI "
        "`ipfs/<playlist name>` (the per-rendition redirect below), so players follow every "
        "rendition as it grows",
        content={PLAYLIST_MEDIA_TYPE: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
    ),
}
RungPath = Annotated[
    str,
    PathParameter(
        description="A rendition's media playlist: `playlist.m3u8` (the top) or a lower "
        "rung's `playlist_<h>p.m3u8`; 404 when the run has no such rendition."
    ),
]


def _gateway_redirect(res: Resources, cid: str) -> Redirect:
    gateway = res.settings.ipfs.gateway_url.rstrip("/")
    return Redirect(
        f"{gateway}/{cid}", status_code=302, headers={**CORS, "Cache-Control": "no-cache"}
    )


async def _ipfs_master(res: Resources, cid: str) -> bytes | None:
    """The multivariant playlist ``cid`` from IPFS; None when IPFS cannot give it now."""
    ipfs = res.stores.ipfs
    if ipfs is None:
        return None
    try:
        return await asyncio.wait_for(ipfs.cat(cid), _IPFS_MASTER_TIMEOUT)
    except (StorageError, TimeoutError) as exc:  # the plain redirect still plays what it lists
        log.warning("run master %s not read from IPFS: %s", cid, exc)
        return None


@get(
    "/runs/{run_id:str}/ipfs",
    summary="Redirect to the run's current IPFS playlist",
    status_code=302,
    response_description="The playlist on the IPFS gateway (Location).",
    operation_class=documented(responses=_LIVE_MASTER),
)
async def run_ipfs(res: Res, run_id: RunIdPath) -> Response[Any]:
    """302 to ``IPFS_GATEWAY_URL/<current playlist CID>``, also while rendering.

    A run with an ABR ladder: once ended, 302 to its multivariant playlist
    (``master_cid``); while live, 200 with a multivariant playlist whose variants are
    the per-rendition redirects ``/runs/{id}/ipfs/<playlist name>`` (an IPFS
    multivariant playlist would pin each rendition at one moment: :mod:`api.ladder_ipfs`).
    """
    run = await get_run_row(res, run_id)
    master_cid = run.get("master_cid")
    if master_cid and run["status"] not in TERMINAL_STATUSES and _RUN_ID.match(run_id):
        directory = hls_dir(res.settings, run_id)
        master = await res.live_hls.ladder_playlist(run_id, directory, MASTER_NAME)
        body = master.body if master is not None else None
        if not body:  # rendered on another node: the newest master on IPFS, rewritten alike
            body = await _ipfs_master(res, master_cid)
        if body:
            text = live_master_text(body.decode())
            return Response(
                text,
                status_code=200,  # the handler's default is the redirect's 302
                media_type=PLAYLIST_MEDIA_TYPE,
                headers={**CORS, "Cache-Control": "no-cache"},
            )
    cid = master_cid or run.get("playlist_cid")  # no local master here: the IPFS one
    if not cid:
        raise NotFound(
            f"run {run_id!r} has no IPFS playlist yet (status {run['status']})", field="run_id"
        )
    return _gateway_redirect(res, cid)


@get(
    "/runs/{run_id:str}/ipfs/{rung:str}",
    summary="Redirect to a rendition's current IPFS media playlist",
    status_code=302,
    response_description="The rendition's newest media playlist on the IPFS gateway (Location).",
)
async def run_ipfs_rung(res: Res, run_id: RunIdPath, rung: RungPath) -> Redirect:
    """302 to ``IPFS_GATEWAY_URL/<CID>`` of the rendition's newest media playlist
    (``no-cache``: players reload this URL to follow the live rendition)."""
    run = await get_run_row(res, run_id)
    return _gateway_redirect(res, rung_cid(run, rung))


def _status_message(row: dict[str, Any]) -> ServerSentEventMessage:
    """A ``status`` event: the run's summary, as the list answers it."""
    return ServerSentEventMessage(
        data=json.dumps(msgspec.to_builtins(run_summary(row))), event="status"
    )


@get(
    "/runs/{run_id:str}/events",
    summary="Run progress as Server-Sent Events",
    media_type="text/event-stream",
    response_description="`status` first, then `playlist`, `progress`, `step` (batch runs: "
    "a plan step running, done or failed) and `status` events (JSON data) until the run ends.",
)
async def run_events(
    res: Res, request: Request[Any, Any, Any], run_id: RunIdPath
) -> ServerSentEvent:
    """``status`` first, then ``playlist``/``progress``/``status`` events until the run ends."""
    run = await get_run_row(res, run_id)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        yield _status_message(run)
        if run["status"] in TERMINAL_STATUSES:
            return
        async for event in subscribe_events(res.redis, res.keys, run_id):
            if event is None:
                if not request.is_connected:
                    return
                try:
                    row = await runs_db.get_run(res.db, run_id)
                except Exception as exc:  # PostgreSQL restarting: the stream waits for it
                    if not database_unavailable(exc):
                        raise
                    continue
                if row is None or row["status"] in TERMINAL_STATUSES:
                    if row is not None:
                        yield _status_message(row)
                    return
                continue
            kind = str(event.get("type", "message"))
            yield ServerSentEventMessage(data=json.dumps(event), event=kind)
            if kind == "status" and event.get("status") in TERMINAL_STATUSES:
                return

    return ServerSentEvent(stream(), headers={**CORS, "Cache-Control": "no-cache"})


@get(
    "/runs/{run_id:str}/{segment:str}",
    summary="Live HLS segment",
    media_type="application/octet-stream",
    response_description="The segment, typed by its extension: .ts video/mp2t, .m4s "
    "video/iso.segment, .mp4 (fMP4 init) video/mp4, .aac audio/aac; an ABR ladder "
    "playlist (master.m3u8, playlist_<h>p.m3u8) application/vnd.apple.mpegurl.",
    operation_class=documented(
        responses=file_responses(
            ["application/octet-stream"], "the segment (its type by its extension, as above)"
        )
    ),
    opt=_PUBLIC,
)
async def segment(
    res: Res, request: Request[Any, Any, Any], run_id: RunIdPath, segment: SegmentPath
) -> Response[Any]:
    """A segment (or fMP4 init) of the run: immutable, content-named, its name the ``ETag``.

    ``If-None-Match`` / ``If-Modified-Since`` answer 304, one ``Range`` 206. Served from
    memory once read, never from the database.
    """
    if _LADDER_PLAYLIST.match(segment) and _RUN_ID.match(run_id):
        ladder = await res.live_hls.ladder_playlist(run_id, hls_dir(res.settings, run_id), segment)
        if ladder is not None:
            return playlist_response(request, ladder, PLAYLIST_MEDIA_TYPE)
    if not _SEGMENT_NAME.match(segment):
        raise NotFound(f"{segment!r} is not a segment of run {run_id!r}", field="segment")
    file = None
    if _RUN_ID.match(run_id):
        directory = hls_dir(res.settings, run_id)
        file = await res.live_hls.segment(run_id, directory, segment)
        listed = None if file is not None else await res.live_hls.playlist(run_id, directory)
        if await fill_segment(res, run_id, segment, listed):  # IPFS-primary: another node's
            file = await res.live_hls.segment(run_id, directory, segment)
        if file is None:
            file = await _hinted_part(res, run_id, directory, segment)
    if file is None:
        await get_run_row(res, run_id)  # 404 naming the run when it does not exist
        raise NotFound(f"{segment!r} is not a segment of run {run_id!r}", field="segment")
    return await segment_response(request, file, _SEGMENT_TYPES[file.path.suffix])


async def _hinted_part(res: Resources, run_id: str, directory: Path, name: str) -> HlsFile | None:
    """A part a preload hint names, once it exists (bounded wait); None: not one, or not in time."""
    playlist = await res.live_hls.playlist(run_id, directory)
    wait = None if playlist is None else hinted_part_wait(playlist, name)
    if wait is None:
        return None
    _, ready = await res.live_hls.wait_playlist(run_id, directory, wait.ready, wait.timeout)
    return await res.live_hls.segment(run_id, directory, name) if ready else None


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
        run_ipfs_rung,
        run_events,
        segment,
    ],
    tags=["runs"],
)
