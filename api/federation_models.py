"""Response models of the federation routes: actor, WebFinger, NodeInfo, outbox, inbox.

Field names are the ActivityStreams / JRD / NodeInfo ones (camelCase,
``@context``); the documents are built by :mod:`streamer.federation.documents`
and converted to these models, so the answer and the OpenAPI schema agree.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

__all__ = [
    "Actor",
    "ActorEndpoints",
    "ActorPublicKey",
    "InboxAccepted",
    "Jrd",
    "JrdLink",
    "NodeInfo",
    "NodeInfoIndex",
    "NodeInfoLink",
    "NodeInfoServices",
    "NodeInfoSoftware",
    "NodeInfoUsage",
    "NodeInfoUsers",
    "OrderedCollection",
]


class ActorPublicKey(Struct, kw_only=True, rename="camel"):
    """The key that signs this L1's requests."""

    id: Annotated[str, Meta(description="the key id: the actor URL + `#main-key`")]
    owner: Annotated[str, Meta(description="the actor URL")]
    public_key_pem: Annotated[str, Meta(description="RSA 2048 public key, SPKI PEM")]


class ActorEndpoints(Struct, kw_only=True, rename="camel"):
    """Where others may deliver to."""

    shared_inbox: str


class Actor(Struct, kw_only=True, rename="camel"):
    """This L1 as an ActivityPub actor (a ``Service``)."""

    context: list[str | dict[str, str]] = field(name="@context")
    id: Annotated[str, Meta(description="`<L1_PUBLIC_URL>/actor`")]
    type: Literal["Service"]
    preferred_username: Annotated[str, Meta(description="`artdag`")]
    name: str
    summary: str
    url: str
    inbox: str
    outbox: str
    endpoints: ActorEndpoints
    manually_approves_followers: bool
    public_key: ActorPublicKey


class JrdLink(Struct, kw_only=True):
    """A WebFinger link."""

    rel: str
    href: str
    type: str | None = None


class Jrd(Struct, kw_only=True):
    """A WebFinger answer (JSON Resource Descriptor, RFC 7033)."""

    subject: Annotated[str, Meta(description="`acct:artdag@<host of L1_PUBLIC_URL>`")]
    aliases: list[str]
    links: list[JrdLink]


class NodeInfoLink(Struct, kw_only=True):
    """Where a NodeInfo document of a schema version is."""

    rel: str
    href: str


class NodeInfoIndex(Struct, kw_only=True):
    """``/.well-known/nodeinfo``."""

    links: list[NodeInfoLink]


class NodeInfoSoftware(Struct, kw_only=True):
    """The server software."""

    name: Annotated[str, Meta(pattern="^[a-z0-9-]+$")]
    version: str


class NodeInfoServices(Struct, kw_only=True):
    """Third-party services (none)."""

    inbound: list[str]
    outbound: list[str]


class NodeInfoUsers(Struct, kw_only=True):
    """Accounts: the one actor."""

    total: int


class NodeInfoUsage(Struct, kw_only=True):
    """Usage figures."""

    users: NodeInfoUsers


class NodeInfo(Struct, kw_only=True, rename="camel"):
    """NodeInfo 2.1."""

    version: Literal["2.1"]
    software: NodeInfoSoftware
    protocols: list[str]
    services: NodeInfoServices
    open_registrations: bool
    usage: NodeInfoUsage
    metadata: dict[str, Any]


class OrderedCollection(Struct, kw_only=True, rename="camel"):
    """The outbox: the activities delivered to L2, newest first."""

    context: str = field(name="@context")
    id: str
    type: Literal["OrderedCollection"]
    total_items: int
    ordered_items: Annotated[
        list[dict[str, Any]], Meta(description="Create / Update / Delete activities")
    ]


class InboxAccepted(Struct, kw_only=True):
    """A received activity and what it did."""

    accepted: bool
    type: Annotated[str, Meta(description="the activity's type")]
    action: Annotated[
        Literal["followed", "unfollowed", "removed", "ignored"],
        Meta(description="what it did here; unknown types are ignored"),
    ]
