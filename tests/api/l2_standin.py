"""A stand-in L2 for the auth and federation tests: an aiohttp server on loopback.

It has its own RSA key pair and actor (``GET /actor``), and answers
``POST /auth/verify`` by the contract of docs/federation.md only when the call
is signed by the L1's actor: the signature is checked with independent
libraries (``pyhttpsig`` for the cavage draft, ``http-message-signatures`` for
RFC 9421), never with the code under test. It signs its own calls to the L1
(``signed_headers``) with ``pyhttpsig`` too.

It runs in a thread with its own event loop, so a test client that blocks the
test's loop cannot starve it.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpsig
import requests
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, algorithms
from http_message_signatures.resolvers import MappingKeyResolver

__all__ = ["L2StandIn"]


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class L2StandIn:
    """The stand-in L2.

    Attributes:
        l1_public_pem: the L1 actor's public key (calls not signed with it are refused).
        l1_audience: what ``audience`` the answers name (the L1's public URL).
        grants: token -> extra answer fields (``username``, ``scopes``...); unknown
            tokens are refused with 401.
        issuer: the ``issuer`` the answers name (default: this server's actor).
        rfc9421_only: answer cavage-signed calls 401 with ``Accept-Signature``.
        status: answer every verify call with this status instead (e.g. 503).
        seen: each verify call: its headers, body and which scheme verified.
        actor_fetches: how many times ``GET /actor`` was asked.
    """

    l1_public_pem: str
    l1_audience: str
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuer: str | None = None
    rfc9421_only: bool = False
    status: int | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    actor_fetches: int = 0
    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    # --- identity --------------------------------------------------------------------
    @property
    def actor(self) -> str:
        """This L2's actor id."""
        return f"{self.url}/actor"

    @property
    def key_id(self) -> str:
        """Its key id."""
        return f"{self.actor}#main-key"

    def _public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def _private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # --- handlers --------------------------------------------------------------------
    async def _actor(self, request: web.Request) -> web.Response:
        self.actor_fetches += 1
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Application",
            "preferredUsername": "l2",
            "inbox": f"{self.url}/inbox",
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor,
                "publicKeyPem": self._public_pem(),
            },
        }
        return web.json_response(doc, content_type="application/activity+json")

    def _check_cavage(self, request: web.Request, body: bytes) -> bool:
        if "Signature" not in request.headers:
            return False
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        if request.headers.get("Digest") != digest:
            return False
        verifier = httpsig.HeaderVerifier(
            dict(request.headers),
            self.l1_public_pem,
            required_headers=["(request-target)", "host", "date", "digest"],
            method=request.method,
            path=request.path_qs,
            sign_header="signature",
        )
        return bool(verifier.verify())

    def _check_rfc9421(self, request: web.Request, body: bytes) -> bool:
        public = serialization.load_pem_public_key(self.l1_public_pem.encode())
        inputs = request.headers.get("Signature-Input", "")
        key_id = inputs.split('keyid="', 1)[-1].split('"', 1)[0]
        resolver = MappingKeyResolver(public_keys={key_id: public}, private_keys={})  # type: ignore[dict-item]
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=resolver
        )
        message = requests.Request(
            request.method, str(request.url), headers=dict(request.headers), data=body
        ).prepare()
        try:
            verifier.verify(
                message, require_components=("@method", "@authority", "@path"), body=body
            )
        except InvalidSignature:
            return False
        return True

    async def _verify(self, request: web.Request) -> web.Response:
        body = await request.read()
        scheme = None
        if "Signature-Input" in request.headers:
            scheme = "rfc9421" if self._check_rfc9421(request, body) else None
        elif not self.rfc9421_only and self._check_cavage(request, body):
            scheme = "cavage"
        self.seen.append({"headers": dict(request.headers), "body": body, "scheme": scheme})
        if scheme is None:
            headers = {
                "Accept-Signature": 'sig1=("@method" "@authority" "@path");alg="rsa-v1_5-sha256"'
            }
            return web.json_response({"error": "signature required"}, status=401, headers=headers)
        if self.status is not None:
            return web.json_response({"error": "down"}, status=self.status)
        doc = json.loads(body)
        grant = self.grants.get(doc.get("token"))
        if grant is None:
            return web.json_response({"valid": False}, status=401)
        answer = {
            "valid": True,
            "issuer": self.issuer or self.actor,
            "audience": self.l1_audience,
            "scopes": [],
            **grant,
        }
        return web.json_response(answer)

    # --- what the tests call -----------------------------------------------------------
    def signed_headers(
        self, method: str, url: str, body: bytes, *, at: float | None = None
    ) -> dict[str, str]:
        """Headers of a call from this L2 to ``url``, cavage-signed by its actor (pyhttpsig).

        ``at``: the unix time the ``Date`` header says (default: now).
        """
        parts = urlsplit(url)
        headers = {
            "Host": parts.netloc,
            "Date": email.utils.formatdate(at, usegmt=True),
            "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
            "Content-Type": "application/json",
        }
        signer = httpsig.HeaderSigner(
            self.key_id,
            self._private_pem(),
            algorithm="rsa-sha256",
            headers=["(request-target)", "host", "date", "digest"],
            sign_header="signature",
        )
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return dict(signer.sign(headers, method=method, path=path))

    def start(self) -> L2StandIn:
        """Serve on a free loopback port (in a thread); sets ``url``."""
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/actor", self._actor)
            app.router.add_post("/auth/verify", self._verify)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, daemon=True, name="l2-standin")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the stand-in L2 did not start")
        return self

    def stop(self) -> None:
        """Stop serving (a later call reaches a closed port: L2 is down)."""
        loop, runner = self._loop, self._runner
        if loop is None or runner is None:
            return
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = self._runner = None
