"""The typed run and recipe answers are the JSON clients got from the dict builders before.

``LEGACY_*`` are the builders the models replaced (``api/models.run_json`` and
friends, verbatim in substance); the models must encode to the same keys, in
the same order, with the same values.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pytest

from api.schemas.recipes import recipe_summary
from api.schemas.runs import run_detail, run_summary, run_view
from streamer.runs.queries import ProvenanceEntry, S3Playlist

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def legacy_run_json(row: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": row["id"],
        "recipe_id": row.get("recipe_id"),
        "status": row["status"],
        "progress": row.get("progress", 0.0),
        "segment_count": row.get("segment_count", 0),
        "playlist_cid": row.get("playlist_cid"),
        "output_cid": row.get("output_cid"),
        "error": row.get("error"),
        "created_at": _iso(row.get("created_at")),
        "started_at": _iso(row.get("started_at")),
        "finished_at": _iso(row.get("finished_at")),
    }
    if full:
        rid = row["id"]
        links = {
            "self": f"/api/run/{rid}",
            "page": f"/run/{rid}",
            "playlist": f"/runs/{rid}/playlist.m3u8",
            "ipfs": f"/runs/{rid}/ipfs",
            "events": f"/runs/{rid}/events",
            "plan": f"/api/run/{rid}/plan",
            "analysis": f"/api/run/{rid}/analysis",
            "provenance": f"/api/run/{rid}/provenance",
        }
        if row.get("playlist_cid"):
            links["ipfs_playlist"] = f"/ipfs/{row['playlist_cid']}"
        out["inputs"] = row.get("inputs") or {}
        out["params"] = row.get("params") or {}
        out["plan_id"] = row.get("plan_id")
        out["has_analysis"] = row.get("analysis") is not None
        out["links"] = links
    return out


def legacy_run_view(
    row: dict[str, Any], latest: ProvenanceEntry | None, s3: S3Playlist | None
) -> dict[str, Any]:
    out = legacy_run_json(row)
    if s3 is not None:
        out["s3_playlist_key"] = s3.key
        out["links"]["s3_playlist"] = s3.url
    out["provenance"] = (
        None
        if latest is None
        else {
            "record_cid": latest.record_cid,
            "cid": latest.cid,
            "rendered_at": latest.record.get("rendered_at"),
            "rendered_by": latest.record.get("rendered_by"),
        }
    )
    out["replicas"] = []  # added with the copies on storage providers (none here)
    return out


def _same(model: Any, legacy: dict[str, Any]) -> None:
    encoded = msgspec.json.encode(model)
    assert json.loads(encoded) == legacy
    assert encoded == json.dumps(legacy, separators=(",", ":")).encode()  # key order too


ROWS: list[dict[str, Any]] = [
    {"id": "r1", "status": "pending", "created_at": NOW},
    {
        "id": "r2",
        "recipe_id": "f" * 64,
        "status": "completed",
        "progress": 1.0,
        "segment_count": 7,
        "playlist_cid": "bafyplaylist",
        "output_cid": "bafyoutput",
        "error": None,
        "created_at": NOW,
        "started_at": NOW,
        "finished_at": NOW,
        "inputs": {"video": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"},
        "params": {"speed": 2.5, "n": 3},
        "plan_id": "ab" * 32,
        "analysis": {"tempo": 120.0},
    },
    {"id": "r3", "status": "failed", "progress": 0.25, "error": "boom", "inputs": None},
]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_run_json_is_unchanged(row: dict[str, Any]) -> None:
    _same(run_summary(row), legacy_run_json(row, full=False))
    _same(run_detail(row), legacy_run_json(row))
    _same(run_view(row, None, None), legacy_run_view(row, None, None))
    latest = ProvenanceEntry(
        cid="bafyoutput",
        record_cid="bafyrecord",
        record={"rendered_at": "2026-01-02T03:04:05Z", "rendered_by": "@u@l2"},
        created_at=NOW,
    )
    s3 = S3Playlist(key="hls/r/playlist.m3u8", url="http://s3/b/hls/r/playlist.m3u8")
    _same(run_view(row, latest, s3), legacy_run_view(row, latest, s3))


def test_recipe_summary_is_unchanged() -> None:
    row = {
        "id": "e" * 64,
        "name": "chain",
        "version": "1.0",
        "description": "",
        "syntax": "yaml",
        "owner": None,
        "canonical": {"inputs": {"video": {"type": "video", "description": "x"}}, "steps": [1, 2]},
        "created_at": NOW,
    }
    legacy = {
        "recipe_id": row["id"],
        "name": "chain",
        "version": "1.0",
        "description": "",
        "syntax": "yaml",
        "owner": None,
        "inputs": {"video": {"type": "video", "description": "x"}},
        "step_count": 2,
        "created_at": NOW.isoformat(),
        "links": {
            "self": f"/recipes/{row['id']}",
            "page": f"/recipe/{row['id']}",
            "run": f"/recipes/{row['id']}/run",
        },
    }
    _same(recipe_summary(row), legacy)


def test_run_view_lists_its_copies() -> None:
    row = {"id": "r9", "status": "completed", "created_at": NOW}
    copy = {
        "run_id": "r9",
        "provider_id": 3,
        "provider_name": "archive",
        "kind": "s3",
        "state": "pending",
        "objects_done": 2,
        "objects_total": 9,
        "attempts": 1,
        "last_error": "attempt 1/8: StorageUnavailableError: down",
        "updated_at": NOW,
    }
    doc = json.loads(msgspec.json.encode(run_view(row, None, None, [copy])))
    assert doc["replicas"] == [
        {
            "provider_id": 3,
            "provider_name": "archive",
            "kind": "s3",
            "state": "pending",
            "objects_done": 2,
            "objects_total": 9,
            "attempts": 1,
            "error": "attempt 1/8: StorageUnavailableError: down",
            "updated_at": NOW.isoformat(),
        }
    ]
