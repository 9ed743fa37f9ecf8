"""The OpenAPI document of the content, storage, auth, system and workers routes.

Every operation that takes a body documents it with a schema, every 2xx
answer documents its content, and the constraints shown are the ones the
services enforce (checked against the same rules here).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from api.cache_models import CacheMetaUpdate
from api.storage_models import ProviderCreate
from cache.cid import cid_of_bytes
from streamer.content.ids import CID_PATTERN, check_cid
from streamer.content.items import KINDS, TAG_PATTERN, clean_meta
from streamer.content.provider_config import (
    NAME_PATTERN,
    PROVIDER_KINDS,
    PROVIDER_TYPES,
    check_name,
)
from streamer.errors import InvalidValue
from streamer.settings import Settings
from tests.api.helpers import app_client

#: The routers this file covers, by their OpenAPI tag.
TAGS = {"cache", "storage", "ipfs", "system", "workers", "auth"}
#: (method, path) of each of their operations that takes a request body.
WITH_BODY = {
    ("patch", "/cache/{cid}/meta"),
    ("post", "/cache/upload"),
    ("post", "/storage"),
    ("post", "/storage/add"),
    ("patch", "/storage/{provider_id}"),
    ("post", "/auth/revoke"),
    ("post", "/auth/revoke-user"),
}
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
async def doc(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> dict[str, Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(settings, user="openapi", redis_prefix=redis_prefix) as c:
        resp = await c.get("/docs/openapi.json")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS and TAGS & set(op.get("tags") or ())
    ]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[1]
    assert name in doc["components"]["schemas"], ref
    return dict(doc["components"]["schemas"][name])


def _described(schema: dict[str, Any]) -> bool:
    """A schema that says something: a type, a reference or alternatives."""
    return bool({"type", "$ref", "oneOf", "anyOf", "allOf"} & set(schema))


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(doc["components"]["schemas"][name])


def _param(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)


async def test_every_body_and_answer_has_a_schema(doc: dict[str, Any]) -> None:
    ops = _operations(doc)
    assert {(m, p) for m, p, _ in ops} >= WITH_BODY
    for method, path, op in ops:
        body = op.get("requestBody")
        if (method, path) in WITH_BODY:
            assert body and body["content"], (method, path)
            for media_type, content in body["content"].items():
                assert _described(content.get("schema") or {}), (method, path, media_type)
        else:
            assert body is None, (method, path)
        answers = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        for status, answer in answers.items():
            assert answer.get("content"), (method, path, status)
            for media_type, content in answer["content"].items():
                schema = content.get("schema") or {}
                assert _described(schema), (method, path, status, media_type)
                if media_type == "application/json":
                    _resolve(doc, schema)  # the component exists


async def test_request_constraints(doc: dict[str, Any]) -> None:
    create = _schema(doc, "ProviderCreate")["properties"]
    assert create["type"]["enum"] == list(PROVIDER_KINDS) == list(PROVIDER_TYPES)
    assert create["name"]["pattern"] == NAME_PATTERN
    assert create["config"]["additionalProperties"]["oneOf"][0]["maxLength"] == 1000
    assert set(_schema(doc, "ProviderForm")["properties"]) >= {
        name for fields in PROVIDER_TYPES.values() for name in fields
    }

    meta = _schema(doc, "CacheMetaUpdate")["properties"]
    assert meta["title"]["maxLength"] == 200 and meta["description"]["maxLength"] == 5000
    assert meta["tags"]["maxItems"] == 50 and meta["tags"]["items"]["pattern"] == TAG_PATTERN

    upload = doc["paths"]["/cache/upload"]["post"]["requestBody"]
    assert "UPLOAD_MAX_BYTES" in upload["description"]
    form = upload["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["format"] == "binary" and form["required"] == ["file"]
    assert upload["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    assert doc["paths"]["/auth/revoke"]["post"]["requestBody"]["required"] is False


async def test_parameter_and_answer_constraints(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    for path in ("/cache/{cid}", "/cache/{cid}/raw", "/ipfs/{cid}"):
        assert _param(paths[path]["get"], "cid")["schema"]["pattern"] == CID_PATTERN
    media = paths["/api/media"]["get"]
    assert _param(media, "kind")["schema"]["enum"] == list(KINDS)
    assert _param(media, "limit")["schema"]["maximum"] == 200
    assert _param(media, "offset")["schema"]["minimum"] == 0
    points = _param(paths["/cache/{cid}/waveform"]["get"], "points")["schema"]
    assert (points["minimum"], points["maximum"]) == (1, 10000)
    recent = _param(paths["/api/workers"]["get"], "recent")["schema"]
    assert (recent["minimum"], recent["maximum"]) == (0, 200)

    kinds = _schema(doc, "MediaInfoDoc")["properties"]["kind"]["enum"]
    assert kinds == list(KINDS)
    assert _schema(doc, "Health")["properties"]["status"]["enum"] == ["ok", "degraded"]
    for path, media_type in [
        ("/cache/{cid}/raw", "application/octet-stream"),
        ("/cache/{cid}/poster.jpg", "image/jpeg"),
        ("/cache/{cid}/mp4", "video/mp4"),
        ("/ipfs/{cid}/raw", "application/octet-stream"),
    ]:
        answer = paths[path]["get"]["responses"]["200"]["content"][media_type]
        assert answer["schema"]["format"] == "binary", path
    assert "206" in paths["/cache/{cid}/raw"]["get"]["responses"]
    assert "text/html" in paths["/storage"]["get"]["responses"]["200"]["content"]
    assert "text/html" not in paths["/api/media"]["get"]["responses"]["200"]["content"]
    assert "location" in paths["/ipfs/{cid}"]["get"]["responses"]["302"]["headers"]
    assert "303" in paths["/auth"]["get"]["responses"]


# --- the documented patterns are the enforced rules ----------------------------------------


@pytest.mark.parametrize(
    "name",
    ["a", "Archive 1", " padded ", "x" * 63, "a.b-c_d", "", " ", "-a", "a ", "x" * 64, "a\tb"],
)
def test_name_pattern_is_the_name_rule(name: str) -> None:
    try:
        check_name(name)
    except InvalidValue:
        accepted = False
    else:
        accepted = True
    assert accepted == bool(re.match(NAME_PATTERN, name)), name
    try:
        msgspec.convert({"type": "local", "name": name}, ProviderCreate)
    except msgspec.ValidationError:
        assert not accepted
    else:
        assert accepted


@pytest.mark.parametrize(
    "tag", ["sky", " a:b ", "x" * 50, "c++/#1", "", "   ", "<script>", "a\tb", "x" * 51]
)
def test_tag_pattern_is_the_tag_rule(tag: str) -> None:
    try:
        clean_meta({"tags": [tag]})
    except InvalidValue:
        accepted = False
    else:
        accepted = True
    legacy = re.match(r"^[\w .:+#/-]{1,50}$", tag.strip()) is not None  # the rule before models
    assert accepted == legacy == bool(re.match(TAG_PATTERN, tag)), tag
    try:
        msgspec.convert({"tags": [tag]}, CacheMetaUpdate)
    except msgspec.ValidationError:
        assert not accepted
    else:
        assert accepted


def test_cid_pattern_admits_every_valid_cid() -> None:
    for data in (b"", b"x", uuid.uuid4().bytes):
        cid = cid_of_bytes(data)
        assert check_cid(cid) == cid and re.match(CID_PATTERN, cid)
    for bad in ("not-a-cid", "Qm123", "bafy!", "z0OIl"):
        with pytest.raises(InvalidValue):
            check_cid(bad)
