"""One-time sign-in links (``artdag serve`` / ``artdag login-link``) on the real app."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from streamer.auth.login_links import create_login_link
from streamer.entry.app import create_app
from streamer.present.session import SESSION_COOKIE
from streamer.settings import Settings
from tests.api.helpers import api_error


@pytest.fixture
def settings(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "ARTDAG_REDIS_PREFIX": f"{redis_prefix}links:",
            "L1_PUBLIC_URL": "http://l1.test:8100",
        }
    )


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_link_signs_in_once(settings: Settings, redis: aioredis.Redis) -> None:
    link = await create_login_link(redis, settings.services.keys, settings, user="alice")
    assert link.startswith("http://l1.test:8100/auth/link/")
    path = link.removeprefix("http://l1.test:8100")
    async with AsyncTestClient(app=create_app(settings)) as c:
        resp = await c.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/"
        session = c.cookies.get(SESSION_COOKIE)
        assert session
        # the session is a signed-in user: a write is accepted (here: a 400 on its body, not 401)
        assert (await c.post("/storage/add", json={})).status_code == 400
        page = await c.get("/", headers={"Accept": "text/html"})
        assert "alice" in page.text
        c.cookies.clear()
        again = api_error(await c.get(path, follow_redirects=False), 404)
        assert "login-link" in again["detail"]
        api_error(await c.get("/auth/link/not-a-code", follow_redirects=False), 400)


async def test_links_are_off_with_l2(settings: Settings, redis: aioredis.Redis) -> None:
    from streamer.errors import Denied

    l2 = dataclasses.replace(
        settings,
        federation=dataclasses.replace(settings.federation, l2_server="http://127.0.0.1:9"),
    )
    with pytest.raises(Denied, match="L2_SERVER"):
        await create_login_link(redis, l2.services.keys, l2, user="alice")
    good = await create_login_link(redis, settings.services.keys, settings, user="bob")
    async with AsyncTestClient(app=create_app(l2)) as c:
        body: dict[str, Any] = api_error(
            await c.get(good.removeprefix("http://l1.test:8100"), follow_redirects=False), 403
        )
        assert "L2" in body["detail"]


def test_cli_login_link(
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
    monkeypatch.setenv("ARTDAG_REDIS_PREFIX", f"{redis_prefix}cli-links:")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.delenv("L1_PUBLIC_URL", raising=False)
    assert main(["login-link", "--user", "carol"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://localhost:8123/auth/link/") and len(link.split("/")[-1]) == 43
    assert main(["login-link", "--user", "bad name!"]) == 2
    monkeypatch.setenv("L2_SERVER", "https://l2.example")
    assert main(["login-link"]) == 2
    assert "L2_SERVER" in capsys.readouterr().err
