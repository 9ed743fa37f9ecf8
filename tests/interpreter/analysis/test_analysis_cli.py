"""``artdag analyze`` (streamer/commands/analyze.py) end to end on generated media."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpreter.analysis import AnalysisResult
from streamer.entry.commands import analyze as cmd
from tests.interpreter.analysis.analysis_media import click_track, write_audio


def _main(argv: list[str]) -> int:
    from streamer.entry.cli import main

    return main(argv)


@pytest.fixture
def track(tmp_path: Path) -> Path:
    y, _ = click_track(128, 6.0)
    return write_audio(tmp_path / "t.flac", y)


def test_json_output_and_cache_hit(
    tmp_path: Path, track: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "out" / "a.json"
    argv = [
        "analyze",
        str(track),
        "--features",
        "beats,tempo,energy",
        "--json",
        "--cache-dir",
        str(cache),
        "-o",
        str(out),
    ]
    assert _main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["audio"]["tempo"] == pytest.approx(128, rel=0.01)
    assert doc["features"] == ["beats", "energy", "tempo"]
    assert json.loads(out.read_text()) == doc
    assert (cache / "analysis" / f"{doc['analysis_id']}.json").is_file()
    assert doc["input_cid"].startswith("Qm")  # cache.cid: the IPFS CID of the file
    # second run: summary mode, served from the cache
    assert _main([*argv[:-5], "--cache-dir", str(cache)]) == 0
    text = capsys.readouterr().out
    assert "tempo     128.0" in text and "(cache hit)" in text


def test_by_cid_from_the_local_cache(
    tmp_path: Path, track: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cache.local import LocalStore

    store = LocalStore(tmp_path)
    cid = store.put_file(track).cid
    assert (
        _main(["analyze", cid, "--features", "energy", "--cache-dir", str(tmp_path), "--json"]) == 0
    )
    result = AnalysisResult.from_json(capsys.readouterr().out)
    assert result.input_cid == cid and result.audio is not None and len(result.audio.energy)


def test_bad_feature_and_missing_input(
    tmp_path: Path, track: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _main(["analyze", str(track), "--features", "beats,tempi", "--cache-dir", str(tmp_path)])
        == 2
    )
    err = capsys.readouterr().err
    assert "--features" in err and "unknown analysis feature 'tempi'" in err
    assert _main(["analyze", "QmNotThere", "--cache-dir", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err


def test_summary_mentions_every_section(track: Path) -> None:
    from interpreter.analysis import analyze_file

    text = cmd.summary(analyze_file(track, "audio"), str(track))
    for key in ("tempo", "beats", "downbeats", "energy", "bass", "mid", "high"):
        assert key in text
