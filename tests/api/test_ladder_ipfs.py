"""api.ladder_ipfs: the live multivariant playlist's URIs and the rendition CIDs."""

from __future__ import annotations

from typing import Any

import m3u8
import pytest

from api.errors import NotFound
from api.ladder_ipfs import live_master_text, rung_cid
from hls.multivariant import MultivariantPlaylist, VariantInfo

MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=25.000
playlist.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=250000,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2",FRAME-RATE=25.000
playlist_180p.m3u8
"""


def test_live_master_keeps_attributes_and_points_at_the_redirects() -> None:
    text = live_master_text(MASTER)
    before, after = m3u8.loads(MASTER), m3u8.loads(text)
    assert [p.uri for p in after.playlists] == ["ipfs/playlist.m3u8", "ipfs/playlist_180p.m3u8"]
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        line for line in MASTER.splitlines() if line.startswith("#")
    ]
    assert [p.stream_info.bandwidth for p in after.playlists] == [
        p.stream_info.bandwidth for p in before.playlists
    ]


def _run(**fields: Any) -> dict[str, Any]:
    return {"id": "r1", "status": "running", "playlist_cid": None, **fields}


def test_rung_cid_top_and_lower() -> None:
    run = _run(playlist_cid="top", variant_cids={"playlist_180p.m3u8": "low"})
    assert rung_cid(run, "playlist.m3u8") == "top"
    assert rung_cid(run, "playlist_180p.m3u8") == "low"


@pytest.mark.parametrize("name", ["playlist_999p.m3u8", "master.m3u8", "../x", "playlist"])
def test_rung_cid_unknown_rendition(name: str) -> None:
    run = _run(playlist_cid="top", variant_cids={"playlist_180p.m3u8": "low"})
    with pytest.raises(NotFound, match="is not a rendition") as err:
        rung_cid(run, name)
    assert "playlist_180p.m3u8" in str(err.value)


def test_rung_cid_not_yet_on_ipfs() -> None:
    with pytest.raises(NotFound, match="no IPFS playlist yet"):
        rung_cid(_run(), "playlist.m3u8")
    with pytest.raises(NotFound, match="is not a rendition"):
        rung_cid(_run(), "playlist_180p.m3u8")  # a single-rendition run


def test_live_master_from_the_ipfs_master() -> None:
    """A node without the local files rewrites the master added to IPFS the same way."""
    playlist = MultivariantPlaylist(("playlist.m3u8", "playlist_180p.m3u8"))
    for name, height in (("playlist.m3u8", 360), ("playlist_180p.m3u8", 180)):
        playlist.set(VariantInfo(name, height * 16 // 9, height, "avc1.64001e", 25.0, 9, 8))
    cids = {"playlist.m3u8": "bafytop", "playlist_180p.m3u8": "bafylow"}
    on_ipfs = playlist.render(lambda name: f"/ipfs/{cids[name]}?filename={name}")
    assert live_master_text(on_ipfs) == live_master_text(playlist.render())
    assert [p.uri for p in m3u8.loads(live_master_text(on_ipfs)).playlists] == [
        "ipfs/playlist.m3u8",
        "ipfs/playlist_180p.m3u8",
    ]
    # a URI naming no rendition is left as it is
    assert "/ipfs/bafyx?filename=other.m3u8" in live_master_text(
        on_ipfs.replace(
            "/ipfs/bafylow?filename=playlist_180p.m3u8", "/ipfs/bafyx?filename=other.m3u8"
        )
    )
