"""The API reference at /docs works offline: Swagger UI and its stylesheet come from this
server (web/node_modules), never from a CDN, and it shows the endpoints in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from streamer.entry.app import create_app
from streamer.settings import Settings
from tests.api.conftest import LiveServer
from web.apidocs import DOCS_ASSETS
from web.templating import VENDOR_FILES

HTTP_URL = re.compile(r"\bhttps?://[^\s\"'<>()]*", re.IGNORECASE)
# what a page loads: src/href attributes and CSS url(...)
# namespace identifiers in the embedded schema (media type profiles of the federation
# endpoints): names compared as strings, never fetched
NAMESPACES = ("https://www.w3.org/ns/activitystreams", "http://nodeinfo.diaspora.software/ns/")
LOADED = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)([^"'\s>)]+)""", re.IGNORECASE)


@pytest.fixture
def docs_client(tmp_path: Path) -> TestClient[Any]:
    """The real app, not started: /docs and the assets need no database or Redis."""
    app = create_app(Settings.from_env({"ARTDAG_DATA_DIR": str(tmp_path / "data")}))
    return TestClient(app, base_url="http://testserver.local")


def test_docs_page_references_only_this_server(docs_client: TestClient[Any]) -> None:
    resp = docs_client.get("/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    foreign = [
        u
        for u in HTTP_URL.findall(html)
        if urlsplit(u).netloc != "testserver.local" and not u.startswith(NAMESPACES)
    ]
    assert not foreign, foreign
    loaded = set(LOADED.findall(html))
    assert {f"/static/vendor/{name}" for name in DOCS_ASSETS} <= loaded
    assert all(
        u.startswith("data:") or (u.startswith("/") and not u.startswith("//")) for u in loaded
    ), loaded
    assert "fonts.googleapis" not in html and "cdn." not in html and "unpkg" not in html
    # the schema stays where clients read it
    schema = docs_client.get("/docs/openapi.json")
    assert schema.status_code == 200 and "/runs" in schema.json()["paths"]


def test_docs_assets_are_served_with_their_types(docs_client: TestClient[Any]) -> None:
    for name in DOCS_ASSETS:
        resp = docs_client.get(f"/static/vendor/{name}")
        if not VENDOR_FILES[name].is_file():
            assert resp.status_code == 404 and "npm ci" in resp.text
            continue
        assert resp.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert resp.headers["content-type"].startswith(kind), name
        assert len(resp.content) > 10_000
        # the stylesheet uses system fonts: nothing to fetch from a font host
        if name.endswith(".css"):
            assert "@import" not in resp.text and "@font-face" not in resp.text


def test_docs_page_says_how_to_install_missing_assets(
    docs_client: TestClient[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(VENDOR_FILES, "swagger-ui-bundle.js", tmp_path / "absent.js")
    resp = docs_client.get("/docs")
    assert resp.status_code == 200
    assert "swagger-ui-bundle.js" in resp.text and "npm ci" in resp.text
    assert 'href="/docs/openapi.json"' in resp.text
    assert not HTTP_URL.findall(resp.text)
    missing = docs_client.get("/static/vendor/swagger-ui-bundle.js")
    assert missing.status_code == 404 and "npm ci" in missing.text


async def test_docs_page_loads_offline_in_chromium(live_server: LiveServer, browser: Any) -> None:
    own = urlsplit(live_server.url).netloc
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))

    def on_response(resp: Any) -> None:
        if resp.status >= 400:
            failed.append(f"{resp.url}: HTTP {resp.status}")

    page.on("response", on_response)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def offline_so_far() -> None:
        foreign = [u for u in requests if urlsplit(u).scheme not in ("data", "blob")]
        foreign = [u for u in foreign if urlsplit(u).netloc != own]
        assert not foreign, foreign
        assert not failed, failed
        assert not errors, errors

    await page.goto(f"{live_server.url}/docs", wait_until="networkidle")
    offline_so_far()
    # the operations are rendered: POST /runs with its summary
    runs = page.locator(".opblock-post .opblock-summary-path[data-path='/runs']")
    await runs.first.wait_for(timeout=30_000)
    body = await page.locator("#swagger-container").inner_text()
    assert "Start a rendering run" in body and "/api/info" in body
    # the stylesheet applied (Swagger UI's own rule, not the browser default)
    weight = await runs.first.evaluate("el => getComputedStyle(el).fontWeight")
    assert weight in ("600", "700"), weight
    # expanding an operation works without the network either
    await runs.first.click()
    await page.locator(".opblock-post.is-open .opblock-body").first.wait_for(timeout=10_000)
    await page.wait_for_load_state("networkidle")
    await context.close()
    offline_so_far()
    assert f"{live_server.url}/static/vendor/swagger-ui-bundle.js" in requests
    assert f"{live_server.url}/static/vendor/swagger-ui.css" in requests
