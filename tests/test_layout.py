"""The test tree's own rules, checked so that a collision fails loudly and early."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).parent


def test_test_module_basenames_are_unique() -> None:
    # tests/ dirs are not packages, so pytest imports test modules by basename:
    # two files with one name make the second fail to collect.
    seen: dict[str, list[Path]] = defaultdict(list)
    for path in TESTS.rglob("*.py"):
        if path.name != "conftest.py" and "__pycache__" not in path.parts:
            seen[path.name].append(path.relative_to(TESTS))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"test module names must be unique across tests/: {clashes}"


def test_no_test_module_imports_from_conftest() -> None:
    # with several folders collected at once, ``conftest`` is whichever folder's
    # conftest pytest imported last: shared helpers live in named modules
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if "__pycache__" not in path.parts
        and any(
            line.startswith(("from conftest import", "import conftest"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert not offenders, f"import helpers from a named module, not conftest: {offenders}"
