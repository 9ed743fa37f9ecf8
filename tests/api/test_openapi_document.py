"""The whole OpenAPI document: every body documented, every error in the API's one shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streamer.settings import Settings
from tests.api.helpers import api_error, app_client

METHODS = ("get", "put", "post", "delete", "patch")
#: writes that take no body (the path says it all)
NO_BODY = {
    ("post", "/runs/{run_id}/cancel"),
    ("post", "/cache/import"),
    ("post", "/cache/{cid}/publish"),
    ("post", "/storage/{provider_id}/test"),
}
#: error answers documented with a body of their own (``/health``'s 503 is its Health document)
# answers that carry a document of their own instead of the Error shape
OWN_ERROR_BODY = {
    ("get", "/health", "503"),  # the Health document, saying which service is down
    ("get", "/cache/{cid}/object", "410"),  # an ActivityStreams Tombstone after a Delete
}


@pytest.fixture
async def doc(pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(settings, user="openapi-doc", redis_prefix=redis_prefix) as c:
        resp = await c.get("/docs/openapi.json")
        assert resp.status_code == 200, resp.text
        # a real error answer has the documented shape
        body = api_error(await c.post("/runs", json={"recipe": "x", "bogus": 1}), 400)
        yield resp.json(), body


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


async def test_every_write_with_a_body_documents_it(doc: Any) -> None:
    openapi, _ = doc
    missing = [
        (m, p)
        for m, p, op in _operations(openapi)
        if m in ("post", "put", "patch") and (m, p) not in NO_BODY and "requestBody" not in op
    ]
    assert not missing, f"operations without a request schema: {missing}"
    for m, p, op in _operations(openapi):
        body = op.get("requestBody")
        if body is not None:
            assert body["content"], (m, p)
            assert all("schema" in media for media in body["content"].values()), (m, p)


async def test_every_2xx_answer_documents_its_content(doc: Any) -> None:
    openapi, _ = doc
    bare = [
        (m, p, code)
        for m, p, op in _operations(openapi)
        for code, response in op["responses"].items()
        if code.startswith("2") and code != "204" and not response.get("content")
    ]
    assert not bare, f"2xx answers without a content schema: {bare}"


async def test_errors_are_documented_in_the_api_shape(doc: Any) -> None:
    openapi, real = doc
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "title", "detail"}
    assert set(real) <= set(error["properties"])  # a real 400 fits the documented shape
    for m, p, op in _operations(openapi):
        for code, response in op["responses"].items():
            if code[0] in "45" and (m, p, code) not in OWN_ERROR_BODY:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (m, p, code)
        if m in ("post", "put", "patch", "delete"):
            assert "401" in op["responses"], (m, p)
