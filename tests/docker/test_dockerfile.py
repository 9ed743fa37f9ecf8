"""docker/Dockerfile, read instruction by instruction and checked stage by stage.

Also .dockerignore (the build context keeps what the build needs) and the
runtime stage's numba warm-up step, run as the build runs it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker.docker_files import (
    DOCKER,
    ROOT,
    global_args,
    instructions_of,
    last_stage,
    stages,
)


def test_dockerfile_stages() -> None:
    names = [s.name for s in stages()]
    assert names == ["web", "builder", "runtime"]
    args = global_args()
    base = {s.name: re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], s.base) for s in stages()}
    assert base["web"].startswith("node:")
    assert base["builder"].startswith("python:3.11")
    assert base["runtime"].startswith("python:3.11") and "slim" in base["runtime"]


def test_web_stage_builds_the_assets() -> None:
    web = instructions_of(stages()[0])
    runs = " ".join(web["RUN"])
    assert "npm ci" in runs and "npm run build:css" in runs
    scripts = json.loads((ROOT / "web/package.json").read_text())["scripts"]
    assert "build/app.css" in scripts["build:css"]
    copies = instructions_of(last_stage())["COPY"]
    for asset in ("web/build", "hls.js/dist", "htmx.org/dist"):
        assert any(c.startswith("--from=web ") and asset in c for c in copies), asset


def test_builder_installs_the_pinned_set() -> None:
    builder = instructions_of(stages()[1])
    assert any("constraints.txt" in c for c in builder["COPY"])
    runs = " ".join(builder["RUN"])
    assert "-c constraints.txt" in runs and "pip install --no-deps -e /app" in runs
    for path in ("constraints.txt", "pyproject.toml", "web/package.json", "web/package-lock.json"):
        assert (ROOT / path).is_file(), path


def test_runtime_is_non_root_warm_and_has_no_ffmpeg_package() -> None:
    runtime = last_stage()
    seq = runtime.instructions
    users = [rest for kw, rest in seq if kw == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    user = users[-1]
    runs = " ".join(rest for kw, rest in seq if kw == "RUN")
    assert re.search(rf"useradd [^&]*--gid {user}\b[^&]* {user}(\s|$)", runs), runs
    assert "apt-get" not in runs and "ffmpeg" not in runs  # PyAV bundles FFmpeg
    env = " ".join(rest for kw, rest in seq if kw == "ENV")
    cache = re.search(r"NUMBA_CACHE_DIR=(\S+)", env)
    assert cache, "NUMBA_CACHE_DIR not set in the runtime stage"
    cache_dir = cache.group(1)
    user_at = seq.index(("USER", user))
    warm = [i for i, (kw, rest) in enumerate(seq) if kw == "RUN" and "warm_up()" in rest]
    assert warm and warm[0] > user_at  # compiled by the runtime user...
    owned = [
        rest
        for kw, rest in seq[:user_at]
        if kw == "RUN" and f"-o {user}" in rest and cache_dir in rest
    ]
    assert owned, "the numba cache directory is not created for the runtime user"
    last_copy = max(i for i, (kw, _) in enumerate(seq) if kw == "COPY")
    assert warm[0] > last_copy  # ...after the last change to the sources (mtime in the key)
    assert "from effects.warmup import warm_up" in seq[warm[0]][1]
    from effects.warmup import warm_up

    assert callable(warm_up)


def test_healthcheck_and_entrypoint() -> None:
    runtime = instructions_of(last_stage())
    (check,) = runtime["HEALTHCHECK"]
    assert '"/app/docker/healthcheck.py"' in check and "--interval=" in check
    assert (DOCKER / "healthcheck.py").is_file()
    assert runtime["CMD"] == ['["serve", "--no-worker"]']
    assert runtime["EXPOSE"] == ["8000"]


def test_dockerignore_keeps_what_the_build_needs() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(
            fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns
        )

    for path in (".venv", ".git", "web/node_modules", "tools/ipfs-node/node_modules"):
        assert ignored(path), path
    for path in (
        "pyproject.toml",
        "constraints.txt",
        "web/package.json",
        "web/package-lock.json",
        "web/templates",
        "docker/healthcheck.py",
        "effects/warmup.py",
        "streamer/entry/cli.py",
    ):
        assert not ignored(path), path


# --- the Dockerfile's warm-up step, run as the build runs it ---------------------------


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_warm_up_step_fills_the_numba_cache_dir(tmp_path: Path) -> None:
    """The runtime stage's warm-up RUN line, in a shell, with NUMBA_CACHE_DIR on an
    empty directory: it compiles into that directory, and a second run (a container
    start) loads from it instead of compiling."""
    (line,) = [
        rest for kw, rest in last_stage().instructions if kw == "RUN" and "warm_up()" in rest
    ]
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    def run() -> float:
        result = subprocess.run(
            ["sh", "-c", line], env=env, cwd=ROOT, capture_output=True, text=True, timeout=800
        )
        assert result.returncode == 0, result.stdout + result.stderr
        m = re.search(r"numba warm-up: ([\d.]+) s", result.stdout)
        assert m, result.stdout
        return float(m.group(1))

    cold = run()
    index = list(cache.rglob("*.nbi"))
    objects = list(cache.rglob("*.nbc"))
    assert len(index) >= 10 and len(objects) >= len(index), (index, objects)
    # the image's cache holds the kernels of /app/effects, nothing from elsewhere
    assert all("effects" in p.parent.name or "kernels" in p.parent.name for p in index)
    warm = run()
    assert warm < cold / 2, (cold, warm)
