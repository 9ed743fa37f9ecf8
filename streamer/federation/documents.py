"""The documents that present this L1 to the fediverse: actor, WebFinger, NodeInfo, outbox.

All are plain JSON objects built from the settings (``L1_PUBLIC_URL`` gives
every id) and the actor's public key. The actor is a ``Service`` named
:data:`ACTOR_USERNAME`: ``acct:artdag@<host of L1_PUBLIC_URL>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from streamer.federation.actor_keys import ActorKeys, actor_url
from streamer.present.server import SERVER_NAME, server_version
from streamer.settings import Settings

__all__ = [
    "ACTIVITY_JSON",
    "ACTOR_USERNAME",
    "AS_CONTEXT",
    "JRD_JSON",
    "NODEINFO_PROFILE",
    "NODEINFO_SCHEMA",
    "SECURITY_CONTEXT",
    "account",
    "actor_document",
    "nodeinfo_document",
    "nodeinfo_index",
    "outbox_document",
    "public_base",
    "webfinger_document",
]

ACTOR_USERNAME = "artdag"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_PROFILE = f'application/json; profile="{NODEINFO_SCHEMA}#"'


def public_base(settings: Settings) -> str:
    """``L1_PUBLIC_URL`` without a trailing slash."""
    return settings.server.public_url.rstrip("/")


def account(settings: Settings) -> str:
    """The actor's WebFinger account: ``acct:artdag@<host[:port] of L1_PUBLIC_URL>``."""
    return f"acct:{ACTOR_USERNAME}@{urlsplit(settings.server.public_url).netloc.lower()}"


def actor_document(settings: Settings, keys: ActorKeys) -> dict[str, Any]:
    """The actor (``GET /actor``): a ``Service`` with its inbox, outbox and public key."""
    base = public_base(settings)
    actor = actor_url(settings.server.public_url)
    return {
        # manuallyApprovesFollowers is an extension term (as Mastodon defines it)
        "@context": [
            AS_CONTEXT,
            SECURITY_CONTEXT,
            {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers"},
        ],
        "id": actor,
        "type": "Service",
        "preferredUsername": ACTOR_USERNAME,
        "name": f"artdag L1 ({urlsplit(base).netloc})",
        "summary": "An artdag L1 rendering server: it publishes its outputs to its L2 registry.",
        "url": base + "/",
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "manuallyApprovesFollowers": False,
        "publicKey": {"id": keys.key_id, "owner": actor, "publicKeyPem": keys.public_pem},
    }


def webfinger_document(settings: Settings) -> dict[str, Any]:
    """The JRD answering ``/.well-known/webfinger?resource=acct:artdag@<host>``."""
    actor = actor_url(settings.server.public_url)
    return {
        "subject": account(settings),
        "aliases": [actor],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": public_base(settings) + "/",
            },
        ],
    }


def nodeinfo_index(settings: Settings) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: where the NodeInfo 2.1 document is."""
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{public_base(settings)}/nodeinfo/2.1"}]}


def nodeinfo_document(settings: Settings) -> dict[str, Any]:
    """NodeInfo 2.1: software name and version, the ActivityPub protocol, no sign-ups."""
    return {
        "version": "2.1",
        "software": {"name": SERVER_NAME, "version": server_version()},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": 1}},
        "metadata": {
            "nodeName": f"artdag L1 ({urlsplit(public_base(settings)).netloc})",
            "l2Server": settings.federation.l2_server,
        },
    }


def outbox_document(settings: Settings, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``GET /outbox``: an ``OrderedCollection`` of the published activities, newest first."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{public_base(settings)}/outbox",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": list(items),
    }
