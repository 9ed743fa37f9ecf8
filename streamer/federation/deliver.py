"""Delivering an activity to L2: find the user's inbox there, then POST it signed.

:func:`deliver` runs in the delivery job (:mod:`streamer.jobs.federation`):

1. WebFinger ``acct:<user>@<domain>`` at ``L2_SERVER`` (the domain is
   ``L2_DOMAIN``, else ``L2_SERVER``'s host[:port]) names the user's actor;
2. the actor document (fetched with a signed GET: servers with authorized
   fetch, bovine among them, answer nothing else) gives the inbox (its
   ``sharedInbox`` when it has one) and the followers collection;
3. the activity, addressed to those followers (:func:`activities.readdress`),
   is POSTed to the inbox with this L1's HTTP Signature
   (:func:`streamer.federation.httpsig.sign_request`).

Every request goes through :mod:`streamer.federation.peer_http` (the
federation peers' network guard: the host is checked before connecting and at
each connection, loopback and private addresses only with
``ARTDAG_ALLOW_PRIVATE_ENDPOINTS``), follows no redirect, has a time limit and
reads at most :data:`MAX_ANSWER_BYTES` of an answer; signed ones go through
:func:`streamer.federation.client.signed_request` (cavage draft, RFC 9421
when the peer asks for it). Failures raise :class:`DeliveryError`,
``permanent`` when trying again cannot help (L2 refused the activity, knows no
such user); the job retries the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from streamer.federation.activities import Audience, readdress
from streamer.federation.client import signed_request
from streamer.federation.errors import PeerError
from streamer.federation.peer_http import PeerResponse, check_peer_url, peer_request
from streamer.resources import Resources
from streamer.settings import Settings

__all__ = [
    "ACTIVITY_JSON",
    "MAX_ANSWER_BYTES",
    "Delivered",
    "DeliveryError",
    "L2Target",
    "account_of",
    "deliver",
    "discover",
    "post_activity",
]

ACTIVITY_JSON = "application/activity+json"
#: The most bytes read of any answer (WebFinger, actor document, inbox reply).
MAX_ANSWER_BYTES = 256 * 1024
#: Seconds one request to L2 may take (WebFinger, actor document, inbox).
_TIMEOUT = 30.0
#: Answers that say "later": the rest of 4xx are the request's fault and final.
_TRANSIENT_4XX = frozenset({401, 408, 425, 429})


class DeliveryError(Exception):
    """A delivery step failed; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class L2Target:
    """Where the user lives on L2."""

    account: str
    actor: str
    inbox: str
    followers: str | None


@dataclass(frozen=True)
class Delivered:
    """What a delivery did: the activity as sent, where, and L2's name for the object."""

    activity: dict[str, Any]
    target: L2Target
    remote_id: str
    status: int


def account_of(user: str, settings: Settings) -> str:
    """``name@domain`` of a user name (``@name@domain`` and ``name@domain`` are kept).

    Raises:
        DeliveryError: (permanent) no L2 server is configured.
    """
    name = user.lstrip("@")
    if "@" in name:
        return name
    l2 = settings.federation.l2_server
    if not l2:
        raise DeliveryError("L2_SERVER is not set", permanent=True)
    domain = settings.federation.l2_domain or urlsplit(l2).netloc
    return f"{name}@{domain}"


def _status_error(what: str, url: str, status: int) -> DeliveryError:
    permanent = 400 <= status < 500 and status not in _TRANSIENT_4XX
    hint = ""
    if status == 401:
        hint = " (L2 did not accept our signature: it must be able to fetch this server's actor)"
    elif 300 <= status < 400:
        hint = " (redirects are not followed)"
    return DeliveryError(f"{what} {url}: HTTP {status}{hint}", permanent=permanent)


async def _guard(url: str, allow_private: bool) -> None:
    """Refuse (for good) a URL the network guard refuses, before anything is sent."""
    try:
        await check_peer_url(url, allow_private=allow_private)
    except PeerError as exc:
        raise DeliveryError(exc.detail, permanent=True) from None


async def _exchange(
    res: Resources,
    method: str,
    url: str,
    *,
    what: str,
    body: bytes | None = None,
    headers: Mapping[str, str],
    signed: bool,
) -> PeerResponse:
    allow = res.settings.network.allow_private_endpoints
    await _guard(url, allow)
    try:
        if not signed:
            return await peer_request(
                method,
                url,
                allow_private=allow,
                headers=headers,
                body=body,
                timeout=_TIMEOUT,
                max_bytes=MAX_ANSWER_BYTES,
            )
        if res.actor_keys is None:
            raise DeliveryError("this process has no actor keys to sign with", permanent=True)
        return await signed_request(
            method,
            url,
            body,
            res.actor_keys,
            allow_private=allow,
            headers=headers,
            redis=res.redis,
            keys=res.keys,
            timeout=_TIMEOUT,
            max_bytes=MAX_ANSWER_BYTES,
        )
    except PeerError as exc:
        raise DeliveryError(f"{what}: {exc.detail}") from None


async def _get_json(
    res: Resources, url: str, *, what: str, signed: bool, accept: str
) -> dict[str, Any]:
    """GET ``url`` as a JSON object (signed as this L1 when ``signed``)."""
    resp = await _exchange(res, "GET", url, what=what, headers={"Accept": accept}, signed=signed)
    if resp.status != 200:
        raise _status_error(what, url, resp.status)
    try:
        doc = json.loads(resp.body)
    except ValueError:
        raise DeliveryError(f"{what} {url}: the answer is not JSON") from None
    if not isinstance(doc, dict):
        raise DeliveryError(f"{what} {url}: the answer is not a JSON object")
    return doc


async def discover(res: Resources, account: str) -> L2Target:
    """The actor, inbox and followers of ``account`` (``name@domain``) on L2.

    Raises:
        DeliveryError: a step failed (``permanent`` when L2 knows no such account).
    """
    l2 = str(res.settings.federation.l2_server or "").rstrip("/")
    if not l2:
        raise DeliveryError("L2_SERVER is not set", permanent=True)
    resource = quote(f"acct:{account}", safe=":@")
    webfinger = f"{l2}/.well-known/webfinger?resource={resource}"
    jrd_type = "application/jrd+json"
    resp = await _exchange(
        res, "GET", webfinger, what="WebFinger", headers={"Accept": jrd_type}, signed=False
    )
    if resp.status == 404:
        raise DeliveryError(f"L2 at {l2} knows no account acct:{account}", permanent=True)
    if resp.status != 200:
        raise _status_error("WebFinger", webfinger, resp.status)
    try:
        jrd = json.loads(resp.body)
    except ValueError:
        raise DeliveryError(f"WebFinger {webfinger}: the answer is not JSON") from None
    actor = _self_link(jrd) if isinstance(jrd, dict) else None
    if actor is None:
        raise DeliveryError(
            f"WebFinger of acct:{account} names no ActivityPub actor", permanent=True
        )
    doc = await _get_json(res, actor, what="actor", signed=True, accept=ACTIVITY_JSON)
    endpoints = doc.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    inbox = shared or doc.get("inbox")
    if not isinstance(inbox, str):
        raise DeliveryError(f"the actor {actor} has no inbox", permanent=True)
    followers = doc.get("followers")
    return L2Target(
        account=account,
        actor=str(doc.get("id") or actor),
        inbox=inbox,
        followers=followers if isinstance(followers, str) else None,
    )


async def post_activity(
    res: Resources, inbox: str, activity: Mapping[str, Any]
) -> tuple[int, str | None]:
    """POST ``activity`` signed to ``inbox``: ``(status, Location or None)`` on 2xx."""
    body = json.dumps(activity, separators=(",", ":")).encode()
    headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON}
    resp = await _exchange(
        res, "POST", inbox, what="inbox", body=body, headers=headers, signed=True
    )
    if not 200 <= resp.status < 300:
        raise _status_error("inbox", inbox, resp.status)
    return resp.status, resp.headers.get("Location")


def _self_link(jrd: Mapping[str, Any]) -> str | None:
    links = jrd.get("links")
    if not isinstance(links, list):
        return None
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind = str(link.get("type") or "")
        href = link.get("href")
        if isinstance(href, str) and (
            kind == ACTIVITY_JSON or kind.startswith("application/ld+json")
        ):
            return href
    return None


async def deliver(res: Resources, row: Mapping[str, Any]) -> Delivered:
    """Deliver the activity of a ``federation_activities`` row to its user's L2 inbox.

    Raises:
        DeliveryError: a step failed (``permanent`` when retrying cannot help).
    """
    user = row.get("published_by")
    if not user:
        raise DeliveryError("the activity names no user to publish as", permanent=True)
    target = await discover(res, account_of(str(user), res.settings))
    audience = Audience(
        actor=str(row["actor"]),
        user=target.actor,
        account=target.account,
        followers=target.followers,
    )
    activity = readdress(row["activity"], audience)
    status, location = await post_activity(res, target.inbox, activity)
    return Delivered(
        activity=activity, target=target, remote_id=location or str(row["object_id"]), status=status
    )
