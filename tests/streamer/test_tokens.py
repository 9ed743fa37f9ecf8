"""Token signing, verification, key file and Redis revocation (real Redis)."""

from __future__ import annotations

import stat
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from streamer.auth import tokens
from streamer.auth.tokens import TokenError
from streamer.keys import RedisKeys
from streamer.settings import Settings

KEY = b"k" * 64


def test_round_trip_claims() -> None:
    token, claims = tokens.mint_token(KEY, "@alice@l2.example", ttl=60, now=1_000_000)
    got = tokens.verify_token(KEY, token, now=1_000_030)
    assert got == claims
    assert (got.user, got.issued, got.expiry) == ("@alice@l2.example", 1_000_000, 1_000_060)
    assert len(got.jti) == 24
    other, _ = tokens.mint_token(KEY, "@alice@l2.example", ttl=60, now=1_000_000)
    assert other != token  # a fresh jti every time


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t + "x", "signature"),
        (lambda t: "e30" + t[3:], "signature"),
        (lambda t: t.replace(".", ""), "malformed"),
        (lambda t: "", "malformed"),
        # found by the API fuzz tests: compare_digest raised TypeError (a 500)
        (lambda t: t + "\u00e9", "malformed"),
        (lambda t: "\u00ff" + t, "malformed"),
    ],
)
def test_tampered_tokens_fail(mutate: Any, reason: str) -> None:
    token, _ = tokens.mint_token(KEY, "alice")
    with pytest.raises(TokenError, match=reason):
        tokens.verify_token(KEY, mutate(token))


def test_wrong_key_and_expiry() -> None:
    token, _ = tokens.mint_token(KEY, "alice", ttl=10, now=1_000_000)
    with pytest.raises(TokenError, match="signature"):
        tokens.verify_token(b"x" * 64, token, now=1_000_001)
    with pytest.raises(TokenError, match="expired"):
        tokens.verify_token(KEY, token, now=1_000_010)
    with pytest.raises(TokenError, match="future"):
        tokens.verify_token(KEY, token, now=900_000)


def test_bad_user_and_ttl() -> None:
    with pytest.raises(TokenError, match="user"):
        tokens.mint_token(KEY, "bad user; drop")
    with pytest.raises(TokenError, match="ttl"):
        tokens.mint_token(KEY, "alice", ttl=0)
    with pytest.raises(TokenError, match="ttl"):
        tokens.mint_token(KEY, "alice", ttl=tokens.MAX_TTL + 1)


def test_cluster_key_env_then_file(tmp_path: Path) -> None:
    env = {"ARTDAG_DATA_DIR": str(tmp_path / "data")}
    with_env = Settings.from_env({**env, "ARTDAG_CLUSTER_KEY": "shared-secret-of-the-cluster"})
    assert tokens.cluster_key(with_env) == b"shared-secret-of-the-cluster"
    settings = Settings.from_env(env)
    key = tokens.cluster_key(settings)
    path = tmp_path / "data" / "cluster.key"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and tokens.cluster_key(settings) == key  # stable across calls


def test_cluster_key_created_by_racing_workers_is_one_whole_key(tmp_path: Path) -> None:
    # two workers sharing a data folder start together: each must get the same full key
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(50):
        settings = Settings.from_env({"ARTDAG_DATA_DIR": str(tmp_path / f"data{round_}")})
        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(tokens.cluster_key, [settings] * 8))
        assert len(set(keys)) == 1 and len(keys[0]) == 64
        assert [p.name for p in (tmp_path / f"data{round_}").iterdir()] == ["cluster.key"]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_revoke_token_and_user(redis: Any, redis_prefix: str) -> None:
    prefix = f"{redis_prefix}artdag:"
    keys = RedisKeys(prefix=prefix)
    user = f"u{uuid.uuid4().hex[:8]}"
    earlier = time.time() - 60
    a, ca = tokens.mint_token(KEY, user, now=earlier)
    b, cb = tokens.mint_token(KEY, user, now=earlier)
    c, cc = tokens.mint_token(KEY, "bystander", now=earlier)
    for tok, cl in ((a, ca), (b, cb)):
        await tokens.track_token(redis, user, tok, cl.expiry, keys=keys)
    assert not await tokens.is_revoked(redis, a, ca, keys=keys)
    digest = await tokens.revoke_token(redis, a, keys=keys)
    assert digest == tokens.token_hash(a) and len(digest) == 64
    assert await tokens.is_revoked(redis, a, ca, keys=keys)
    assert not await tokens.is_revoked(redis, b, cb, keys=keys)
    ttl = await redis.ttl(f"{prefix}revoked:{digest}")
    assert tokens.REVOKED_TTL - 5 < ttl <= tokens.REVOKED_TTL
    assert await tokens.revoke_user(redis, user, keys=keys) == 2
    assert await tokens.is_revoked(redis, b, cb, keys=keys)
    with pytest.raises(TokenError, match="revoked"):
        await tokens.check_not_revoked(redis, b, cb, keys=keys)
    # an untracked older token of that user is refused through the per-user cutoff
    d, cd = tokens.mint_token(KEY, user, now=earlier)
    assert await tokens.is_revoked(redis, d, cd, keys=keys)
    # other users are untouched
    assert not await tokens.is_revoked(redis, c, cc, keys=keys)


def test_cli_create_and_revoke(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
) -> None:
    from streamer.entry.cli import main

    monkeypatch.setenv("ARTDAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("ARTDAG_CLUSTER_KEY", raising=False)
    monkeypatch.setenv("ARTDAG_REDIS_PREFIX", f"{redis_prefix}artdag:")
    user = f"cli{uuid.uuid4().hex[:8]}"
    assert main(["token", "create", "--user", user, "--ttl", "2h"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert "warning" not in out.err
    settings = Settings.from_env({"ARTDAG_DATA_DIR": str(tmp_path / "data")})
    claims = tokens.verify_token(tokens.cluster_key(settings), token)
    assert claims.user == user and claims.expiry - claims.issued == 7200
    assert main(["token", "revoke", "--user", user]) == 0
    assert "1 tracked" in capsys.readouterr().out
    assert main(["token", "revoke", token]) == 0
    assert "revoked token" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["token", "create", "--user", user, "--ttl", "400d"])
    assert main(["token", "create", "--user", "bad name!"]) == 2
    # scoped tokens: --scope repeats, names checked
    assert main(["token", "create", "--user", user, "--scope", "publish", "--scope", "admin"]) == 0
    scoped = tokens.verify_token(tokens.cluster_key(settings), capsys.readouterr().out.strip())
    assert scoped.scopes == ("admin", "publish")
    with pytest.raises(SystemExit):
        main(["token", "create", "--user", user, "--scope", "everything"])
