"""What the CLI imports: each command pays only for what it runs.

The timings are measured by bench/cli.py; these tests hold the structure that
makes them possible, in a fresh interpreter each: building the parser (every
``--help``) imports no third-party package of weight, checking a recipe
imports no kernel, PyAV or librosa, and building an effect imports the kernel
module of that effect only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamer.entry.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "aiobotocore",
    "aiohttp",
    "aioipfs",
    "arq",
    "asyncpg",
    "av",
    "librosa",
    "litestar",
    "numba",
    "numpy",
    "redis",
    "uvicorn",
    "yaml",
)


def _loaded_after(code: str) -> set[str]:
    """Top-level packages and ``effects.kernels.*`` modules imported by ``code``."""
    probe = (
        f"{code}\nimport sys, json\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
        " | {m for m in sys.modules if m.startswith('effects.kernels.')})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _kernels(loaded: set[str]) -> set[str]:
    """The kernel modules among ``loaded`` (``_base``, plain Python helpers, aside)."""
    return {
        m.removeprefix("effects.kernels.") for m in loaded if m.startswith("effects.kernels.")
    } - {"_base"}


def _commands() -> list[str]:
    for action in build_parser()._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            return sorted(action.choices)
    raise AssertionError("no subcommands")


def test_help_imports_nothing_heavy() -> None:
    argvs = [["--help"], *([c, "--help"] for c in _commands())]
    code = (
        "import contextlib, io\n"
        "from streamer.entry.cli import main\n"
        f"for argv in {argvs!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
    )
    assert _loaded_after(code) & set(HEAVY) == set()


def test_recipe_check_imports_no_kernel_or_decoder() -> None:
    recipe = ROOT / "recipes" / "effects-chain.yaml"
    loaded = _loaded_after(
        f"from streamer.entry.cli import main\nassert main(['recipe', 'check', {str(recipe)!r}]) == 0"
    )
    assert loaded & {"numba", "av", "librosa", "litestar", "redis"} == set()
    assert _kernels(loaded) == set()


def test_effects_list_imports_no_kernel() -> None:
    loaded = _loaded_after(
        "import contextlib, io\nfrom streamer.entry.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['effects', 'list'])"
    )
    assert "numba" not in loaded
    assert _kernels(loaded) == set()


@pytest.mark.parametrize(
    ("effect", "kernels"),
    [
        ("blur", {"spatial"}),
        ("noise", {"glitch"}),
        # echo reuses the affine warp (and its edge sampling), not the geometric effects
        ("echo", {"temporal", "affine", "sampling", "_unaligned"}),
    ],
)
def test_building_an_effect_imports_its_kernel_module_only(effect: str, kernels: set[str]) -> None:
    loaded = _loaded_after(
        "from effects.catalog import default_registry\n"
        f"default_registry().get({effect!r}).factory(32, 16)"
    )
    imported = {
        m.removeprefix("effects.kernels.") for m in loaded if m.startswith("effects.kernels.")
    }
    assert imported - {"_base"} == kernels
