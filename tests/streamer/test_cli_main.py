"""The artdag CLI: discovery, exit codes, configuration errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from streamer.entry.cli import build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_discovers_command_modules() -> None:
    names = _subcommands(build_parser())
    assert {"serve", "services", "worker"} <= names
    assert "_common" not in names


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_serve_parses_its_flags() -> None:
    args = build_parser().parse_args(
        ["serve", "--host", "127.0.0.1", "--port", "9000", "--no-worker", "--demo"]
    )
    assert (args.host, args.port, args.no_worker, args.demo) == ("127.0.0.1", 9000, True, True)
    assert build_parser().parse_args(["serve", "--no-demo"]).demo is False
    assert callable(args.func)


def test_worker_parses_its_flags() -> None:
    args = build_parser().parse_args(["worker", "--queue", "q", "--concurrency", "3", "--burst"])
    assert (args.action, args.queue, args.concurrency, args.burst) == ("run", "q", 3, True)
    assert build_parser().parse_args(["worker", "status"]).action == "status"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "--concurrency", "0"])


def test_settings_error_exits_2_with_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "abc")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "configuration error: PORT='abc': expected an integer 1-65535" in err


def test_worker_status_without_services_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ARTDAG_DATA_DIR", str(tmp_path))
    assert main(["worker", "status"]) == 1
    err = capsys.readouterr().err
    assert "no embedded stack is running" in err
    assert "artdag services up" in err


def test_services_status_of_an_empty_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services", "status", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "postgres" in out and "stopped" in out


def test_worker_status_reports_queue(
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    # status reads Redis only; the database URL just has to be set
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    code = main(["worker", "status", "--queue", f"{redis_prefix}empty"])
    out = capsys.readouterr().out
    assert code == 1  # no worker on that queue
    assert f"queue {redis_prefix}empty: 0 queued" in out
    assert "workers: none reporting" in out
