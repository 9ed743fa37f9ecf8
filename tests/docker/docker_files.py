"""Where the Docker build files are, and the Dockerfile read stage by stage.

Instructions are read one logical line at a time (continuations joined,
comments dropped), so checks see what ``docker build`` sees without Docker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "COMPOSE",
    "DOCKER",
    "DOCKERFILE",
    "ROOT",
    "Stage",
    "dockerfile_instructions",
    "global_args",
    "instructions_of",
    "last_stage",
    "stages",
]

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"


@dataclass
class Stage:
    """One ``FROM base AS name`` stage and its instructions in order."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_instructions() -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined; comments dropped."""
    logical = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.partition(" ")
        yield keyword.upper(), rest.strip()
        logical = ""
    assert not logical, "Dockerfile ends inside a continuation"


def stages() -> list[Stage]:
    """Every stage in order; each must be named."""
    out: list[Stage] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, re.IGNORECASE)
            assert m, f"unnamed stage: FROM {rest}"
            out.append(Stage(m.group(1), m.group(2)))
        elif out:
            out[-1].instructions.append((keyword, rest))
    return out


def last_stage() -> Stage:
    """The stage the image is built from."""
    return stages()[-1]


def instructions_of(stage: Stage) -> dict[str, list[str]]:
    """A stage's arguments grouped by instruction, in order."""
    found: dict[str, list[str]] = {}
    for keyword, rest in stage.instructions:
        found.setdefault(keyword, []).append(rest)
    return found


def global_args() -> dict[str, str]:
    """``ARG NAME=value`` lines before the first ``FROM``."""
    args = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args[name] = value
    return args
