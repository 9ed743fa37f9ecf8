"""Publishing cache items to L2: record the activity, queue its delivery, tell its state.

- :func:`publish` (``POST /cache/{cid}/publish``): a ``Create`` of the item's
  ``Video``/``Image``/``Audio`` object, or an ``Update`` when L2 holds it
  already (a Create or Update of it was delivered, or is on its way, since its
  last Delete).
- :func:`retract` (after ``DELETE /cache/{cid}``): a ``Delete`` when L2 holds it.
- :func:`state_of` (``GET /cache/{cid}/publish``): the latest activity's state,
  ``publishing`` (queued or being retried), ``published`` (with L2's id of the
  object) or ``failed`` (with why); ``unpublished`` when there is none.
- :func:`object_document`: the object as last sent (``GET /cache/{cid}/object``).

Nothing here talks to L2: the delivery job (:mod:`streamer.jobs.federation`)
does, so an L2 that is down only delays the delivery. The activities of one
CID are delivered in order: a new one is queued now only when none before it
waits; otherwise the job of the one before queues it when it settles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from redis.exceptions import RedisError

from streamer.content import media
from streamer.content.derived import local_path
from streamer.content.ids import check_cid
from streamer.content.stores import hls_dir
from streamer.db import content as content_db
from streamer.db import federation as fed_db
from streamer.errors import Conflict, Missing, Unavailable, Unprocessable
from streamer.federation import activities
from streamer.federation.activities import ActivityType, Audience, MediaSource, Playlist
from streamer.federation.actor_keys import actor_url
from streamer.jobs.wake import enqueue_job
from streamer.resources import Resources

__all__ = [
    "DELIVER_JOB",
    "L2NotConfigured",
    "ObjectDocument",
    "PublishState",
    "StateName",
    "deliver_job_id",
    "enqueue_delivery",
    "object_document",
    "publish",
    "retract",
    "state_of",
]

log = logging.getLogger(__name__)

#: The arq function delivering one activity (:mod:`streamer.jobs.federation`).
DELIVER_JOB = "deliver_activity"
StateName = Literal["unpublished", "publishing", "published", "failed"]


class L2NotConfigured(Conflict):
    """Publishing needs ``L2_SERVER`` and it is not set (409, ``field="L2_SERVER"``)."""


@dataclass(frozen=True)
class PublishState:
    """Where a CID's publication stands: its latest activity and how its delivery went."""

    cid: str
    state: StateName
    l2_server: str | None
    object_id: str | None = None
    activity_id: str | None = None
    activity_type: str | None = None
    remote_id: str | None = None
    target_inbox: str | None = None
    user_actor: str | None = None
    attempts: int = 0
    error: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None

    @classmethod
    def of_row(cls, row: Mapping[str, Any], l2_server: str | None) -> PublishState:
        """The state of an activity row."""
        return cls(
            cid=str(row["cid"]),
            state=row["state"],
            l2_server=l2_server,
            object_id=row["object_id"],
            activity_id=row["id"],
            activity_type=row["activity_type"],
            remote_id=row.get("remote_id"),
            target_inbox=row.get("target_inbox"),
            user_actor=row.get("user_actor"),
            attempts=int(row.get("attempts") or 0),
            error=row.get("error"),
            created_at=row.get("created_at"),
            updated_at=row.get("updated_at"),
            delivered_at=row.get("delivered_at"),
            next_attempt_at=row.get("next_attempt_at"),
        )


@dataclass(frozen=True)
class ObjectDocument:
    """The object of a CID as last delivered; ``gone`` once a Delete was (a Tombstone)."""

    document: dict[str, Any]
    gone: bool


def deliver_job_id(activity_id: str) -> str:
    """The arq job id delivering an activity (one job per activity: its id ends in a uuid)."""
    return f"federation:deliver:{activity_id.rstrip('/').rsplit('/', 1)[-1]}"


def _l2_server(res: Resources) -> str:
    l2 = res.settings.federation.l2_server
    if not l2:
        raise L2NotConfigured(
            "publishing needs an L2 server: set L2_SERVER to its URL", field="L2_SERVER"
        )
    return l2


def _display_name(row: Mapping[str, Any], cid: str) -> str:
    if row.get("title"):
        return str(row["title"])
    source = str(row.get("source") or "")
    return source.split(":", 1)[1] if ":" in source else cid


def _local_playlist(path: Path) -> tuple[bool, bool]:
    """(exists, multivariant) of a local playlist file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False, False
    return True, "#EXT-X-STREAM-INF" in text


async def _playlist(
    res: Resources, cid: str, kind: str, run: Mapping[str, Any] | None
) -> Playlist | None:
    gateway = res.settings.ipfs.gateway_url.rstrip("/")
    public = res.settings.server.public_url.rstrip("/")
    if kind == "hls":
        path = await local_path(res, cid)
        multivariant = path is not None and (await asyncio.to_thread(_local_playlist, path))[1]
        return Playlist(f"{gateway}/{cid}", multivariant)
    if kind != "video" or run is None:
        return None
    local = hls_dir(res.settings, str(run["id"])) / "playlist.m3u8"
    exists, multivariant = await asyncio.to_thread(_local_playlist, local)
    if run.get("playlist_cid"):
        return Playlist(f"{gateway}/{run['playlist_cid']}", multivariant)
    if exists:
        return Playlist(f"{public}/runs/{run['id']}/playlist.m3u8", multivariant)
    return None


async def media_source(res: Resources, cid: str) -> MediaSource:
    """What is published of ``cid``: its record, probed media facts, playlist, provenance.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: neither a record nor a local file exists.
        Unprocessable: the item is not video, audio or an image.
    """
    check_cid(cid)
    row = await content_db.get_cache_item(res.db, cid) or {}
    path = await local_path(res, cid)
    if not row and path is None:
        raise Missing(f"{cid} is not in the cache", field="cid")
    info = await asyncio.to_thread(media.probe, path) if path is not None else media.MediaInfo()
    kind = str(row.get("kind") or info.kind)
    if kind not in activities.OBJECT_TYPES:
        raise Unprocessable(
            f"{cid} is a {kind!r} item: only video, audio and images are published", field="cid"
        )
    run = await fed_db.run_of_output(res.db, cid)
    video = info.video or {}
    public = res.settings.server.public_url.rstrip("/")
    size = row.get("size")
    if size is None and path is not None:
        size = (await asyncio.to_thread(path.stat)).st_size
    return MediaSource(
        cid=cid,
        kind=kind,
        media_type=str(row.get("media_type") or info.media_type),
        name=_display_name(row, cid),
        description=row.get("description"),
        size=int(size) if size is not None else None,
        duration=info.duration,
        width=video.get("width"),
        height=video.get("height"),
        gateway_url=f"{res.settings.ipfs.gateway_url.rstrip('/')}/{cid}",
        playlist=await _playlist(res, cid, kind, run),
        poster_url=f"{public}/cache/{cid}/poster.jpg" if kind in ("video", "image") else None,
        provenance=(run or {}).get("provenance"),
        recipe_id=(run or {}).get("recipe_id"),
        run_id=(run or {}).get("id"),
    )


async def enqueue_delivery(res: Resources, cid: str) -> None:
    """Queue the delivery of the CID's next pending activity (a no-op when already queued).

    Raises:
        Unavailable: the job queue (Redis) is not reachable.
    """
    pending = await fed_db.earliest_pending(res.db, cid)
    if pending is None:
        return
    try:
        await enqueue_job(
            res.arq, res.keys, DELIVER_JOB, pending["id"], _job_id=deliver_job_id(pending["id"])
        )
    except (RedisError, OSError) as exc:
        raise Unavailable(
            f"the job queue is not reachable ({exc}); the publication of {cid} is recorded "
            "and is queued when you publish again",
            field="cid",
        ) from None


#: ``build(latest live activity or None, key, now)`` -> ``(activity type, object type,
#: activity)``, or None when there is nothing to send.
Builder = Callable[
    [Mapping[str, Any] | None, str, dt.datetime], tuple[str, str, dict[str, Any]] | None
]


async def _record(
    res: Resources, cid: str, *, user: str | None, build: Builder
) -> dict[str, Any] | None:
    """Insert the activity ``build`` makes, under the CID's lock (None: nothing to send)."""
    now = dt.datetime.now(dt.UTC)
    key = uuid.uuid4().hex
    async with res.db.acquire() as conn, conn.transaction():
        await fed_db.lock_cid(conn, cid)
        live = await fed_db.latest_live(conn, cid)
        built = build(live, key, now)
        if built is None:
            return None
        activity_type, object_type, activity = built
        return await fed_db.new_activity(
            conn,
            activity_id=activity["id"],
            cid=cid,
            activity_type=activity_type,
            object_type=object_type,
            object_id=activities.object_id(res.settings.server.public_url, cid),
            actor=activity["actor"],
            published_by=user or (live or {}).get("published_by"),
            activity=activity,
        )


async def publish(res: Resources, cid: str, *, user: str | None) -> PublishState:
    """Record a Create (or an Update) of ``cid`` and queue its delivery.

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: ``cid`` is not in the cache.
        Unprocessable: the item is not video, audio or an image.
        L2NotConfigured: ``L2_SERVER`` is not set.
        Unavailable: the job queue is not reachable (the activity stays recorded).
    """
    src = await media_source(res, cid)
    l2 = _l2_server(res)
    public = res.settings.server.public_url
    audience = Audience(actor=actor_url(public))
    oid = activities.object_id(public, cid)

    def build(
        live: Mapping[str, Any] | None, key: str, now: dt.datetime
    ) -> tuple[str, str, dict[str, Any]]:
        held = live is not None and live["activity_type"] != "Delete"
        kind: ActivityType = "Update" if held else "Create"
        first = (
            (live or {}).get("activity", {}).get("object", {}).get("published") if held else None
        )
        published = dt.datetime.fromisoformat(first.replace("Z", "+00:00")) if first else now
        obj = activities.build_object(
            src, audience, object_id=oid, published=published, updated=now if held else None
        )
        activity = activities.build_activity(
            kind,
            activity_id=activities.activity_id(public, cid, key),
            obj=obj,
            audience=audience,
            published=now,
        )
        return kind, obj["type"], activity

    row = await _record(res, cid, user=user, build=build)
    assert row is not None  # build always makes a Create or an Update
    await enqueue_delivery(res, cid)
    return PublishState.of_row(row, l2)


async def retract(res: Resources, cid: str, *, user: str | None) -> PublishState | None:
    """Record a Delete of ``cid`` when L2 holds it, and queue its delivery.

    Called once the item was deleted here: a queue that cannot be reached is
    logged, not raised (the deletion itself is done).

    Returns:
        The Delete's state; None when there is nothing to retract (or no L2).
    """
    l2 = res.settings.federation.l2_server
    if not l2:
        return None
    public = res.settings.server.public_url
    audience = Audience(actor=actor_url(public))

    def build(
        live: Mapping[str, Any] | None, key: str, now: dt.datetime
    ) -> tuple[str, str, dict[str, Any]] | None:
        if live is None or live["activity_type"] == "Delete":
            return None
        former = str(live["object_type"])
        activity = activities.build_activity(
            "Delete",
            activity_id=activities.activity_id(public, cid, key),
            obj=activities.tombstone(str(live["object_id"]), former, now),
            audience=audience,
            published=now,
        )
        return "Delete", former, activity

    row = await _record(res, cid, user=user, build=build)
    if row is None:
        return None
    try:
        await enqueue_delivery(res, cid)
    except Unavailable as exc:
        log.warning("Delete of %s recorded but not queued: %s", cid, exc.detail)
    return PublishState.of_row(row, l2)


async def state_of(res: Resources, cid: str) -> PublishState:
    """The publication state of ``cid`` (its latest activity).

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: ``cid`` was never published and is not in the cache.
    """
    check_cid(cid)
    l2 = res.settings.federation.l2_server
    row = await fed_db.latest_activity(res.db, cid)
    if row is not None:
        return PublishState.of_row(row, l2)
    if await content_db.get_cache_item(res.db, cid) is None and await local_path(res, cid) is None:
        raise Missing(f"{cid} is not in the cache", field="cid")
    return PublishState(cid=cid, state="unpublished", l2_server=l2)


async def object_document(res: Resources, cid: str) -> ObjectDocument:
    """The object of ``cid`` as last delivered to L2 (a Tombstone once deleted there).

    Raises:
        InvalidValue: ``cid`` is malformed.
        Missing: no activity of ``cid`` was delivered.
    """
    check_cid(cid)
    row = await fed_db.latest_delivered(res.db, cid)
    if row is None:
        raise Missing(f"{cid} was not published", field="cid")
    obj = dict(row["activity"]["object"])
    document = {"@context": activities.CONTEXT, **obj}
    return ObjectDocument(document, gone=obj.get("type") == "Tombstone")
