"""``POST /recipes/validate`` (the web editor's check as you type) and media-only uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cache.cid import cid_of_bytes
from interpreter.errors import InterpreterError
from interpreter.loader import load_recipe
from interpreter.validate import validate
from streamer.recipes.check import check_recipe
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client
from tests.api.live_media import make_clip_bytes

RECIPES = Path(__file__).resolve().parents[2] / "recipes"

GOOD = """\
name: checked
version: '1.0'
inputs:
  video: {type: video, description: a clip}
params:
  degrees: {default: 90, min: 0, max: 360}
steps:
- id: fx
  type: EFFECT
  inputs: [video]
  config: {effect: hue, degrees: degrees}
output: fx
"""


@pytest.fixture
async def client(
    pg_dsn: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Any]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(tmp_path / "data"),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
        }
    )
    async with app_client(settings, user="validate-tester", redis_prefix=redis_prefix) as c:
        yield c


async def test_a_valid_recipe_gives_its_id_inputs_and_params(client: Any) -> None:
    resp = await client.post("/recipes/validate", json={"recipe": GOOD})
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["ok"] is True and doc["errors"] == []
    assert doc["recipe_id"] == check_recipe(GOOD).recipe_id
    assert (doc["name"], doc["syntax"], doc["output"]) == ("checked", "yaml", "fx")
    assert doc["inputs"] == [{"name": "video", "type": "video", "description": "a clip"}]
    assert doc["params"] == [
        {"name": "degrees", "default": 90, "min": 0, "max": 360, "description": ""}
    ]
    # nothing was stored
    assert (await client.get(f"/recipes/{doc['recipe_id']}")).status_code == 404


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (GOOD.replace("effect: hue,", "effect: huee,"), 11, 20),  # validation
        (GOOD.replace("steps:", "steps: [oops"), 0, 0),  # syntax: where the parser says
        ((RECIPES / "effects-chain.sexp").read_text().replace("invert", "invertt"), 0, 0),
    ],
)
async def test_problems_are_the_clis_with_position_and_hint(
    client: Any, text: str, line: int, column: int
) -> None:
    try:  # what `artdag recipe check` reports for the same text
        validate(load_recipe(text))
    except InterpreterError as exc:
        expected = exc
    else:
        raise AssertionError("the text should not validate")
    resp = await client.post("/recipes/validate", json={"recipe": text, "filename": "r.yaml"})
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["ok"] is False and doc["recipe_id"] is None
    [problem] = doc["errors"]
    assert problem["line"] == expected.line and problem["message"] == expected.message
    assert problem["column"] == max(expected.column, 1)
    assert problem["hint"] == expected.hint and problem["kind"] == type(expected).__name__
    if line:
        assert problem["line"] == line
    if column:
        assert problem["column"] == column
    if "huee" in text:
        assert problem["hint"] == "did you mean 'hue'?"
        assert "huee" in problem["text"]
        # it loaded: the declarations are there though it does not validate
        assert [i["name"] for i in doc["inputs"]] == ["video"]


async def test_bad_bodies_and_auth(client: Any) -> None:
    api_error(await client.post("/recipes/validate", json={"text": GOOD}), 400)
    api_error(await client.post("/recipes/validate", json={"recipe": "x" * ((1 << 20) + 1)}), 400)
    token = client.headers.pop("Authorization")
    try:
        api_error(await client.post("/recipes/validate", json={"recipe": GOOD}), 401)
    finally:
        client.headers["Authorization"] = token


async def test_openapi_documents_the_check(client: Any) -> None:
    doc = (await client.get("/docs/openapi.json")).json()
    op = doc["paths"]["/recipes/validate"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RecipeValidate"}
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/RecipeValidation"}
    schemas = doc["components"]["schemas"]
    assert {"line", "column", "message", "hint"} <= set(schemas["RecipeProblem"]["properties"])
    assert {"ok", "errors", "recipe_id", "inputs", "params"} <= set(
        schemas["RecipeValidation"]["properties"]
    )
    upload = doc["paths"]["/cache/upload"]["post"]
    assert any(p["name"] == "media_only" for p in upload["parameters"])


async def test_media_only_upload_refuses_what_is_not_media(client: Any) -> None:
    resp = await client.post(
        "/cache/upload?media_only=true", files={"file": ("notes.txt", b"plain text")}
    )
    error = api_error(resp, 422)
    assert error["detail"].startswith("unsupported type: 'notes.txt' is not a video")
    assert error["field"] == "file"
    # nothing kept: neither the record nor the file
    assert (await client.get(f"/cache/{cid_of_bytes(b'plain text')}")).status_code == 404
    clip = await client.post(
        "/cache/upload?media_only=true", files={"file": ("clip.mp4", make_clip_bytes(1.0))}
    )
    assert clip.status_code == 201 and clip.json()["kind"] == "video"
    # without the flag anything is still taken (the content-addressed cache)
    other = await client.post("/cache/upload", files={"file": ("notes.txt", b"plain text")})
    assert other.status_code == 201 and other.json()["kind"] == "other"
