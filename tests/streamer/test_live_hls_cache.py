"""LiveHlsFiles: what is kept, for how long, and how much (files in a temp dir, no services)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from streamer.content import live_hls
from streamer.content.live_hls import PLAYLIST_NAME, LiveHlsFiles

RUN = "3f2a9c1e-0000-4000-8000-000000000001"


def _segment(directory: Path, n: int, size: int = 1000) -> str:
    name = f"{n:064x}.ts"
    (directory / name).write_bytes(bytes([n % 256]) * size)
    return name


def _playlist(directory: Path, names: list[str]) -> None:
    text = "#EXTM3U\n" + "".join(f"#EXTINF:2.0,\n{n}\n" for n in names)
    tmp = directory / ".tmp-pl"
    tmp.write_text(text)
    os.replace(tmp, directory / PLAYLIST_NAME)  # as the writer does: a new file each time


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "hls" / RUN
    directory.mkdir(parents=True)
    return directory


async def test_playlist_is_rechecked_after_the_window_only(run_dir: Path) -> None:
    cache = LiveHlsFiles(recheck=0.2)
    assert await cache.playlist(RUN, run_dir) is None  # no playlist yet
    _playlist(run_dir, [_segment(run_dir, 1)])
    first = await cache.playlist(RUN, run_dir)
    assert first is not None and first.body is not None and b"#EXTINF" in first.body
    _playlist(run_dir, [_segment(run_dir, 1), _segment(run_dir, 2)])
    assert await cache.playlist(RUN, run_dir) is first  # within the window: from memory
    await asyncio.sleep(0.25)
    second = await cache.playlist(RUN, run_dir)
    assert second is not None and second.etag != first.etag and second.body != first.body
    await asyncio.sleep(0.25)
    assert await cache.playlist(RUN, run_dir) is second  # unchanged stat: the same object


async def test_segments_are_read_once_and_bounded_in_bytes(run_dir: Path) -> None:
    cache = LiveHlsFiles(max_bytes=2500, max_file_bytes=1500)
    names = [_segment(run_dir, n) for n in range(4)]
    big = _segment(run_dir, 9, size=2000)
    _playlist(run_dir, [*names, big])
    first = await cache.segment(RUN, run_dir, names[0])
    assert first is not None and first.etag == f'"{names[0]}"' and first.size == 1000
    assert await cache.segment(RUN, run_dir, names[0]) is first
    for name in names[1:]:
        assert await cache.segment(RUN, run_dir, name) is not None
    assert cache.cached_bytes == 2000  # two of the four fit in 2500 bytes
    assert await cache.segment(RUN, run_dir, names[0]) is not first  # evicted: read again
    too_big = await cache.segment(RUN, run_dir, big)
    assert too_big is not None and too_big.body is None and too_big.size == 2000
    assert cache.cached_bytes <= 2500
    assert await cache.segment(RUN, run_dir, "f" * 64 + ".ts") is None


async def test_concurrent_requests_share_one_read(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _segment(run_dir, 1)
    _playlist(run_dir, [name])
    reads: list[str] = []
    release = threading.Event()
    real = live_hls._read_segment

    def slow_read(*args: Any) -> Any:
        reads.append(args[1])
        release.wait(5)
        return real(*args)

    monkeypatch.setattr(live_hls, "_read_segment", slow_read)
    cache = LiveHlsFiles()
    tasks = [asyncio.create_task(cache.segment(RUN, run_dir, name)) for _ in range(50)]
    await asyncio.sleep(0.1)
    tasks[0].cancel()  # one viewer leaves: the read goes on for the others
    release.set()
    results = await asyncio.gather(*tasks[1:])
    assert reads == [name]
    assert all(r is results[0] and r is not None for r in results)


async def test_forget_and_a_vanished_playlist_drop_the_run(run_dir: Path) -> None:
    cache = LiveHlsFiles(recheck=0.1)
    name = _segment(run_dir, 1)
    _playlist(run_dir, [name])
    assert await cache.segment(RUN, run_dir, name) is not None
    assert len(cache) == 1 and cache.cached_bytes == 1000
    cache.forget(RUN)
    assert len(cache) == 0 and cache.cached_bytes == 0
    assert await cache.segment(RUN, run_dir, name) is not None
    for p in run_dir.iterdir():  # deleted by another process
        p.unlink()
    run_dir.rmdir()
    assert await cache.segment(RUN, run_dir, name) is not None  # within the window
    await asyncio.sleep(0.15)
    assert await cache.segment(RUN, run_dir, name) is None
    assert await cache.playlist(RUN, run_dir) is None
    assert len(cache) == 0 and cache.cached_bytes == 0


async def test_runs_are_bounded_in_number(tmp_path: Path) -> None:
    cache = LiveHlsFiles(max_runs=3)
    for n in range(5):
        directory = tmp_path / f"run{n}"
        directory.mkdir()
        name = _segment(directory, n)
        _playlist(directory, [name])
        assert await cache.segment(f"run{n}", directory, name) is not None
    assert len(cache) == 3 and cache.cached_bytes == 3000


async def test_a_symlink_out_of_the_directory_is_no_segment(run_dir: Path) -> None:
    outside = run_dir.parent / ("e" * 64 + ".ts")
    outside.write_bytes(b"\x47" * 188)
    (run_dir / outside.name).symlink_to(outside)
    _playlist(run_dir, [outside.name])
    assert await LiveHlsFiles().segment(RUN, run_dir, outside.name) is None


async def test_derived_variants_are_made_once_per_playlist_version(run_dir: Path) -> None:
    cache = LiveHlsFiles(recheck=0.05)
    _playlist(run_dir, [_segment(run_dir, 0)])
    made: list[bytes] = []

    def make(file: live_hls.HlsFile) -> live_hls.HlsFile:
        made.append(file.body or b"")
        return file

    first = await cache.playlist("r", run_dir)
    assert first is not None
    for _ in range(3):
        cache.derived("r", first, "delta", make)
    assert len(made) == 1
    _playlist(run_dir, [_segment(run_dir, 0), _segment(run_dir, 1)])
    await asyncio.sleep(0.1)
    second = await cache.playlist("r", run_dir)
    assert second is not None and second is not first
    cache.derived("r", second, "delta", make)
    cache.derived("r", first, "delta", make)  # an old version is not kept
    assert len(made) == 3


async def test_wait_playlist_sees_a_change_and_gives_up_in_time(run_dir: Path) -> None:
    cache = LiveHlsFiles()
    _playlist(run_dir, [_segment(run_dir, 0)])
    timer = threading.Timer(0.2, _playlist, (run_dir, [_segment(run_dir, 0), _segment(run_dir, 1)]))
    timer.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    file, ready = await cache.wait_playlist(
        "r", run_dir, lambda f: (f.body or b"").count(b"#EXTINF") == 2, 5.0
    )
    assert ready and file is not None and 0.15 < loop.time() - started < 0.5
    started = loop.time()
    file, ready = await cache.wait_playlist("r", run_dir, lambda f: False, 0.3)
    assert not ready and file is not None and 0.25 < loop.time() - started < 0.6
    file, ready = await cache.wait_playlist("gone", run_dir / "nothing", lambda f: True, 1.0)
    assert (file, ready) == (None, False)
