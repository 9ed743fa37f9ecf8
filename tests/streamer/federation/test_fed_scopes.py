"""The one table from writes to scopes, and scoped tokens."""

from __future__ import annotations

import pytest

from streamer.auth import scopes, tokens


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/runs", "runs:write"),
        ("/runs/abc/cancel", "runs:write"),
        ("/recipes/beat-sync/run", "runs:write"),
        ("/web/recipes/beat-sync/run", "runs:write"),
        ("/web/run/abc/delete", "runs:write"),
        ("/api/run-recipe", "runs:write"),
        ("/recipes/upload", "recipes:write"),
        ("/web/recipes/x/delete", "recipes:write"),
        ("/cache/bafy/publish", "publish"),
        ("/cache/bafy/meta", "cache:write"),
        ("/cache/upload", "cache:write"),
        ("/web/media/upload", "cache:write"),
        ("/storage/3/test", "storage:write"),
        ("/auth/revoke", None),
        ("/auth/revoke-user", None),
        ("/inbox", None),
        ("/something/new", scopes.ADMIN),
    ],
)
def test_required_scope(path: str, scope: str | None) -> None:
    assert scopes.required_scope(path) == scope


def test_allows() -> None:
    assert scopes.allows(None, "runs:write") and scopes.allows(None, scopes.ADMIN)  # unscoped
    assert scopes.allows(("runs:write",), "runs:write")
    assert not scopes.allows(("runs:write",), "publish")
    assert not scopes.allows((), "cache:write")
    assert scopes.allows((), None)
    assert scopes.allows((scopes.ADMIN,), "storage:write")
    assert scopes.is_admin((scopes.ADMIN,)) and not scopes.is_admin(None)
    assert scopes.known_scopes(["publish", "bogus", 3, "publish"]) == ("publish",)


def test_scopes_travel_in_the_token() -> None:
    key = b"k" * 32
    token, claims = tokens.mint_token(key, "alice", scopes=["publish", "runs:write"])
    assert claims.scopes == ("publish", "runs:write")
    assert tokens.verify_token(key, token).scopes == ("publish", "runs:write")
    plain, _ = tokens.mint_token(key, "alice")
    assert tokens.verify_token(key, plain).scopes is None
