"""Every page renders with its data; negotiation gives JSON to API clients, HTML to browsers."""

from __future__ import annotations

import html
import json
import re
import zipfile
from io import BytesIO
from typing import Any

from streamer.db import content as content_db
from streamer.db import runs as runs_db
from tests.api.conftest import LiveServer
from tests.web.conftest import HTML
from web.templating import BUILD_DIR


def _html(resp: Any, status: int = 200) -> str:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith("text/html"), resp.headers
    text: str = resp.text
    return text


async def test_home_is_html_for_browsers_and_json_for_api_clients(
    live_server: LiveServer, completed_run: dict[str, Any]
) -> None:
    c = live_server.client
    page = _html(await c.get("/", headers=HTML))
    assert "<!doctype html>" in page.lower() and "artdag-l1" in page
    assert re.search(r'data-service="database".*?>ok<', page, re.S), "database status missing"
    assert re.search(r'data-service="redis".*?>ok<', page, re.S)
    assert f'href="/run/{completed_run["run_id"]}"' in page  # recent runs
    assert 'src="/static/vendor/htmx.min.js"' in page and 'hx-boost="true"' in page
    doc = (await c.get("/")).json()  # */* ties -> JSON
    assert doc["name"] == "artdag-l1" and doc["services"]["database"] == "ok"
    doc = (await c.get("/", headers={"Accept": "application/json"})).json()
    assert doc["name"] == "artdag-l1"
    assert (await c.get("/api/info", headers=HTML)).json()["name"] == "artdag-l1"
    # htmx requests are HTML whatever their Accept says
    assert "<html" in _html(await c.get("/", headers={"HX-Request": "true"}))


async def test_runs_list_negotiates_and_shows_status(
    live_server: LiveServer, completed_run: dict[str, Any]
) -> None:
    c = live_server.client
    run_id = completed_run["run_id"]
    page = _html(await c.get("/runs", headers=HTML))
    row = re.search(rf'<tr data-run="{run_id}">(.*?)</tr>', page, re.S)
    assert row, "run row missing"
    assert 'data-field="status">completed<' in row.group(1)
    assert "width: 100.0%" in row.group(1) and f'href="/run/{run_id}/plan"' in row.group(1)
    listing = (await c.get("/runs")).json()
    assert run_id in [r["run_id"] for r in listing["runs"]]
    assert (await c.get("/runs", headers={"Accept": "application/json, text/html;q=0.5"})).json()
    # filters, and the polling partial is a fragment
    page = _html(await c.get("/runs?status=failed", headers=HTML))
    # the session database is shared: other tests' failed runs may be listed
    assert f'data-run="{run_id}"' not in page
    statuses = re.findall(r'data-field="status">(\w+)<', page)
    assert all(s == "failed" for s in statuses)
    assert statuses or "No runs with status failed" in page
    part = _html(await c.get("/runs?partial=table", headers={"HX-Request": "true"}))
    assert part.lstrip().startswith('<div id="runs-table"') and "<html" not in part
    assert f'data-run="{run_id}"' in part
    # POST /runs is untouched by negotiation
    bad = await c.post("/runs", json={}, headers=HTML)
    assert bad.status_code == 400 and bad.json()["status"] == 400


async def test_run_page_player_tabs_and_artifacts(
    live_server: LiveServer, completed_run: dict[str, Any]
) -> None:
    c = live_server.client
    run_id = completed_run["run_id"]
    page = _html(await c.get(f"/run/{run_id}", headers=HTML))
    assert f'data-src="/runs/{run_id}/playlist.m3u8"' in page and "data-hls-player" in page
    assert 'src="/static/vendor/hls.min.js"' in page
    assert 'data-field="status">completed<' in page
    assert f'data-segments="{completed_run["segment_count"]}"' in page
    for tab in ("plan", "analysis", "artifacts"):
        assert f'href="/run/{run_id}/{tab}"' in page
    # the plan DAG: one node per plan step, edges between them
    plan = (await c.get(f"/api/run/{run_id}/plan")).json()
    svg = page[page.index("<svg") : page.index("</svg>")]
    for step in plan["steps"]:
        assert f'data-node="{step["step_id"]}"' in svg
    n_edges = sum(len(s["inputs"]) for s in plan["steps"])
    assert svg.count('class="dag-edge"') == n_edges > 0
    # tabs: a full page on navigation, only the panel for an htmx tab click
    full = _html(await c.get(f"/run/{run_id}/artifacts", headers=HTML))
    assert "data-hls-player" in full and "tab-active" in full
    files = sorted(p.name for p in (live_server.cache_dir / "hls" / run_id).iterdir())
    assert "playlist.m3u8" in files
    for name in files:
        assert f'href="/runs/{run_id}/{name}"' in full
    assert completed_run["output_cid"] in full  # provenance record of the output
    panel = _html(
        await c.get(
            f"/run/{run_id}/analysis", headers={"HX-Request": "true", "HX-Target": "run-tabs"}
        )
    )
    assert "<html" not in panel and "data-hls-player" not in panel
    assert "No analysis data" in panel and 'data-tab-panel="analysis"' in panel
    assert re.search(r'class="tab tab-active" data-tab="analysis"', panel)
    status = _html(await c.get(f"/web/run/{run_id}/status", headers={"HX-Request": "true"}))
    assert 'id="run-status"' in status and "hx-trigger" not in status  # ended: no polling


async def test_run_with_analysis_shows_it(live_server: LiveServer) -> None:
    row = await runs_db.create_run(live_server.db, recipe_id=None, inputs={})
    await runs_db.update_run(
        live_server.db, row["id"], analysis={"audio": {"tempo": 123.456, "beats": [0.5, 1.0, 1.5]}}
    )
    page = _html(await live_server.client.get(f"/run/{row['id']}/analysis", headers=HTML))
    assert 'data-summary="tempo">123.5 BPM<' in page and 'data-summary="beats">3<' in page
    assert "tempo 123.5 BPM" in page and "data-analysis-data" in page  # the chart's caption
    # no plan: the plan tab says so instead of drawing
    assert "No execution plan" in _html(
        await live_server.client.get(f"/run/{row['id']}/plan", headers=HTML)
    )
    await live_server.db.execute("DELETE FROM runs WHERE id = $1", row["id"])  # shared DB


async def test_unknown_run_and_recipe_are_html_404s(live_server: LiveServer) -> None:
    c = live_server.client
    for path, what in (
        ("/run/no-such-run", "Run not found"),
        ("/run/no-such-run/plan", "Run not found"),
        ("/run/no-such-run/artifacts", "Run not found"),
        ("/recipe/" + "f" * 64, "Recipe not found"),
        ("/recipe/" + "f" * 64 + "/dag", "Recipe not found"),
    ):
        page = _html(await c.get(path, headers=HTML), 404)
        assert what in page and 'data-error="404"' in page, path
    # the JSON API keeps its JSON 404
    resp = await c.get("/api/run/no-such-run", headers=HTML)
    assert resp.status_code == 404 and resp.json()["status"] == 404


async def test_recipe_pages(live_server: LiveServer, completed_run: dict[str, Any]) -> None:
    c = live_server.client
    recipe_id = completed_run["recipe_id"]
    page = _html(await c.get("/recipes", headers=HTML))
    assert f'data-recipe="{recipe_id}"' in page and "web-pages" in page
    listing = (await c.get("/recipes")).json()
    assert recipe_id in [r["recipe_id"] for r in listing["recipes"]]
    detail = _html(await c.get(f"/recipe/{recipe_id}", headers=HTML))
    source = (await c.get(f"/recipes/{recipe_id}")).json()["source"]
    shown = re.search(r"<pre[^>]*data-recipe-source>(.*?)</pre>", detail, re.S)
    assert shown and html.unescape(shown.group(1)) == source
    assert f'href="/run/{completed_run["run_id"]}"' in detail
    dag = _html(await c.get(f"/recipe/{recipe_id}/dag", headers=HTML))
    for step in ("video", "beat", "fx", "show"):
        assert f'data-node="{step}"' in dag
    assert dag.count('class="dag-edge"') == 3  # video->fx, fx->show, beat->show
    assert re.search(r'class="dag-node dag-kind-mux dag-marked"[^>]*data-node="show"', dag)
    # click details: JSON config from the canonical form plus the source line
    fx = re.search(r'data-node="fx" data-details="([^"]*)"', dag)
    assert fx, "fx node details missing"
    details = json.loads(html.unescape(fx.group(1)))
    assert details["config"]["effect"] == "hue" and "90 * t" in details["source"]
    assert "Expr(" not in html.unescape(fx.group(1))
    # the runs list filtered by this recipe
    runs = _html(await c.get(f"/runs?recipe={recipe_id}", headers=HTML))
    assert f'data-run="{completed_run["run_id"]}"' in runs and 'data-filter="recipe"' in runs
    other = _html(await c.get("/runs?recipe=" + "0" * 64, headers=HTML))
    assert f'data-run="{completed_run["run_id"]}"' not in other


async def test_media_storage_and_client_pages(live_server: LiveServer) -> None:
    c = live_server.client
    cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
    await content_db.put_cache_item(
        live_server.db, cid=cid, size=2048, media_type="video/mp4", kind="video"
    )
    page = _html(await c.get("/media", headers=HTML))
    assert f'data-cid="{cid}"' in page and f'src="/cache/{cid}/poster.jpg"' in page
    assert "2.0 KiB" in page
    empty = _html(await c.get("/media?kind=audio", headers=HTML))
    assert f'data-cid="{cid}"' not in empty
    kinds = re.findall(r'data-kind="(\w+)"', empty)
    assert all(k == "audio" for k in kinds)
    assert kinds or "No cached media of kind audio" in empty
    storage = _html(await c.get("/storage", headers=HTML))
    assert 'data-builtin="local"' in storage and str(live_server.cache_dir) in storage
    assert 'hx-post="/storage"' in storage
    providers = await live_server.db.fetch("SELECT id FROM storage_providers")
    if providers:  # the session database is shared with other test modules
        for row in providers:
            assert f'data-provider="{row["id"]}"' in storage
    else:
        assert "No providers configured" in storage
    client = _html(await c.get("/download/client", headers=HTML))
    assert 'href="/download/client/artdag-client.pyz"' in client
    resp = await c.get("/download/client/artdag-client.pyz")
    assert resp.status_code == 200 and resp.content.startswith(b"#!/usr/bin/env python3\n")
    names = zipfile.ZipFile(BytesIO(resp.content)).namelist()
    assert "__main__.py" in names and "streamer/entry/cli.py" in names
    assert not any(n.startswith(("web/", "tests/")) for n in names)
    await live_server.db.execute("DELETE FROM cache_items WHERE cid = $1", cid)  # shared DB


async def test_static_assets(live_server: LiveServer) -> None:
    c = live_server.client
    for path in (
        "/static/vendor/hls.min.js",
        "/static/vendor/htmx.min.js",
        "/static/app.js",
        "/static/analysis.js",
        "/static/plan_live.js",
    ):
        resp = await c.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith("text/javascript")
        assert len(resp.content) > 1000
    css = await c.get("/static/app.css")
    if (BUILD_DIR / "app.css").is_file():
        assert css.status_code == 200 and ".badge-running" in css.text
    else:
        assert css.status_code == 404 and "build:css" in css.text
    missing = await c.get("/static/vendor/jquery.js")
    assert missing.status_code == 404
