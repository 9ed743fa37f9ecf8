"""Cache API on the real app (PostgreSQL + Redis): upload, ranges, limits, import,
metadata, delete rules, previews and MP4 (checked with ffprobe)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from cache.cid import cid_of_bytes
from streamer.db import runs as runs_db
from streamer.settings import Settings
from tests.api.helpers import api_error, app_client

LIMIT = 2_000_000


def make_video(path: Path, *, fmt: str | None = None, seconds: int = 2) -> bytes:
    """An H.264 + AAC clip (moving grey ramp, 440 Hz tone) made with PyAV."""
    w, h, rate, sr = 160, 120, 25, 44100
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        aus = out.add_stream("aac", rate=sr)
        for i in range(rate * seconds):
            img = np.full((h, w, 3), (i * 5) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        t = np.arange(sr * seconds) / sr
        tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for k in range(0, len(tone), 1024):
            af = av.AudioFrame.from_ndarray(tone[None, k : k + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = sr, k
            out.mux(aus.encode(af))
        out.mux(aus.encode(None))
    return path.read_bytes()


def make_wav(path: Path, seconds: float = 1.5) -> bytes:
    sr = 22050
    with av.open(str(path), "w", format="wav") as out:
        st = out.add_stream("pcm_s16le", rate=sr)
        t = np.arange(int(sr * seconds)) / sr
        samples = (0.8 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = sr
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path.read_bytes()


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    out = {"data": tmp_path / "data", "cache": tmp_path / "cache", "imports": tmp_path / "imports"}
    out["imports"].mkdir()
    return out


@pytest.fixture
def settings(pg_dsn: str, redis_url: str, dirs: dict[str, Path]) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": pg_dsn,
            "REDIS_URL": redis_url,
            "ARTDAG_DATA_DIR": str(dirs["data"]),
            "CACHE_DIR": str(dirs["cache"]),
            "IPFS_API": "/ip4/127.0.0.1/tcp/1",
            "UPLOAD_MAX_BYTES": str(LIMIT),
            "IMPORT_ROOTS": str(dirs["imports"]),
        }
    )


@pytest.fixture
async def client(settings: Settings, redis_prefix: str) -> AsyncIterator[Any]:
    async with app_client(
        settings,
        user="cache-tester",
        redis_prefix=redis_prefix,
        queue_name=f"{redis_prefix}cache-queue",
    ) as c:
        yield c


@pytest.fixture
def video(tmp_path: Path) -> bytes:
    # a random tag in the file keeps CIDs unique across tests sharing the database
    data = make_video(tmp_path / "clip.mkv")
    return data + uuid.uuid4().bytes  # trailing bytes after the last cluster are ignored


async def _upload(client: Any, data: bytes, name: str = "clip.mkv") -> dict[str, Any]:
    resp = await client.post("/cache/upload", files={"file": (name, data, "video/x-matroska")})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _stored_files(cache_dir: Path) -> list[Path]:
    return [p for p in cache_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts]


async def test_upload_then_ranges(client: Any, video: bytes) -> None:
    doc = await _upload(client, video)
    cid = doc["cid"]
    assert cid == cid_of_bytes(video)
    assert doc["size"] == len(video) and doc["kind"] == "video"
    assert doc["info"]["video"]["width"] == 160 and doc["filename"] == "clip.mkv"

    full = await client.get(f"/cache/{cid}/raw")
    assert full.status_code == 200 and full.content == video
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"].startswith("video/x-matroska")
    cached = await client.get(f"/cache/{cid}/raw", headers={"If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""

    part = await client.get(f"/cache/{cid}/raw", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == video[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(video)}"
    assert part.headers["content-length"] == "1000"
    tail = await client.get(f"/cache/{cid}/raw", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == video[-10:]
    open_end = await client.get(f"/cache/{cid}/raw", headers={"Range": f"bytes={len(video) - 3}-"})
    assert open_end.status_code == 206 and open_end.content == video[-3:]
    past = await client.get(f"/cache/{cid}/raw", headers={"Range": "bytes=0-99999999"})
    assert past.status_code == 206 and past.content == video  # clamped to the end

    bad = await client.get(f"/cache/{cid}/raw", headers={"Range": f"bytes={len(video)}-"})
    api_error(bad, 416)
    assert bad.headers["content-range"] == f"bytes */{len(video)}"
    api_error(await client.get(f"/cache/{cid}/raw", headers={"Range": "bytes=-0"}), 416)

    detail = (await client.get(f"/cache/{cid}")).json()
    assert detail["kind"] == "video" and detail["local"] is True
    assert detail["preview"]["poster"] == f"/cache/{cid}/poster.jpg"
    assert 1.9 < detail["info"]["duration"] < 2.2
    poster = await client.get(f"/cache/{cid}/poster.jpg")
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    assert poster.headers["content-type"] == "image/jpeg"


async def test_bad_and_unknown_cids(client: Any) -> None:
    api_error(await client.get("/cache/not-a-cid"), 400)
    api_error(await client.get("/cache/not-a-cid/raw"), 400)
    missing = cid_of_bytes(uuid.uuid4().bytes)
    api_error(await client.get(f"/cache/{missing}"), 404)
    api_error(await client.get(f"/cache/{missing}/raw"), 404)
    api_error(await client.get(f"/cache/{missing}/meta"), 404)
    api_error(await client.delete(f"/cache/{missing}"), 404)
    api_error(await client.post(f"/cache/{missing}/publish"), 404)
    api_error(await client.get(f"/cache/{missing}/publish"), 404)
    api_error(await client.get(f"/cache/{missing}/object"), 404)


async def test_upload_needs_a_token(client: Any, video: bytes) -> None:
    resp = await client.post("/cache/upload", content=video, headers={"Authorization": ""})
    api_error(resp, 401)


async def test_upload_over_limit_stores_nothing(client: Any, settings: Settings) -> None:
    cache_dir = settings.storage.cache_dir
    before = _stored_files(cache_dir)
    blob = os.urandom(LIMIT + 1)
    # declared length over the limit: refused before reading
    api_error(await client.post("/cache/upload", content=blob), 413)

    # multipart whose file part is over the limit (the body length passes the first
    # check, which allows for multipart overhead): refused while streaming to disk
    resp = await client.post("/cache/upload", files={"file": ("big.bin", blob)})
    api_error(resp, 413)
    assert _stored_files(cache_dir) == before
    assert not any((cache_dir / ".tmp").iterdir())
    api_error(await client.get(f"/cache/{cid_of_bytes(blob)}"), 404)


async def test_raw_upload_and_gallery(client: Any, tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "tone.wav") + uuid.uuid4().bytes
    resp = await client.post("/cache/upload", params={"filename": "tone.wav"}, content=wav)
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert doc["kind"] == "audio" and doc["media_type"] == "audio/wav"
    cid = doc["cid"]
    wave = (await client.get(f"/cache/{cid}/waveform", params={"points": 50})).json()
    assert len(wave["peaks"]) == 50 and 1.4 < wave["duration"] < 1.6
    assert 0.7 < max(wave["peaks"]) <= 1.0
    detail = (await client.get(f"/cache/{cid}")).json()
    assert detail["preview"]["waveform"] == f"/cache/{cid}/waveform"
    api_error(await client.get(f"/cache/{cid}/poster.jpg"), 404)  # audio has no poster

    gallery = (await client.get("/api/media", params={"kind": "audio", "limit": 200})).json()
    assert cid in [i["cid"] for i in gallery["items"]]
    assert all(i["kind"] == "audio" for i in gallery["items"]) and gallery["total"] >= 1
    api_error(await client.get("/api/media", params={"kind": "nope"}), 400)


async def test_import_roots(client: Any, dirs: dict[str, Path], tmp_path: Path) -> None:
    inside = dirs["imports"] / "sub" / "a.bin"
    inside.parent.mkdir()
    payload = b"import me " + uuid.uuid4().bytes
    inside.write_bytes(payload)
    resp = await client.post("/cache/import", params={"path": str(inside)})
    assert resp.status_code == 201, resp.text
    assert resp.json()["cid"] == cid_of_bytes(payload)
    assert resp.json()["source"] == f"import:{inside.resolve()}"

    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    api_error(await client.post("/cache/import", params={"path": str(outside)}), 403)
    traversal = f"{dirs['imports']}/../secret.txt"
    api_error(await client.post("/cache/import", params={"path": traversal}), 400)
    link = dirs["imports"] / "link.txt"
    link.symlink_to(outside)
    doc = api_error(await client.post("/cache/import", params={"path": str(link)}), 403)
    assert "outside" in doc["detail"]
    api_error(await client.post("/cache/import", params={"path": "relative/a.bin"}), 400)
    api_error(
        await client.post("/cache/import", params={"path": str(dirs["imports"] / "nope")}), 404
    )
    api_error(await client.post("/cache/import", params={"path": str(dirs["imports"])}), 400)


async def test_meta_round_trip(client: Any) -> None:
    cid = (await _upload(client, b"meta " + uuid.uuid4().bytes, "m.bin"))["cid"]
    assert (await client.get(f"/cache/{cid}/meta")).json() == {
        "cid": cid,
        "title": None,
        "description": None,
        "tags": [],
    }
    resp = await client.patch(
        f"/cache/{cid}/meta",
        json={"title": " Dawn ", "description": "first light", "tags": ["sky", "sky", "a:b"]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "cid": cid,
        "title": "Dawn",
        "description": "first light",
        "tags": ["sky", "a:b"],
    }
    # a partial patch keeps the other fields; null clears
    await client.patch(f"/cache/{cid}/meta", json={"description": None})
    got = (await client.get(f"/cache/{cid}/meta")).json()
    assert got == {"cid": cid, "title": "Dawn", "description": None, "tags": ["sky", "a:b"]}
    assert (await client.get(f"/cache/{cid}")).json()["title"] == "Dawn"
    doc = api_error(
        await client.patch(f"/cache/{cid}/meta", json={"tags": ["ok", "<script>"]}), 400
    )
    assert doc["field"] == "tags[1]"
    api_error(await client.patch(f"/cache/{cid}/meta", json={"title": 5}), 400)
    api_error(await client.patch(f"/cache/{cid}/meta", json={"colour": "red"}), 400)
    api_error(await client.patch(f"/cache/{cid}/meta", json={"title": "x" * 201}), 400)
    api_error(await client.patch(f"/cache/{cid}/meta", content=b"[1]"), 400)


async def test_delete_rules(client: Any) -> None:
    db_url = client.app_state.settings.services.database_url
    import asyncpg

    pinned = (await _upload(client, b"pinned " + uuid.uuid4().bytes, "p.bin"))["cid"]
    used = (await _upload(client, b"used " + uuid.uuid4().bytes, "u.bin"))["cid"]
    free = (await _upload(client, b"free " + uuid.uuid4().bytes, "f.bin"))["cid"]
    conn = await asyncpg.connect(db_url)
    try:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        provider = await conn.fetchval(
            "INSERT INTO storage_providers (type, name) VALUES ('local', $1) RETURNING id",
            f"p-{uuid.uuid4().hex[:8]}",
        )
        await conn.execute("INSERT INTO pins (cid, provider_id) VALUES ($1, $2)", pinned, provider)
        run = await runs_db.create_run(conn, recipe_id=None, inputs={"video": used})
    finally:
        await conn.close()
    assert "pinned" in api_error(await client.delete(f"/cache/{pinned}"), 409)["detail"]
    assert run["id"] in api_error(await client.delete(f"/cache/{used}"), 409)["detail"]
    await client.patch(f"/cache/{free}/meta", json={"title": "bye"})
    resp = await client.delete(f"/cache/{free}")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"deleted": free, "file_removed": True, "record_removed": True}
    api_error(await client.get(f"/cache/{free}"), 404)
    api_error(await client.get(f"/cache/{free}/raw"), 404)
    assert (await client.get(f"/cache/{pinned}/raw")).status_code == 200


async def test_mp4_of_upload_plays(client: Any, video: bytes, ffprobe: str, tmp_path: Path) -> None:
    cid = (await _upload(client, video))["cid"]
    resp = await client.get(f"/cache/{cid}/mp4")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "video/mp4"
    out = tmp_path / "out.mp4"
    out.write_bytes(resp.content)
    streams = _ffprobe_streams(ffprobe, out)
    assert streams["h264"] == 50 and "aac" in streams
    # served from the derived cache afterwards, with ranges
    again = await client.get(f"/cache/{cid}/mp4", headers={"Range": "bytes=0-7"})
    assert again.status_code == 206 and again.content == resp.content[:8]
    text_cid = (await _upload(client, b"plain text " + uuid.uuid4().bytes, "t.txt"))["cid"]
    api_error(await client.get(f"/cache/{text_cid}/mp4"), 400)


async def test_mp4_of_hls_playlist(client: Any, ffprobe: str, tmp_path: Path) -> None:
    ts = make_video(tmp_path / "whole.ts", fmt="mpegts", seconds=2)
    # split at a 188-byte TS packet boundary: two segments that concatenate back
    cut = (len(ts) // 2) // 188 * 188
    seg_cids = []
    for k, part in enumerate((ts[:cut], ts[cut:])):
        resp = await client.post("/cache/upload", params={"filename": f"s{k}.ts"}, content=part)
        assert resp.status_code == 201, resp.text
        seg_cids.append(resp.json()["cid"])
    playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
    for k, seg in enumerate(seg_cids):
        playlist += f"#EXTINF:1.0,\n/ipfs/{seg}?filename=s{k}.ts\n"
    playlist += f"#EXT-X-ENDLIST\n# {uuid.uuid4().hex}\n"
    resp = await client.post(
        "/cache/upload", params={"filename": "index.m3u8"}, content=playlist.encode()
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["kind"] == "hls"
    cid = resp.json()["cid"]
    assert (await client.get(f"/cache/{cid}")).json()["preview"]["mp4"] == f"/cache/{cid}/mp4"
    mp4 = await client.get(f"/cache/{cid}/mp4")
    assert mp4.status_code == 200, mp4.text
    out = tmp_path / "hls.mp4"
    out.write_bytes(mp4.content)
    streams = _ffprobe_streams(ffprobe, out)
    assert streams["h264"] == 50 and "aac" in streams


def _ffprobe_streams(ffprobe: str, path: Path) -> dict[str, int]:
    proc = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,nb_read_frames",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {s["codec_name"]: int(s["nb_read_frames"]) for s in json.loads(proc.stdout)["streams"]}
