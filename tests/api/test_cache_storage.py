"""Storage providers API on the real app: add (JSON and form), validate, patch,
test (local always; S3 and IPFS against the harness services), delete rules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streamer.settings import Settings
from tests.api.helpers import api_error, app_client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, data_dir: Path
) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(data_dir),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(settings, user="storage-tester", redis_prefix=redis_prefix) as c:
        before = {p["id"] for p in (await c.get("/storage")).json()["providers"]}
        yield c
        # later tests share the database: a provider left enabled gets a copy of their runs
        for p in (await c.get("/storage")).json()["providers"]:
            if p["id"] not in before:
                await c.patch(f"/storage/{p['id']}", json={"enabled": False})
                await c.delete(f"/storage/{p['id']}")


def _name() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


async def test_local_provider_lifecycle(client: Any, data_dir: Path) -> None:
    name = _name()
    body = {"type": "local", "name": name, "config": {"path": str(data_dir / "archive")}}
    resp = await client.post("/storage/add", json=body)
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    pid = doc["id"]
    assert doc["type"] == "local" and doc["enabled"] is True
    api_error(await client.post("/storage/add", json=body), 409)  # same name

    listed = (await client.get("/storage")).json()
    assert name in [p["name"] for p in listed["providers"]]
    assert (await client.get(f"/storage/{pid}")).json()["name"] == name

    test = (await client.post(f"/storage/{pid}/test")).json()
    assert test["ok"] is True and test["latency_ms"] >= 0, test
    assert (data_dir / "archive" / "plans").is_dir()  # the backend really wrote there

    resp = await client.patch(f"/storage/{pid}", json={"enabled": False, "name": name + "x"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["enabled"] is False and resp.json()["name"] == name + "x"
    api_error(await client.patch(f"/storage/{pid}", json={"type": "s3"}), 400)
    api_error(await client.patch(f"/storage/{pid}", json={"config": {"path": "/etc"}}), 400)

    assert (await client.delete(f"/storage/{pid}")).json() == {"deleted": pid}
    api_error(await client.get(f"/storage/{pid}"), 404)
    api_error(await client.delete(f"/storage/{pid}"), 404)


async def test_validation_errors_name_the_field(client: Any) -> None:
    cases = [
        ({"type": "ftp", "name": _name(), "config": {}}, "type"),
        ({"type": "local", "name": _name(), "config": {}}, "config.path"),
        ({"type": "local", "name": _name(), "config": {"path": "/etc"}}, "config.path"),
        ({"type": "local", "name": _name(), "config": {"path": "rel"}}, "config.path"),
        ({"type": "local", "name": _name(), "config": {"path": "/tmp/a\x00b"}}, "config.path"),
        ({"type": "ipfs", "name": _name(), "config": {"api": "localhost:5001"}}, "config.api"),
        ({"type": "s3", "name": _name(), "config": {"bucket": "B!"}}, "config.bucket"),
        (
            {"type": "s3", "name": _name(), "config": {"bucket": "ok-bucket", "colour": "x"}},
            "config.colour",
        ),
        (
            {
                "type": "s3",
                "name": _name(),
                "config": {"bucket": "ok-bucket", "access_key_id": "a"},
            },
            "config.secret_access_key",
        ),
        ({"type": "local", "name": "", "config": {"path": "/tmp"}}, "name"),
    ]
    for body, field in cases:
        doc = api_error(await client.post("/storage/add", json=body), 400)
        assert doc["field"] == field, (body, doc)
    types = (await client.get("/storage/type/s3")).json()
    assert {f["name"] for f in types["fields"]} >= {"bucket", "endpoint_url", "secret_access_key"}
    api_error(await client.get("/storage/type/ftp"), 404)


async def test_form_add_and_auth(client: Any) -> None:
    name = _name()
    form = {"type": "ipfs", "name": name, "api": "/ip4/127.0.0.1/tcp/1", "bucket": "ignored"}
    resp = await client.post("/storage", data=form)
    assert resp.status_code == 201, resp.text
    pid = resp.json()["id"]
    assert resp.json()["config"] == {"api": "/ip4/127.0.0.1/tcp/1"}
    # nothing listens there: a failed test is reported, not raised
    test = (await client.post(f"/storage/{pid}/test")).json()
    assert test["ok"] is False and test["detail"]
    # the web UI's htmx form: a config JSON object, answered with an HTML line
    resp = await client.post(
        "/storage",
        data={"type": "local", "name": "<b>x</b>" + name[:8], "config": "{}"},
        headers={"HX-Request": "true"},
    )
    api_error(resp, 400)  # the name is refused before anything is stored
    resp = await client.post(
        "/storage",
        data={"type": "ipfs", "name": name + "-h", "config": '{"api": "/ip4/127.0.0.1/tcp/2"}'},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 201 and resp.headers["content-type"].startswith("text/html")
    assert f"provider {name}-h" in resp.text
    api_error(
        await client.post("/storage", data={"type": "ipfs", "name": _name(), "config": "[1"}), 400
    )
    api_error(await client.post("/storage/add", json={}, headers={"Authorization": ""}), 401)
    api_error(await client.delete(f"/storage/{pid}", headers={"Authorization": ""}), 401)
    assert (await client.delete(f"/storage/{pid}")).status_code == 200


async def test_s3_provider_round_trip(client: Any, s3_endpoint: str) -> None:
    import aiobotocore.session

    from cache.s3 import open_s3_client

    bucket = f"artdag-{uuid.uuid4().hex[:10]}"
    keys = ("testing", "testing")
    async with open_s3_client(aiobotocore.session.get_session(), s3_endpoint, keys=keys) as s3:
        await s3.create_bucket(Bucket=bucket)
    config = {
        "bucket": bucket,
        "endpoint_url": s3_endpoint,
        "access_key_id": keys[0],
        "secret_access_key": keys[1],
        "prefix": "t/",
    }
    resp = await client.post("/storage/add", json={"type": "s3", "name": _name(), "config": config})
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["config"]["secret_access_key"] == "***"
    test = (await client.post(f"/storage/{doc['id']}/test")).json()
    assert test["ok"] is True, test
    # "***" in a patch keeps the stored secret, so the test still passes
    resp = await client.patch(f"/storage/{doc['id']}", json={"config": doc["config"]})
    assert resp.status_code == 200, resp.text
    assert (await client.post(f"/storage/{doc['id']}/test")).json()["ok"] is True
