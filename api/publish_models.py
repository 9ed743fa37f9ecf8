"""Response models of publishing to L2 (``/cache/{cid}/publish``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from api.cache_models import Cid
from streamer.federation.publish import PublishState

__all__ = ["PublishLinks", "PublishStatus"]

Iso = Annotated[str, Meta(description="ISO 8601")]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class PublishLinks(Struct, kw_only=True):
    """Where to look next."""

    self_: str = msgspec.field(name="self")
    object: Annotated[str, Meta(description="the object as sent to L2 (ActivityStreams JSON)")]
    item: str


class PublishStatus(Struct, kw_only=True):
    """Where the publication of a CID to L2 stands (its latest activity)."""

    cid: Cid
    state: Annotated[
        Literal["unpublished", "publishing", "published", "failed"],
        Meta(
            description="`publishing`: queued or being retried (see `attempts`, `error`, "
            "`next_attempt_at`); `published`: L2 accepted it (`remote_id`); `failed`: "
            "delivery gave up (`error` says why)"
        ),
    ]
    l2_server: Annotated[str, Meta(description="the L2 it goes to (`L2_SERVER`)")] | None
    activity: Literal["Create", "Update", "Delete"] | None
    activity_id: str | None
    object_id: Annotated[str, Meta(description="the object's id, stable per CID")] | None
    remote_id: Annotated[str, Meta(description="L2's id of the object, once published")] | None
    target_inbox: Annotated[str, Meta(description="the L2 inbox it was delivered to")] | None
    user_actor: Annotated[str, Meta(description="the publishing user's actor on L2")] | None
    attempts: Annotated[int, Meta(ge=0, description="delivery attempts made")]
    error: Annotated[str, Meta(description="why the last attempt failed")] | None
    created_at: Iso | None
    updated_at: Iso | None
    delivered_at: Iso | None
    next_attempt_at: Annotated[str, Meta(description="ISO 8601: when the next retry is due")] | None
    links: PublishLinks

    @classmethod
    def of(cls, state: PublishState) -> PublishStatus:
        """The document of a publication state."""
        cid = state.cid
        return cls(
            cid=cid,
            state=state.state,
            l2_server=state.l2_server,
            activity=state.activity_type,  # type: ignore[arg-type]
            activity_id=state.activity_id,
            object_id=state.object_id,
            remote_id=state.remote_id,
            target_inbox=state.target_inbox,
            user_actor=state.user_actor,
            attempts=state.attempts,
            error=state.error,
            created_at=_iso(state.created_at),
            updated_at=_iso(state.updated_at),
            delivered_at=_iso(state.delivered_at),
            next_attempt_at=_iso(state.next_attempt_at),
            links=PublishLinks(
                self_=f"/cache/{cid}/publish", object=f"/cache/{cid}/object", item=f"/cache/{cid}"
            ),
        )
