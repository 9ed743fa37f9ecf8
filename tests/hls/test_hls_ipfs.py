"""IPFSHLSOutput against a real IPFS node (ARTDAG_TEST_IPFS_API), read back by ffmpeg."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aioipfs
import m3u8

from effects.frame import AudioFormat, VideoFormat
from hls.options import HLSOptions
from hls.output import HLSResult, IPFSHLSOutput, PlaylistUpdate, sha256_cid
from tests.hls.hls_media import make_frames, tone_for_frame


class AioIPFSStore:
    """Minimal SegmentStore over aioipfs (hls may not import cache/)."""

    def __init__(self, client: aioipfs.AsyncIPFS) -> None:
        self.client = client

    async def add_bytes(self, data: bytes, *, pin: bool = True) -> str:
        entry = await self.client.core.add_bytes(data, pin=pin)
        return str(entry["Hash"])


async def _render(
    ipfs_api: str, directory: Path, video: VideoFormat, audio: AudioFormat, n: int
) -> tuple[HLSResult, str, list[bytes], list[PlaylistUpdate]]:
    client = aioipfs.AsyncIPFS(maddr=ipfs_api)
    updates: list[PlaylistUpdate] = []

    async def on_update(u: PlaylistUpdate) -> None:
        updates.append(u)

    try:
        out = IPFSHLSOutput(
            AioIPFSStore(client), directory, HLSOptions(segment_duration=1.0), sha256_cid, on_update
        )
        await out.start(video, audio)
        frames = make_frames(video, n)

        def pump() -> None:
            for i, f in enumerate(frames):
                out.write(f, tone_for_frame(audio, video, i))

        await asyncio.to_thread(pump)
        result = await out.finish()
        playlist = (await client.cat(result.ipfs_playlist_cid)).decode()
        seg_bytes = [
            await client.cat(s.uri.removeprefix("/ipfs/").split("?")[0])
            for s in m3u8.loads(playlist).segments
        ]
    finally:
        await client.close()
    return result, playlist, seg_bytes, updates


async def test_segments_and_playlists_reach_ipfs(
    ipfs_api: str, tmp_path: Path, small_video: VideoFormat, stereo: AudioFormat
) -> None:
    result, playlist, seg_bytes, updates = await _render(
        ipfs_api, tmp_path, small_video, stereo, 75
    )
    assert result.ipfs_complete and "#EXT-X-ENDLIST" in playlist
    local = [(tmp_path / s.uri).read_bytes() for s in result.segments]
    assert seg_bytes == local and len(local) == 3
    assert updates[-1].ended and updates[-1].playlist_cid == result.ipfs_playlist_cid
    counts = [u.segment_count for u in updates]
    # the last segment's playlist may already be the ENDLIST one (timing), never a gap
    assert counts[:3] == [1, 2, 3] and set(counts[3:]) <= {3}
    assert sum(u.ended for u in updates) == 1


async def test_gateway_playback_with_ffmpeg(
    ipfs_api: str,
    ipfs_gateway: str,
    ffprobe: str,
    tmp_path: Path,
    small_video: VideoFormat,
    stereo: AudioFormat,
) -> None:
    result, _, _, _ = await _render(ipfs_api, tmp_path, small_video, stereo, 45)
    ffmpeg = ffprobe.replace("ffprobe", "ffmpeg")
    proc = await asyncio.to_thread(
        subprocess.run,
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            f"{ipfs_gateway}/{result.ipfs_playlist_cid}",
            "-map",
            "0:v",
            "-f",
            "null",
            "-",
            "-stats",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    assert "frame=   45" in proc.stderr or "frame=45" in proc.stderr, proc.stderr[-300:]
