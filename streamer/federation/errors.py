"""Federation's errors: bad signatures (401) and peers that cannot be reached or trusted."""

from __future__ import annotations

from streamer.errors import Unauthenticated, Unavailable

__all__ = ["PeerError", "SignatureError"]


class SignatureError(Unauthenticated):
    """An HTTP Signature is missing, malformed, does not verify, or is stale.

    Raised for a bad ``Digest``/``Content-Digest`` and clock skew too; the API
    answers 401 with a ``WWW-Authenticate: Signature`` challenge.
    """

    challenge = 'Signature realm="artdag",headers="(request-target) host date digest"'


class PeerError(Unavailable):
    """A federation peer (an actor's server, L2) refused, failed or is not allowed.

    The API answers 503; ``field`` names the setting or URL at fault when known.
    """
