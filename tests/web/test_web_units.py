"""Pure parts of the web UI: Accept negotiation, DAG layout, filters, the client zipapp."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar import Request

from web.client import build_client
from web.dag import NODE_HEIGHT, NODE_WIDTH, DagNode, layout, plan_nodes
from web.negotiation import wants_html
from web.pages.run import _replicas_trigger
from web.templating import ago, filesize, short_id

ROOT = Path(__file__).resolve().parents[2]


def _request(headers: dict[str, str]) -> Request[Any, Any, Any]:
    scope: Any = {
        "type": "http",
        "method": "GET",
        "path": "/runs",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Chromium
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8,image/webp", True),
        ("*/*", False),
        ("", False),
        ("application/json", False),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0.5, application/json;q=0.4", True),
        ("text/*", True),
        ("text/html;q=0", False),
        ("text/html;q=bogus, application/json", False),
    ],
)
def test_wants_html(accept: str, html: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    assert wants_html(_request(headers)) is html


def test_htmx_requests_want_html() -> None:
    assert wants_html(_request({"Accept": "*/*", "HX-Request": "true"}))


def test_layout_levels_positions_and_edges() -> None:
    nodes = [
        DagNode("a", "a", "SOURCE"),
        DagNode("b", "b", "SOURCE"),
        DagNode("c", "c", "EFFECT", inputs=("a",)),
        DagNode("d", "d", "MUX", inputs=("c", "b", "ghost")),
    ]
    out = layout(nodes)
    by_id = {p.node.id: p for p in out.nodes}
    assert {k: v.level for k, v in by_id.items()} == {"a": 0, "b": 0, "c": 1, "d": 2}
    assert out.levels == 3
    assert by_id["a"].x == by_id["b"].x < by_id["c"].x < by_id["d"].x
    assert by_id["a"].y + NODE_HEIGHT < by_id["b"].y  # same column, no overlap
    assert [(e.source, e.target) for e in out.edges] == [("a", "c"), ("c", "d"), ("b", "d")]
    for p in out.nodes:  # everything inside the canvas
        assert p.x >= 0 and p.x + NODE_WIDTH <= out.width
        assert p.y >= 0 and p.y + NODE_HEIGHT <= out.height
    edge = out.edges[0]
    assert edge.path.startswith(f"M{by_id['a'].x + NODE_WIDTH},")
    assert edge.path.endswith(f" {by_id['c'].x},{by_id['c'].y + NODE_HEIGHT // 2}")
    assert layout(nodes) == out  # deterministic


def test_layout_survives_cycles_and_uses_given_levels() -> None:
    out = layout([DagNode("x", "x", "A", inputs=("y",)), DagNode("y", "y", "B", inputs=("x",))])
    assert len(out.nodes) == 2 and len(out.edges) == 2
    given = layout([DagNode("p", "p", "A"), DagNode("q", "q", "B")], levels={"p": 0, "q": 3})
    assert [p.level for p in given.nodes] == [0, 3] and given.levels == 2


def test_plan_nodes_mark_cached_steps() -> None:
    plan = {
        "steps": [
            {
                "step_id": "s",
                "name": "src",
                "node_type": "SOURCE",
                "inputs": [],
                "level": 0,
                "cache_id": "c1",
                "cached": True,
                "config": {},
            },
            {
                "step_id": "e",
                "name": "fx",
                "node_type": "EFFECT",
                "inputs": ["s"],
                "level": 1,
                "cache_id": "c2",
                "cached": False,
                "config": {"effect": "hue"},
            },
        ]
    }
    nodes, levels = plan_nodes(plan)
    assert [n.marked for n in nodes] == [True, False] and nodes[0].mark_label == "cached"
    assert levels == {"s": 0, "e": 1}
    placed = layout(nodes, levels).nodes
    assert (
        '"cache_id": "c2"' in placed[1].details_json and '"effect": "hue"' in placed[1].details_json
    )


def test_filters() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert ago(now - dt.timedelta(seconds=5), now) == "5 s ago"
    assert ago(now - dt.timedelta(minutes=3), now) == "3 min ago"
    assert ago(now - dt.timedelta(hours=2), now) == "2 h ago"
    assert ago(now - dt.timedelta(days=3), now) == "2025-12-29 12:00"
    assert ago(None) == ""
    assert filesize(100) == "100 B" and filesize(2048) == "2.0 KiB" and filesize("x") == ""
    assert short_id("Qm" + "a" * 44, 8) == "Qmaaaaaa…" and short_id(None) == ""


def test_client_zipapp_is_reused_and_runs(tmp_path: Path) -> None:
    first = build_client(ROOT, tmp_path)
    mtime = first.stat().st_mtime_ns
    assert build_client(ROOT, tmp_path) == first and first.stat().st_mtime_ns == mtime
    proc = subprocess.run(
        [sys.executable, str(first), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: artdag" in proc.stdout and "recipe" in proc.stdout
    # every command loads, the numba-cached effect kernels included (they cannot
    # cache from inside a zip, so the client unpacks itself under $HOME first)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, str(first), "effects", "show", "invert"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("invert (colour")
    assert (
        tmp_path / "home" / ".cache" / "artdag" / first.stem / "streamer" / "entry" / "cli.py"
    ).is_file()


def test_long_edges_go_around_skipped_columns() -> None:
    nodes = [
        DagNode("top", "top", "SOURCE"),
        DagNode("low", "low", "SOURCE"),
        DagNode("mid", "mid", "EFFECT", inputs=("low",)),
        DagNode("out", "out", "MUX", inputs=("mid", "top")),
    ]
    out = layout(nodes)
    mid = next(p for p in out.nodes if p.node.id == "mid")
    long_edge = next(e for e in out.edges if e.source == "top")
    assert " L" in long_edge.path  # a straight lane along the skipped column
    lane_y = int(long_edge.path.split(" L")[1].split(",")[1].split(" ")[0])
    assert not mid.y <= lane_y <= mid.y + NODE_HEIGHT  # not through the skipped node
    assert 0 <= lane_y <= out.height
    short_edge = next(e for e in out.edges if e.source == "mid")
    assert " L" not in short_edge.path


def test_pages_yield_to_an_api_that_claims_their_path() -> None:
    from litestar import Litestar, Router, get
    from litestar.di import Provide
    from litestar.routes import HTTPRoute

    from streamer.present.deps import provide_resources
    from web.routes import with_web_ui
    from web.templating import template_config

    @get("/media")
    async def api_media() -> dict[str, str]:
        return {"api": "media"}

    handlers = with_web_ui([Router("/", route_handlers=[api_media])])
    # one GET /media only (the API's); /storage has no API here, so the page owns it
    app = Litestar(
        route_handlers=handlers,
        template_config=template_config(),
        # the pages declare ``res: Res``; create_app provides it the same way
        dependencies={"res": Provide(provide_resources, sync_to_thread=False)},
    )
    paths = {r.path for r in app.routes}
    assert "/media" in paths and "/storage" in paths and "/run/{run_id:str}" in paths
    media_route = next(r for r in app.routes if r.path == "/media")
    assert isinstance(media_route, HTTPRoute)
    gets = [h.handler_name for h in media_route.route_handlers if "GET" in h.http_methods]
    assert gets == ["api_media"]

    from litestar.testing import TestClient

    with TestClient(app) as client:
        assert client.get("/media").json() == {"api": "media"}
        assert client.get("/media", headers={"Accept": "application/json"}).json()["api"] == "media"


@pytest.mark.parametrize(
    ("status", "finished_ago", "states", "expected"),
    [
        ("running", None, [], "poll-status from:body delay:1s"),  # refreshed when it ends
        ("completed", 1.0, ["done", "pending"], "every 2s"),
        ("completed", 600.0, ["copying"], "every 2s"),
        ("completed", 1.0, [], "every 2s"),  # the copies are being added
        ("completed", 600.0, [], None),  # no provider was enabled
        ("completed", 1.0, ["done", "failed"], None),  # settled
        ("failed", 1.0, [], None),
    ],
)
def test_copies_card_refreshes_while_copies_may_change(
    status: str, finished_ago: float | None, states: list[str], expected: str | None
) -> None:
    now = dt.datetime.now(dt.UTC)
    run = {
        "status": status,
        "finished_at": None if finished_ago is None else now - dt.timedelta(seconds=finished_ago),
    }
    assert _replicas_trigger(run, [{"state": s} for s in states]) == expected
