"""streamer.content.primary / shared_hls units: bounded retries, the mode off, per-run throttle."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cache.errors import StorageError, StorageUnavailableError
from cache.local import LocalStore
from streamer.content.primary import SharedDocs, with_retries
from streamer.content.read_through import ContentUnavailableError, RetryPolicy
from streamer.content.shared_hls import PlaylistChecks
from streamer.content.stores import Stores

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(30)]

FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


async def test_with_retries_returns_once_the_node_answers() -> None:
    calls: list[int] = []

    async def add() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StorageUnavailableError("IPFS node unreachable (add)")
        return "Qm..."

    assert await with_retries(add, "segment x.ts", FAST) == "Qm..."
    assert len(calls) == 3


async def test_with_retries_gives_up_with_a_clear_error_after_bounded_tries() -> None:
    calls: list[int] = []

    async def add() -> str:
        calls.append(1)
        raise StorageUnavailableError("IPFS node unreachable (add)")

    t0 = time.monotonic()
    with pytest.raises(
        ContentUnavailableError, match=r"segment x.ts: .*did not answer \(3 tries\)"
    ):
        await with_retries(add, "segment x.ts", FAST)
    assert len(calls) == 3 and time.monotonic() - t0 < 2


async def test_with_retries_does_not_retry_a_refusal() -> None:
    calls: list[int] = []

    async def add() -> str:
        calls.append(1)
        raise StorageError("IPFS add: invalid request")

    with pytest.raises(StorageError, match="invalid request"):
        await with_retries(add, "doc", FAST)
    assert len(calls) == 1


async def test_shared_docs_do_nothing_with_the_mode_off(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "cache")
    docs = SharedDocs(Stores(local=local), db=None, primary=False)
    assert await docs.publish(b"{}", key="plan", kind="plan", record="PLAN") is None
    assert await docs.add(b"#EXTM3U\n", "playlist") is None
    assert await docs.publish_files([tmp_path / "missing.ts"], "chunk") == []
    assert await docs.fetch("plan", "plan") is None
    assert list(local) == []  # nothing kept either


async def test_shared_docs_in_the_mode_without_a_node_fail_clearly(tmp_path: Path) -> None:
    docs = SharedDocs(Stores(local=LocalStore(tmp_path / "cache")), db=None, primary=True)
    with pytest.raises(ContentUnavailableError, match="no IPFS node"):
        await docs.add(b"#EXTM3U\n", "run r playlist")


async def test_playlist_checks_ask_a_run_at_most_once_per_period() -> None:
    checks = PlaylistChecks(max_runs=2)
    assert checks.due("r1", 60) and not checks.due("r1", 60)
    assert checks.due("r2", 60) and checks.due("r3", 60)  # r1 evicted: bounded
    assert checks.due("r1", 60)
    assert checks.due("r3", 0)  # a zero period: always due
