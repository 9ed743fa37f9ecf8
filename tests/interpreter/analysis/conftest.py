"""Analysis tests: the real ``interpreter`` package first on the path; ``real_music``.

Helpers: ``analysis_media`` (generated media), ``real_music`` (recordings from
Debian packages and the essentia reference).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path, where tests/interpreter is a namespace package
# that can shadow the real ``interpreter``; put the repository root first and
# drop a shadow import (same workaround as tests/interpreter/stream/conftest.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
_ns = sys.modules.get("interpreter")
if _ns is not None and getattr(_ns, "__file__", None) is None:
    for _name in [m for m in sys.modules if m == "interpreter" or m.startswith("interpreter.")]:
        del sys.modules[_name]

from tests.interpreter.analysis.real_music import RealMusic  # noqa: E402


@pytest.fixture(scope="session")
def real_music() -> RealMusic:
    """Real recordings from Debian packages with their reference (see real_music.py)."""
    return RealMusic()
