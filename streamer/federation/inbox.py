"""``POST /inbox``: signed activities from other actors, and what each one does here.

A post must be signed (HTTP Signatures, see :mod:`streamer.federation.httpsig`)
by the actor the activity names; its body is at most :data:`INBOX_MAX_BYTES`.
What the L1 does with it (one table, :data:`HANDLERS`):

- ``Follow`` of this actor: the follower is recorded (Redis set ``fed:followers``);
- ``Undo`` of such a ``Follow``: the follower is removed;
- ``Delete`` of the sending actor itself: it is removed from the followers and
  its cached key forgotten;
- anything else is accepted and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streamer.errors import InvalidValue
from streamer.federation.actor_keys import actor_url
from streamer.federation.errors import SignatureError
from streamer.federation.keyfetch import KeyStore
from streamer.resources import Resources

__all__ = ["HANDLERS", "INBOX_MAX_BYTES", "InboxOutcome", "key_store", "receive"]

#: The largest activity the inbox reads (413 beyond).
INBOX_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class InboxOutcome:
    """What a received activity did: its type and ``followed``, ``unfollowed``,
    ``removed`` or ``ignored``."""

    type: str
    action: str
    actor: str


def key_store(res: Resources) -> KeyStore:
    """The public keys of signers, cached under the app's Redis prefix."""
    return KeyStore(
        res.redis,
        res.keys,
        allow_private=res.settings.network.allow_private_endpoints,
        signer=res.actor_keys,
    )


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _redis(res: Resources) -> Any:
    # redis-py's asyncio commands are typed as sync-or-async; these are awaited
    return res.redis


Handler = Callable[[Resources, str, Mapping[str, Any]], Awaitable[str]]


async def _follow(res: Resources, actor: str, activity: Mapping[str, Any]) -> str:
    if _id_of(activity.get("object")) != actor_url(res.settings.server.public_url):
        return "ignored"
    await _redis(res).sadd(res.keys.followers, actor)
    return "followed"


async def _undo(res: Resources, actor: str, activity: Mapping[str, Any]) -> str:
    inner = activity.get("object")
    if not isinstance(inner, Mapping) or inner.get("type") != "Follow":
        return "ignored"
    if _id_of(inner.get("actor")) != actor:
        return "ignored"
    return "unfollowed" if await _redis(res).srem(res.keys.followers, actor) else "ignored"


async def _delete(res: Resources, actor: str, activity: Mapping[str, Any]) -> str:
    if _id_of(activity.get("object")) != actor:
        return "ignored"  # other objects of other servers: nothing of theirs is kept here
    await _redis(res).srem(res.keys.followers, actor)
    return "removed"


#: activity type -> what it does here (types not listed are accepted and ignored)
HANDLERS: dict[str, Handler] = {"Follow": _follow, "Undo": _undo, "Delete": _delete}


def _parse(body: bytes) -> dict[str, Any]:
    try:
        activity = json.loads(body)
    except ValueError:
        raise InvalidValue("the body is not JSON", field="body") from None
    if not isinstance(activity, dict):
        raise InvalidValue("expected an activity (a JSON object)", field="body")
    if not isinstance(activity.get("type"), str):
        raise InvalidValue("the activity has no type", field="type")
    if _id_of(activity.get("actor")) is None:
        raise InvalidValue("the activity names no actor", field="actor")
    return activity


async def receive(
    res: Resources, method: str, target: str, headers: Mapping[str, str], body: bytes
) -> InboxOutcome:
    """Verify and act on one posted activity.

    Raises:
        SignatureError: unsigned, badly signed, stale, or signed by another actor
            than the activity's.
        InvalidValue: the body is not an activity.
    """
    scheme = "https" if res.settings.server.public_url.startswith("https:") else "http"
    _, key = await key_store(res).verify(method, target, headers, body, target_scheme=scheme)
    activity = _parse(body)
    actor = _id_of(activity.get("actor")) or ""
    if actor != key.owner:
        raise SignatureError(
            f"the activity's actor {actor!r} is not the signer ({key.owner!r})", field="actor"
        )
    kind = str(activity["type"])
    handler = HANDLERS.get(kind)
    action = await handler(res, actor, activity) if handler is not None else "ignored"
    if kind == "Delete" and action == "removed":
        await res.redis.delete(res.keys.actor_key(key.key_id))
    return InboxOutcome(type=kind, action=action, actor=actor)
