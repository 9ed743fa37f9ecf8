"""The wheel holds what the installed server reads at run time.

The wheel is built (no install) from a copy of the git-tracked sources, so
neither the working tree's ``build/`` and ``*.egg-info`` leftovers nor
``web/node_modules`` can decide its contents. The front-end build outputs are
gitignored, so the copy gets stand-ins for them (and a decoy from the npm
toolchain that must stay out).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from web.templating import BUILD_DIR, STATIC_DIR, TEMPLATE_DIR, VENDOR_FILES, WEB_DIR

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "cache", "effects", "hls", "interpreter", "streamer", "web")
# gitignored outputs of `npm ci` / `npm run build:css` that the server serves
BUILT_ASSETS = (BUILD_DIR / "app.css", *VENDOR_FILES.values())
ENTRY_POINTS = "<entry_points.txt>"
DECOY = "web/node_modules/tailwindcss/lib/cli.js"


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the sources")
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict[str, bytes], set[str]]:
    """(tracked files, {name: bytes} of the wheel's data files, names in the wheel)."""
    tracked = _tracked_files()
    src = tmp_path_factory.mktemp("src")
    for name in tracked:
        if name.startswith("tests/"):
            continue
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    for asset in BUILT_ASSETS:
        rel = asset.relative_to(ROOT)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(f"/* stand-in for {rel} */\n")
    (src / DECOY).parent.mkdir(parents=True, exist_ok=True)
    (src / DECOY).write_text("// npm toolchain, not a runtime file\n")

    out = tmp_path_factory.mktemp("wheel")
    # the venv's setuptools, no build isolation: no network, about a second
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_wheel(sys.argv[1]))",
            str(out),
        ],
        cwd=src,
        capture_output=True,
        check=True,
        timeout=80,
    )
    (whl,) = out.glob("artdag_l1-*.whl")
    with zipfile.ZipFile(whl) as zf:
        names = set(zf.namelist())
        data = {n: zf.read(n) for n in names if not n.endswith(".py") and ".dist-info/" not in n}
        (entry,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        data[ENTRY_POINTS] = zf.read(entry)
    return tracked, data, names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_wheel_holds_every_tracked_module(
    wheel: tuple[list[str], dict[str, bytes], set[str]],
) -> None:
    tracked, _, names = wheel
    modules = [n for n in tracked if n.endswith(".py") and n.split("/", 1)[0] in PACKAGES]
    assert len(modules) > 50
    missing = [n for n in modules if n not in names]
    assert not missing, f"modules missing from the wheel: {missing}"
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/"))]


def test_wheel_holds_templates_static_and_migrations(
    wheel: tuple[list[str], dict[str, bytes], set[str]],
) -> None:
    tracked, data, _ = wheel
    prefixes = (_rel(TEMPLATE_DIR) + "/", _rel(STATIC_DIR) + "/", "streamer/db/migrations/")
    runtime = [n for n in tracked if n.startswith(prefixes) and not n.endswith(".py")]
    assert any(n.endswith(".sql") for n in runtime)
    assert any(n.endswith("base.html") for n in runtime)
    assert any(n.startswith(_rel(TEMPLATE_DIR) + "/partials/") for n in runtime)
    missing = [n for n in runtime if n not in data]
    assert not missing, f"runtime data missing from the wheel: {missing}"
    for name in runtime:
        assert data[name] == (ROOT / name).read_bytes(), name


def test_wheel_holds_built_assets_but_not_the_npm_toolchain(
    wheel: tuple[list[str], dict[str, bytes], set[str]],
) -> None:
    _, data, names = wheel
    for asset in BUILT_ASSETS:
        rel = _rel(asset)
        assert data.get(rel, b"").startswith(b"/* stand-in"), f"{rel} not in the wheel"
    assert DECOY not in names
    node_files = {n for n in names if "/node_modules/" in n}
    assert node_files == {_rel(p) for p in VENDOR_FILES.values()}
    # nothing from the source-only front-end set-up
    assert not {f"{_rel(WEB_DIR)}/{n}" for n in ("package.json", "tailwind.config.js")} & names


def test_wheel_declares_the_cli(wheel: tuple[list[str], dict[str, bytes], set[str]]) -> None:
    _, data, names = wheel
    console = data[ENTRY_POINTS].decode()
    assert "[console_scripts]" in console
    assert "artdag = streamer.entry.cli:main" in console
    # the target and the auto-discovered subcommands ship with it
    assert {"streamer/entry/cli.py", "streamer/entry/commands/__init__.py"} <= names
    assert {
        f"streamer/entry/commands/{n}.py" for n in ("recipe", "effects", "serve", "worker")
    } <= names
