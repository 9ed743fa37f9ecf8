"""The one JSON error shape: every mapped exception, without services."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient

from api.errors import NotFound, exception_handlers
from cache.errors import InvalidCIDError, StorageError, StorageUnavailableError
from interpreter.loader import load_recipe

BAD_RECIPE = "name: x\nversion: '1'\nsteps:\n  - id: a\n    type: [\n"


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail /etc/passwd")


@get("/missing")
async def missing() -> None:
    raise NotFound("run 'r1' not found", field="run_id")


@get("/recipe")
async def recipe() -> None:
    load_recipe(BAD_RECIPE, filename="bad.yaml")


@get("/storage/{kind:str}")
async def storage(kind: FromPath[str]) -> None:
    exc: StorageError = {
        "cid": InvalidCIDError("'xyz' is not a CID"),
        "down": StorageUnavailableError("IPFS node unreachable"),
        "other": StorageError("pin failed"),
    }[kind]
    raise exc


@post("/body")
async def body(data: JSONBody[dict[str, int]]) -> dict[str, int]:
    return data


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    m: int


class Outer(msgspec.Struct, forbid_unknown_fields=True):
    n: int
    inner: Inner | None = None


@post("/struct")
async def struct_body(data: Outer) -> None:
    return None


@pytest.fixture
async def client() -> Any:
    app = Litestar(
        route_handlers=[boom, missing, recipe, storage, body, struct_body],
        exception_handlers=exception_handlers(),
    )
    async with AsyncTestClient(app) as c:
        yield c


def _shape(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    doc: dict[str, Any] = resp.json()
    assert doc["status"] == status
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["detail"], str) and doc["detail"]
    return doc


async def test_unknown_exception_is_500_without_leak(client: Any) -> None:
    doc = _shape(await client.get("/boom"), 500)
    assert "passwd" not in str(doc) and "Traceback" not in str(doc)


async def test_not_found_carries_field(client: Any) -> None:
    doc = _shape(await client.get("/missing"), 404)
    assert doc["field"] == "run_id"


async def test_interpreter_error_is_422_with_position(client: Any) -> None:
    doc = _shape(await client.get("/recipe"), 422)
    assert doc["position"]["file"] == "bad.yaml"
    assert doc["position"]["line"] >= 5
    assert doc["position"]["column"] >= 1


@pytest.mark.parametrize(("kind", "status"), [("cid", 400), ("down", 503), ("other", 502)])
async def test_storage_errors(client: Any, kind: str, status: int) -> None:
    _shape(await client.get(f"/storage/{kind}"), status)


async def test_litestar_errors_use_the_shape(client: Any) -> None:
    _shape(await client.get("/no/such/route"), 404)
    _shape(await client.post("/missing"), 405)
    _shape(
        await client.post(
            "/body", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
    )
    doc = _shape(await client.post("/body", json={"a": "text"}), 400)
    assert "a" in doc.get("field", "") or "a" in doc["detail"]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"n": "a"}, "n"),
        ({"n": 1, "x": 2}, "x"),  # an unknown field is named
        ({"n": 1, "inner": {"m": 1, "y": 2}}, "inner.y"),
        ({"n": 1, "inner": {"m": "z"}}, "inner.m"),
        ([1], None),  # the body as a whole: no field
    ],
)
async def test_body_validation_names_the_field(client: Any, sent: Any, field: str | None) -> None:
    doc = _shape(await client.post("/struct", json=sent), 400)
    assert doc.get("field") == field, doc
