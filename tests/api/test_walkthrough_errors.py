"""Every malformed request of the walkthrough's endpoints gets a 4xx in the one JSON error shape.

Table-driven over bad JSON, wrong types, unknown ids, bad CIDs, missing or bad
auth, oversized bodies and invalid recipes (with line and column), on a live
stack (real PostgreSQL/Redis, worker, no IPFS).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.api.conftest import LiveServer
from tests.api.walkthrough import RECIPE, assert_error

pytestmark = pytest.mark.timeout(180)

UPLOAD_LIMIT = 4096
NO_CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"  # valid, never stored
NO_ID = "f" * 64
BAD_RECIPE = RECIPE.replace("effect: hue", "effect: huee")  # line 15, column 22
BAD_YAML = RECIPE.replace("inputs: [audio]", "inputs: [audio")  # found on line 11
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Bad:
    """One malformed request and what must come back."""

    method: str
    path: str
    status: int
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] | None = None
    auth: str = "token"  # token | none | bad
    field: str | None = None
    line: int | None = None  # the error's position line (invalid recipes)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


def _cases() -> list[Bad]:
    big = b"x" * (UPLOAD_LIMIT + 1)
    return [
        # runs
        Bad("POST", "/runs", 400, content=b"{nope", headers=JSON),
        Bad("POST", "/runs", 400, json=[1, 2]),
        Bad("POST", "/runs", 400, json={"recipe": 5}, field="recipe"),
        Bad("POST", "/runs", 400, json={"recipe": RECIPE, "inputs": ["a"]}, field="inputs"),
        Bad(
            "POST",
            "/runs",
            400,
            json={"recipe": RECIPE, "inputs": {"video": 7}},
            field="inputs.video",
        ),
        Bad(
            "POST",
            "/runs",
            400,
            json={"recipe": RECIPE, "inputs": {"video": "not-a-cid"}},
            field="inputs.video",
        ),
        Bad(
            "POST", "/runs", 400, json={"recipe": RECIPE, "params": {"x": "high"}}, field="params.x"
        ),
        Bad("POST", "/runs", 400, json={"recipe": RECIPE, "pace": "fast"}, field="pace"),
        Bad("POST", "/runs", 400, json={"recipe": RECIPE, "duration": -1}, field="duration"),
        Bad("POST", "/runs", 400, json={"recipe": RECIPE, "colour": "red"}, field="colour"),
        Bad("POST", "/runs", 404, json={"recipe_id": NO_ID}, field="recipe_id"),
        Bad("POST", "/runs", 422, json={"recipe": BAD_RECIPE}, field="recipe", line=15),
        Bad("POST", "/runs", 422, json={"recipe": BAD_YAML}, field="recipe", line=11),
        Bad(
            "POST",
            "/runs",
            422,
            json={"recipe": RECIPE, "inputs": {"video": NO_CID}},
            field="inputs.audio",
        ),
        Bad("POST", "/runs", 401, json={"recipe": RECIPE}, auth="none"),
        Bad("POST", "/runs", 401, json={"recipe": RECIPE}, auth="bad"),
        Bad("GET", "/runs", 400, params={"limit": 0}, field="limit"),
        Bad("GET", "/runs", 400, params={"limit": "many"}),
        Bad("GET", "/runs", 400, params={"offset": -1}, field="offset"),
        Bad("GET", "/runs", 400, params={"status": "weird"}, field="status"),
        Bad("GET", "/runs/no-such-run", 404, field="run_id"),
        Bad("GET", "/runs/no-such-run/events", 404, field="run_id"),
        Bad("GET", "/runs/no-such-run/playlist.m3u8", 404, field="run_id"),
        Bad("GET", "/runs/no-such-run/ipfs", 404, field="run_id"),
        Bad("POST", "/runs/no-such-run/cancel", 404, field="run_id"),
        Bad("DELETE", "/runs/no-such-run", 404, field="run_id"),
        Bad("DELETE", "/runs/no-such-run", 401, auth="none"),
        Bad("PUT", "/runs", 405),
        Bad("GET", "/api/run/no-such-run", 404, field="run_id"),
        Bad("GET", "/api/run/no-such-run/plan", 404, field="run_id"),
        Bad("GET", "/api/run/no-such-run/analysis", 404, field="run_id"),
        Bad("GET", "/api/run/no-such-run/provenance", 404, field="run_id"),
        # recipes
        Bad("POST", "/recipes/upload", 400, content=b"", field="file"),
        Bad("POST", "/recipes/upload", 400, content=b"{nope", headers=JSON),
        Bad("POST", "/recipes/upload", 400, json={"recipe": 5}, field="recipe"),
        Bad("POST", "/recipes/upload", 400, content=b"\xff\xfe name", field="file"),
        Bad("POST", "/recipes/upload", 413, content=b"#" * ((1 << 20) + 1)),
        Bad("POST", "/recipes/upload", 422, content=BAD_RECIPE.encode(), field="recipe", line=15),
        Bad("POST", "/recipes/upload", 422, content=BAD_YAML.encode(), field="recipe", line=11),
        Bad("POST", "/recipes/upload", 401, content=RECIPE.encode(), auth="none"),
        Bad("GET", "/recipes", 400, params={"limit": 1000}, field="limit"),
        Bad("GET", f"/recipes/{NO_ID}", 404, field="recipe_id"),
        Bad("DELETE", f"/recipes/{NO_ID}", 404, field="recipe_id"),
        Bad("POST", f"/recipes/{NO_ID}/run", 404, json={}, field="recipe_id"),
        # cache
        Bad("GET", "/cache/not-a-cid", 400, field="cid"),
        Bad("GET", f"/cache/{NO_CID}", 404, field="cid"),
        Bad("GET", "/cache/not-a-cid/raw", 400, field="cid"),
        Bad("GET", f"/cache/{NO_CID}/raw", 404, field="cid"),
        Bad("GET", f"/cache/{NO_CID}/mp4", 404, field="cid"),
        Bad("GET", "/cache/Qm123/mp4", 400, field="cid"),
        Bad("GET", f"/cache/{NO_CID}/poster.jpg", 404, field="cid"),
        Bad("GET", f"/cache/{NO_CID}/waveform", 400, params={"points": 0}, field="points"),
        Bad("GET", f"/cache/{NO_CID}/meta", 404, field="cid"),
        Bad("PATCH", f"/cache/{NO_CID}/meta", 400, content=b"{nope", headers=JSON),
        Bad("DELETE", "/cache/not-a-cid", 400, field="cid"),
        Bad("DELETE", f"/cache/{NO_CID}", 404, field="cid"),
        Bad("DELETE", f"/cache/{NO_CID}", 401, auth="none"),
        Bad("POST", "/cache/upload", 400, content=b"", field="file"),
        Bad("POST", "/cache/upload", 413, content=big),
        Bad("POST", "/cache/upload", 413, files={"file": ("big.bin", big)}),
        Bad(
            "POST",
            "/cache/upload",
            400,
            content=b"--x\r\n",
            field="Content-Type",
            headers={"Content-Type": "multipart/form-data"},
        ),
        Bad("POST", "/cache/upload", 401, content=b"data", auth="none"),
        Bad("POST", "/cache/import", 400, params={}),
        Bad("GET", "/api/media", 400, params={"limit": -5}),
        Bad("GET", "/ipfs/not-a-cid", 400),
        # 3-phase
        Bad("POST", "/api/plan", 400, content=b"{nope", headers=JSON),
        Bad("POST", "/api/plan", 400, json={"recipe": RECIPE, "inputs": "video"}, field="inputs"),
        Bad("POST", "/api/plan", 422, json={"recipe": BAD_RECIPE}, field="recipe", line=15),
        Bad("POST", "/api/plan", 404, json={"recipe_id": NO_ID}, field="recipe_id"),
        Bad("POST", "/api/execute", 400, json={"plan_id": 5}, field="plan_id"),
        Bad("POST", "/api/execute", 404, json={"plan_id": "ab" * 32}, field="plan_id"),
        Bad(
            "POST",
            "/api/run-recipe",
            400,
            json=[],
        ),
        Bad("POST", "/api/run-recipe", 422, json={"recipe": BAD_YAML}, field="recipe", line=11),
        Bad("POST", "/api/run-recipe", 401, json={"recipe": RECIPE}, auth="none"),
        # routing
        Bad("GET", "/api/no-such-endpoint", 404),
    ]


CASES = _cases()

#: Odd requests whose exact status is the handler's choice: any 4xx in the JSON shape.
PROBES = [
    Bad("POST", "/runs", 0, json={"recipe": RECIPE, "analysis": []}),
    Bad("POST", "/runs", 0, json={"recipe": RECIPE, "duration": 1e12}),
    Bad("POST", "/runs", 0, content=b'{"recipe": "x", "pace": 1e400}', headers=JSON),
    Bad("POST", "/runs", 0, json={"recipe_id": ""}),
    Bad("POST", "/runs", 0, json={"recipe": "name: x\x00\n"}),
    Bad("POST", "/runs", 0, json={"recipe": "- a\n- b\n"}),
    Bad("POST", "/runs", 0, json={"recipe": '(recipe "x"'}),
    Bad(
        "POST",
        "/runs",
        0,
        json={
            "recipe": RECIPE,
            "params": {"nope": 1},
            "inputs": {"video": NO_CID, "audio": NO_CID},
        },
    ),
    Bad("POST", f"/recipes/{NO_ID}/run", 0, content=b"[]", headers=JSON),
    Bad("POST", "/recipes/upload", 0, content=b"name: only\n"),
    Bad("POST", "/recipes/upload", 0, content=b"(recipe"),
    Bad(
        "POST",
        "/recipes/upload",
        0,
        files={"other": ("x.txt", b"", "text/plain")},
        params={"x": "y"},
    ),
    Bad("GET", "/runs", 0, params={"limit": "9" * 30}),
    Bad("GET", "/recipes", 0, params={"offset": "-9"}),
    Bad("POST", "/api/execute", 0, json={"plan": "x"}),
    Bad("POST", "/api/execute", 0, json={"plan": {"version": 1, "steps": "x"}}),
    Bad("POST", "/api/plan", 0, json={"recipe": RECIPE, "params": {"a": [1]}}),
    Bad("PATCH", f"/cache/{NO_CID}/meta", 0, json={"title": 5}),
    Bad("PATCH", f"/cache/{NO_CID}/meta", 0, json=["title"]),
    Bad("GET", f"/cache/{NO_CID}/waveform", 0, params={"points": "many"}),
    Bad("GET", f"/cache/{NO_CID}/raw", 0, headers={"Range": "bytes=oops"}),
    Bad("POST", "/cache/import", 0, params={"path": "relative/file"}),
    Bad("GET", "/runs/x/..%2f..%2fetc", 0),
    Bad("GET", "/ipfs/not-a-cid/raw", 0),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def small_uploads(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
) -> AsyncIterator[LiveServer]:
    """A stack whose upload limit is small enough to test 413 cheaply."""
    async with live_factory(UPLOAD_MAX_BYTES=str(UPLOAD_LIMIT)) as live:
        yield live


def _headers(live: LiveServer, case: Bad) -> dict[str, str]:
    headers = dict(case.headers)
    if case.auth == "token":
        headers["Authorization"] = f"Bearer {live.token}"
    elif case.auth == "bad":
        headers["Authorization"] = "Bearer not.a-valid-token"
    return headers


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
async def test_malformed_request_gets_a_json_4xx(small_uploads: LiveServer, case: Bad) -> None:
    live = small_uploads
    async with httpx.AsyncClient(base_url=live.url, timeout=30.0) as c:
        resp = await c.request(
            case.method,
            case.path,
            json=case.json,
            content=case.content,
            files=case.files,
            params=case.params,
            headers=_headers(live, case),
        )
    doc = assert_error(resp, case.status)
    if case.field is not None:
        assert doc.get("field") == case.field, doc
    if case.line is not None:
        pos = doc["position"]
        assert pos["line"] == case.line and pos["column"] >= 1, doc
        if (
            case.json is not None and case.json.get("recipe") == BAD_RECIPE
        ) or case.content == BAD_RECIPE.encode():
            assert pos["column"] == 22 and "huee" in doc["detail"], doc
        assert pos["text"], doc


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "case", PROBES, ids=[f"{c.method} {c.path} #{i}" for i, c in enumerate(PROBES)]
)
async def test_odd_request_gets_a_json_4xx_never_a_500(
    small_uploads: LiveServer, case: Bad
) -> None:
    live = small_uploads
    async with httpx.AsyncClient(base_url=live.url, timeout=30.0) as c:
        resp = await c.request(
            case.method,
            case.path,
            json=case.json,
            content=case.content,
            files=case.files,
            params=case.params,
            headers=_headers(live, case),
        )
    assert 400 <= resp.status_code < 500, f"{case}: {resp.status_code} {resp.text}"
    assert_error(resp, resp.status_code)
