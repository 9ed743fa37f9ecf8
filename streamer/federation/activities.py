"""The ActivityStreams documents of a publication: the media object and Create/Update/Delete.

Pure functions of what is published (:class:`MediaSource`) and to whom
(:class:`Audience`); nothing here reads the database or the network.

- The object is a ``Video``, ``Image`` or ``Audio`` (by the item's kind) whose
  id is stable per CID (:func:`object_id`): ``url`` lists the content on the
  IPFS gateway, ``ipfs://<cid>`` and, for video, the HLS playlist
  (multivariant when the render has a ladder); ``icon`` is the poster;
  ``duration`` is ISO 8601. artdag's own properties (``cid``, ``size``,
  ``provenance``, ``recipe``, ``run``) are in the :data:`ARTDAG_NS` namespace
  declared by :data:`CONTEXT`; the provenance record is a JSON literal
  (``@json``), and its main facts are repeated as ``PropertyValue``
  attachments that Mastodon-like servers show.
- The activity's ``actor`` is this L1's ``Service`` actor, and so is the
  object's ``attributedTo``: receivers (bovine, Mastodon) reject a ``Create``
  whose ``attributedTo`` is not its ``actor``. The publishing user's actor on
  L2, when known, is credited by a ``Mention`` tag and in ``cc``; the activity
  is addressed to that user's followers, with ``Public`` in ``cc``.
- Deleting sends a ``Delete`` of a ``Tombstone`` with the object's id.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ACTIVITY_TYPES",
    "ARTDAG_NS",
    "AS_CONTEXT",
    "CONTEXT",
    "OBJECT_TYPES",
    "PUBLIC",
    "ActivityType",
    "Audience",
    "MediaSource",
    "Playlist",
    "activity_id",
    "build_activity",
    "build_object",
    "iso_duration",
    "object_id",
    "object_type",
    "readdress",
    "tombstone",
]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: The namespace of artdag's own properties.
ARTDAG_NS = "https://artdag.rose-ash.com/ns#"
#: ``@context`` of every document sent: ActivityStreams plus artdag's terms (inline,
#: so a receiver never has to fetch a context of ours).
CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "artdag": ARTDAG_NS,
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "cid": "artdag:cid",
        "size": "artdag:size",
        "recipe": "artdag:recipe",
        "run": "artdag:run",
        "multivariant": "artdag:multivariant",
        "provenance": {"@id": "artdag:provenance", "@type": "@json"},
    },
]
ActivityType = Literal["Create", "Update", "Delete"]
ACTIVITY_TYPES: tuple[ActivityType, ...] = ("Create", "Update", "Delete")
#: Cache item kind -> ActivityStreams object type (other kinds are not published).
OBJECT_TYPES: dict[str, str] = {
    "video": "Video",
    "hls": "Video",
    "image": "Image",
    "audio": "Audio",
}
HLS_MEDIA_TYPE = "application/vnd.apple.mpegurl"


@dataclass(frozen=True)
class Playlist:
    """An HLS playlist of the content: a media playlist, or a multivariant one (a ladder)."""

    url: str
    multivariant: bool = False


@dataclass(frozen=True)
class MediaSource:
    """What is published of one CID.

    Attributes:
        cid: the content's CID.
        kind: the cache item's kind (a key of :data:`OBJECT_TYPES`).
        media_type: the content's media type (``video/mp4``).
        name: the title (the CID when the item has none).
        description: plain text, or None.
        size: bytes, when known.
        duration: seconds, when known.
        width: pixels, for video and images.
        height: pixels, for video and images.
        gateway_url: the content on the public IPFS gateway.
        playlist: the HLS playlist, for video.
        poster_url: the poster image, for video and images.
        provenance: the provenance record of the render that made it.
        recipe_id: the recipe of that render.
        run_id: that render's run.
    """

    cid: str
    kind: str
    media_type: str
    name: str
    description: str | None = None
    size: int | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    gateway_url: str | None = None
    playlist: Playlist | None = None
    poster_url: str | None = None
    provenance: Mapping[str, Any] | None = None
    recipe_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Audience:
    """Who sends and who receives.

    Attributes:
        actor: this L1's ``Service`` actor (the activity's ``actor`` and the
            object's ``attributedTo``).
        user: the publishing user's actor on L2, when known (mentioned, in ``cc``).
        account: that user's ``name@domain`` (the mention's name).
        followers: that user's followers collection, when known.
        extra: other recipients (``cc``).
    """

    actor: str
    user: str | None = None
    account: str | None = None
    followers: str | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)

    @property
    def to(self) -> list[str]:
        """The primary recipients: the user's followers (Public when unknown)."""
        return [self.followers] if self.followers else [PUBLIC]

    @property
    def cc(self) -> list[str]:
        """Public (when not in ``to``), the user's actor and the extra recipients."""
        cc = [] if PUBLIC in self.to else [PUBLIC]
        if self.user:
            cc.append(self.user)
        return cc + [r for r in self.extra if r not in cc]


def object_type(kind: str) -> str:
    """The ActivityStreams type of a cache item kind.

    Raises:
        ValueError: the kind is not published (plans, analysis, other files).
    """
    try:
        return OBJECT_TYPES[kind]
    except KeyError:
        raise ValueError(
            f"a {kind!r} item cannot be published (only {', '.join(sorted(OBJECT_TYPES))})"
        ) from None


def object_id(public_url: str, cid: str) -> str:
    """The object's id: stable per CID, served by ``GET /cache/{cid}/object``."""
    return f"{public_url.rstrip('/')}/cache/{cid}/object"


def activity_id(public_url: str, cid: str, key: str) -> str:
    """An activity's id (``key``: unique per activity, e.g. a uuid hex)."""
    return f"{public_url.rstrip('/')}/cache/{cid}/activities/{key}"


def iso_duration(seconds: float) -> str:
    """``PT12.5S``: an ISO 8601 duration in seconds (milliseconds at most)."""
    text = f"{max(seconds, 0.0):.3f}".rstrip("0").rstrip(".")
    return f"PT{text or '0'}S"


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _urls(src: MediaSource) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    if src.gateway_url:
        link: dict[str, Any] = {
            "type": "Link",
            "href": src.gateway_url,
            "mediaType": src.media_type,
        }
        if src.width and src.height:
            link.update(width=src.width, height=src.height)
        links.append(link)
    links.append({"type": "Link", "href": f"ipfs://{src.cid}", "mediaType": src.media_type})
    if src.playlist is not None:
        links.append(
            {
                "type": "Link",
                "href": src.playlist.url,
                "mediaType": HLS_MEDIA_TYPE,
                "name": "HLS (multivariant)" if src.playlist.multivariant else "HLS",
                "multivariant": src.playlist.multivariant,
            }
        )
    return links


def _mention(audience: Audience) -> dict[str, str]:
    name = f"@{audience.account}" if audience.account else str(audience.user)
    return {"type": "Mention", "href": str(audience.user), "name": name}


def _property(name: str, value: str) -> dict[str, str]:
    return {"type": "PropertyValue", "name": name, "value": value}


def _attachments(src: MediaSource) -> list[dict[str, str]]:
    """The main facts as name/value pairs, for servers that show ``PropertyValue``."""
    props = [_property("CID", src.cid)]
    if src.recipe_id:
        props.append(_property("Recipe", src.recipe_id))
    record = src.provenance or {}
    inputs = record.get("inputs") or []
    if inputs:
        props.append(_property("Inputs", ", ".join(f"{i['name']}={i['cid']}" for i in inputs)))
    effects = record.get("effects") or []
    if effects:
        props.append(
            _property("Effects", ", ".join(f"{e['name']} {e['version']}" for e in effects))
        )
    infra = record.get("infrastructure") or {}
    for key, label in (("software", "Software"), ("hardware", "Hardware")):
        part = infra.get(key) or {}
        if part.get("cid"):
            props.append(_property(label, f"{part.get('name')} ({part['cid']})"))
    return props


def build_object(
    src: MediaSource,
    audience: Audience,
    *,
    object_id: str,
    published: dt.datetime,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    """The ``Video``/``Image``/``Audio`` object of ``src`` (without ``@context``).

    Raises:
        ValueError: ``src.kind`` is not published.
    """
    obj: dict[str, Any] = {
        "id": object_id,
        "type": object_type(src.kind),
        "name": src.name,
        "attributedTo": audience.actor,
        "to": audience.to,
        "cc": audience.cc,
        "published": _when(published),
        "url": _urls(src),
        "cid": src.cid,
        "attachment": _attachments(src),
    }
    if updated is not None:
        obj["updated"] = _when(updated)
    if src.description:
        obj["content"] = html.escape(src.description).replace("\n", "<br>")
    if src.size is not None:
        obj["size"] = src.size
    if src.duration is not None:
        obj["duration"] = iso_duration(src.duration)
    if src.width and src.height:
        obj.update(width=src.width, height=src.height)
    if src.poster_url:
        obj["icon"] = {"type": "Image", "mediaType": "image/jpeg", "url": src.poster_url}
    if src.provenance is not None:
        obj["provenance"] = dict(src.provenance)
    if audience.user:
        obj["tag"] = [_mention(audience)]
    if src.recipe_id:
        obj["recipe"] = src.recipe_id
    if src.run_id:
        obj["run"] = src.run_id
    return obj


def tombstone(object_id: str, former_type: str, deleted: dt.datetime) -> dict[str, Any]:
    """The ``Tombstone`` a ``Delete`` carries and ``GET /cache/{cid}/object`` answers after it."""
    return {
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": _when(deleted),
    }


def build_activity(
    activity_type: ActivityType,
    *,
    activity_id: str,
    obj: Mapping[str, Any],
    audience: Audience,
    published: dt.datetime,
) -> dict[str, Any]:
    """A ``Create``/``Update``/``Delete`` of ``obj`` by ``audience.actor``, with ``@context``."""
    if activity_type not in ACTIVITY_TYPES:
        raise ValueError(f"unknown activity type {activity_type!r}")
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": activity_type,
        "actor": audience.actor,
        "published": _when(published),
        "to": audience.to,
        "cc": audience.cc,
        "object": dict(obj),
    }


def readdress(activity: Mapping[str, Any], audience: Audience) -> dict[str, Any]:
    """``activity`` addressed to ``audience`` (its object too, which mentions its user).

    The publisher builds an activity before L2 was asked who the user is; the
    delivery job readdresses it once L2 told (the user's actor and followers).
    """
    out = dict(activity)
    out["to"], out["cc"] = audience.to, audience.cc
    obj = out.get("object")
    if isinstance(obj, Mapping):
        obj = dict(obj)
        if obj.get("type") != "Tombstone":
            obj["to"], obj["cc"] = audience.to, audience.cc
            obj["attributedTo"] = audience.actor
            tags = [t for t in obj.get("tag") or [] if t.get("type") != "Mention"]
            if audience.user:
                tags.append(_mention(audience))
            if tags:
                obj["tag"] = tags
            else:
                obj.pop("tag", None)
        out["object"] = obj
    return out
