"""Content ids: canonical JSON and SHA3-256 hashes used by plans and caches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["analysis_id", "canonical_json", "sha3_hex"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, and floats that are whole written as ints.

    Two configs that mean the same thing (key order, ``1`` vs ``1.0``)
    serialise to the same text, so their hashes agree.
    """
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    raise TypeError(f"not JSON-serialisable in a canonical form: {type(value).__name__}")


def sha3_hex(*parts: str | bytes) -> str:
    """SHA3-256 hex digest of the parts joined by ``|``."""
    h = hashlib.sha3_256()
    for i, p in enumerate(parts):
        if i:
            h.update(b"|")
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()


def analysis_id(input_cid: str, features: Iterable[str]) -> str:
    """SHA3-256(input CID + sorted feature names), as the specification defines."""
    return sha3_hex(input_cid + ",".join(sorted(set(features))))
