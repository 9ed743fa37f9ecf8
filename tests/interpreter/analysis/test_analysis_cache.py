"""AnalysisCache: a repeated request is a cache hit that decodes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from interpreter.analysis import AnalysisCache, AnalysisResult, analyze_file
from interpreter.analysis import analyze as analyze_mod
from interpreter.analysis import decode as decode_mod
from interpreter.ids import analysis_id
from tests.interpreter.analysis.analysis_media import click_track, write_audio


@pytest.fixture
def track(tmp_path: Path) -> Path:
    y, _ = click_track(120, 5.0)
    return write_audio(tmp_path / "t.wav", y)


@pytest.fixture
def decode_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = decode_mod.decode_audio  # the function analyze_mod calls, patched below

    def counting(path: Path, rate: int = 22050) -> np.ndarray:
        calls.append(1)
        return real(path, rate)

    monkeypatch.setattr(analyze_mod, "decode_audio", counting)
    return calls


async def test_second_request_decodes_nothing(
    tmp_path: Path, track: Path, decode_counter: list[int]
) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    first = await cache.get_or_compute("QmTrack", track, "beats,energy")
    assert decode_counter == [1] and cache.computed == 1 and cache.hits == 0
    stored = tmp_path / "cache" / "analysis" / f"{analysis_id('QmTrack', ['beats', 'energy'])}.json"
    assert stored.is_file()
    assert AnalysisResult.from_json(stored.read_text()).analysis_id == first.analysis_id
    # a fresh instance (another worker) on the same dir, features in another order
    again = AnalysisCache(tmp_path / "cache")
    second = await again.get_or_compute("QmTrack", track, ["energy", "beats"])
    assert decode_counter == [1] and again.computed == 0 and again.hits == 1
    assert np.allclose(second.beat_times, first.beat_times, atol=1e-5)
    # other features = another id = computed
    await again.get_or_compute("QmTrack", track, "tempo")
    assert decode_counter == [1, 1] and again.computed == 1


async def test_concurrent_requests_compute_once(
    tmp_path: Path, track: Path, decode_counter: list[int]
) -> None:
    published: list[bytes] = []

    async def publish(data: bytes) -> str:
        published.append(data)
        return "QmPublished"

    cache = AnalysisCache(tmp_path, publish=publish)
    results = await asyncio.gather(*(cache.get_or_compute("QmT", track, "beats") for _ in range(3)))
    assert decode_counter == [1] and cache.computed == 1 and cache.hits == 2
    assert len({r.analysis_id for r in results}) == 1
    assert len(published) == 1
    assert AnalysisResult.from_json(published[0]).analysis_id == results[0].analysis_id
    assert cache.published_cid(results[0].analysis_id) == "QmPublished"


def test_analyze_file_ids_and_fallback_cid(track: Path) -> None:
    r = analyze_file(track, "energy")
    assert r.input_cid.startswith("sha256:")
    assert r.analysis_id == analysis_id(r.input_cid, ["energy"])
    assert r.audio is not None and len(r.audio.beats) == 0 and len(r.audio.energy) == 500


def test_not_media_and_tiny_audio(tmp_path: Path) -> None:
    from interpreter.analysis import AnalysisError

    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AnalysisError, match="cannot open media") as info:
        analyze_file(junk, "energy")
    assert info.value.file == str(junk)
    with pytest.raises(AnalysisError, match="not found"):
        analyze_file(tmp_path / "missing.wav", "energy")
    tiny = write_audio(tmp_path / "tiny.wav", np.full(300, 0.1, np.float32))
    r = analyze_file(tiny, "beats,tempo,energy,bands,onsets,downbeats")
    assert r.audio is not None and r.tempo is None and len(r.beat_times) == 0
    assert len(r.audio.energy) == 2  # ceil(300 / 22050 * 100)


async def test_older_schema_version_is_computed_again(
    tmp_path: Path, track: Path, decode_counter: list[int]
) -> None:
    cache = AnalysisCache(tmp_path / "cache")
    first = await cache.get_or_compute("QmTrack", track, "tempo")
    assert first.tempo_confidence is not None
    stored = cache.path_for(first.analysis_id)
    doc = json.loads(stored.read_text())
    doc["version"] = 1
    del doc["audio"]["tempo_confidence"], doc["audio"]["tempo_alternatives"]
    stored.write_text(json.dumps(doc))
    again = await cache.get_or_compute("QmTrack", track, "tempo")
    assert decode_counter == [1, 1] and cache.computed == 2 and cache.hits == 0
    assert again.tempo_confidence is not None and json.loads(stored.read_text())["version"] == 2
