"""Request and response models of the ``/auth`` routes.

The request bodies are optional (without one, the caller's own token or user
is meant); keys other than the documented one are ignored, as L2 may send more.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

__all__ = ["RevokeToken", "RevokeUser", "RevokedToken", "RevokedUser"]


class RevokeToken(Struct, kw_only=True):
    """``POST /auth/revoke``: which token to revoke."""

    token: (
        Annotated[
            str,
            Meta(
                min_length=1,
                description="one of the caller's tokens, or any foreign/expired one "
                "(default: the token of this request)",
            ),
        ]
        | UnsetType
    ) = UNSET


class RevokeUser(Struct, kw_only=True):
    """``POST /auth/revoke-user``: whose tokens to revoke."""

    user: (
        Annotated[str, Meta(min_length=1, description="the caller (the default); no one else")]
        | UnsetType
    ) = UNSET


class RevokedToken(Struct, kw_only=True):
    """The revoked token's hash (the server never keeps a token's text)."""

    revoked: bool
    token_hash: Annotated[str, Meta(description="SHA-256 hex of the token text")]


class RevokedUser(Struct, kw_only=True):
    """The user whose tokens are revoked (all of them, tracked or not)."""

    revoked_user: str
    tracked_tokens: Annotated[int, Meta(description="tokens revoked by hash")]
