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

Every request goes through :mod:`streamer.netguard` (the host is checked before
connecting, and again at each connection by :class:`GuardedResolver`),
follows no redirect, has a time limit and reads at most
:data:`MAX_ANSWER_BYTES` of an answer. Failures raise :class:`DeliveryError`,
``permanent`` when trying again cannot help (L2 refused the activity, knows no
such user); the job retries the others.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from streamer.federation.activities import Audience, readdress
from streamer.federation.actor_keys import ActorKeys
from streamer.federation.httpsig import sign_request
from streamer.netguard import GuardedResolver, RefusedAddress, check_host
from streamer.settings import Settings

__all__ = [
    "ACTIVITY_JSON",
    "MAX_ANSWER_BYTES",
    "Delivered",
    "DeliveryError",
    "L2Client",
    "L2Target",
    "account_of",
    "deliver",
]

ACTIVITY_JSON = "application/activity+json"
#: The most bytes read of any answer (WebFinger, actor document, inbox reply).
MAX_ANSWER_BYTES = 256 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)
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


class L2Client:
    """One delivery's HTTP session to L2: guarded, time-limited, size-limited, signed.

    Use as ``async with L2Client(settings, keys) as client``.
    """

    def __init__(self, settings: Settings, keys: ActorKeys) -> None:
        self._settings = settings
        self._keys = keys
        self._allow_private = settings.network.allow_private_endpoints
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> L2Client:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(allow_private=self._allow_private)
        )
        self._session = aiohttp.ClientSession(timeout=_TIMEOUT, connector=connector)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _guard(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(f"{url!r} is not an http(s) URL", permanent=True)
        try:  # a name is resolved: in a thread, never on the event loop
            await asyncio.to_thread(check_host, parts.hostname, allow_private=self._allow_private)
        except RefusedAddress as exc:
            raise DeliveryError(
                f"{url} is not reachable from here: {exc}", permanent=True
            ) from None

    async def _request(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], what: str
    ) -> tuple[int, bytes, Mapping[str, str]]:
        await self._guard(url)
        assert self._session is not None, "use L2Client as an async context manager"
        try:
            async with self._session.request(
                method, url, data=body, headers=dict(headers), allow_redirects=False
            ) as resp:
                data = await resp.content.read(MAX_ANSWER_BYTES + 1)
                if len(data) > MAX_ANSWER_BYTES:
                    raise DeliveryError(
                        f"{what} {url}: answer larger than {MAX_ANSWER_BYTES} bytes"
                    )
                return resp.status, data, resp.headers
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"{what} {url}: {type(exc).__name__}: {exc}") from None

    async def get_json(self, url: str, *, what: str, signed: bool, accept: str) -> dict[str, Any]:
        """GET ``url`` as a JSON object (signed as this L1 when ``signed``)."""
        headers = {"Accept": accept}
        if signed:
            headers.update(sign_request("GET", url, None, self._keys))
        status, data, _ = await self._request("GET", url, body=None, headers=headers, what=what)
        if status != 200:
            raise _status_error(what, url, status)
        try:
            doc = json.loads(data)
        except ValueError:
            raise DeliveryError(f"{what} {url}: the answer is not JSON") from None
        if not isinstance(doc, dict):
            raise DeliveryError(f"{what} {url}: the answer is not a JSON object")
        return doc

    async def discover(self, account: str) -> L2Target:
        """The actor, inbox and followers of ``account`` (``name@domain``) on L2."""
        l2 = str(self._settings.federation.l2_server or "").rstrip("/")
        if not l2:
            raise DeliveryError("L2_SERVER is not set", permanent=True)
        resource = quote(f"acct:{account}", safe=":@")
        webfinger = f"{l2}/.well-known/webfinger?resource={resource}"
        try:
            jrd = await self.get_json(
                webfinger, what="WebFinger", signed=False, accept="application/jrd+json"
            )
        except DeliveryError as exc:
            if "HTTP 404" in str(exc):
                raise DeliveryError(
                    f"L2 at {l2} knows no account acct:{account}", permanent=True
                ) from None
            raise
        actor = _self_link(jrd)
        if actor is None:
            raise DeliveryError(
                f"WebFinger of acct:{account} names no ActivityPub actor", permanent=True
            )
        doc = await self.get_json(actor, what="actor", signed=True, accept=ACTIVITY_JSON)
        endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
        inbox = (endpoints or {}).get("sharedInbox") or doc.get("inbox")
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
        self, inbox: str, activity: Mapping[str, Any]
    ) -> tuple[int, str | None]:
        """POST ``activity`` signed to ``inbox``: ``(status, Location or None)`` on 2xx."""
        body = json.dumps(activity, separators=(",", ":")).encode()
        headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON}
        headers.update(sign_request("POST", inbox, body, self._keys))
        status, _, answer = await self._request(
            "POST", inbox, body=body, headers=headers, what="inbox"
        )
        if not 200 <= status < 300:
            raise _status_error("inbox", inbox, status)
        return status, answer.get("Location")


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


async def deliver(settings: Settings, keys: ActorKeys, row: Mapping[str, Any]) -> Delivered:
    """Deliver the activity of a ``federation_activities`` row to its user's L2 inbox.

    Raises:
        DeliveryError: a step failed (``permanent`` when retrying cannot help).
    """
    user = row.get("published_by")
    if not user:
        raise DeliveryError("the activity names no user to publish as", permanent=True)
    async with L2Client(settings, keys) as client:
        target = await client.discover(account_of(str(user), settings))
        audience = Audience(
            actor=str(row["actor"]), attributed_to=target.actor, followers=target.followers
        )
        activity = readdress(row["activity"], audience)
        status, location = await client.post_activity(target.inbox, activity)
    return Delivered(
        activity=activity, target=target, remote_id=location or str(row["object_id"]), status=status
    )
