"""Limits and checks the API endpoints share: paging, CIDs, timestamps.

The request and response models themselves live in :mod:`api.schemas`, one
module per router; this module holds what several routers (runs, recipes,
cache, storage, IPFS) use: the limits, the paging query parameters with their
documented bounds, the CID check and its documented pattern.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar.params import QueryParameter

from api.errors import BadRequest
from cache.cid import cid_to_bytes
from cache.errors import InvalidCIDError
from streamer.runs.service import MAX_DURATION, MAX_PACE

__all__ = [
    "CID_PATTERN",
    "MAX_DURATION",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_PACE",
    "Limit",
    "Offset",
    "check_cid",
    "check_paging",
    "iso",
]

MAX_LIMIT = 200
#: Beyond any real table; keeps OFFSET inside PostgreSQL's bigint (a larger one was a 500).
MAX_OFFSET = 10**9

#: The CID texts :func:`check_cid` can accept (CIDv0 ``Qm…``, CIDv1 base32 ``b…`` or
#: base58btc ``z…``); it also decodes them, so the pattern documents, the check decides.
CID_PATTERN = r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|[bB][A-Za-z2-7]+=*|z[1-9A-HJ-NP-Za-km-z]+)$"

#: ``limit`` query parameter of the list endpoints (Litestar answers 400 outside the range).
Limit = Annotated[int, QueryParameter(description="Items per page.", ge=1, le=MAX_LIMIT)]
#: ``offset`` query parameter; Litestar drops a zero bound from the schema, hence ``minimum``.
Offset = Annotated[
    int,
    QueryParameter(
        description="Items to skip (newest first).",
        ge=0,
        le=MAX_OFFSET,
        schema_extra={"minimum": 0},
    ),
]


def check_paging(limit: int, offset: int) -> None:
    """Check a list endpoint's ``limit`` (1..MAX_LIMIT) and ``offset`` (0..MAX_OFFSET).

    For handlers that take plain ``int`` parameters; :data:`Limit` and
    :data:`Offset` make Litestar check the same ranges.

    Raises:
        BadRequest: either is out of range (``field`` names it).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: {limit} is outside 1..{MAX_LIMIT}", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset: {offset} is outside 0..{MAX_OFFSET}", field="offset")


def check_cid(cid: str, field_name: str = "cid") -> str:
    """Return ``cid`` if it parses as a CID, else raise a 400 naming ``field_name``."""
    try:
        cid_to_bytes(cid)
    except (InvalidCIDError, ValueError) as exc:
        raise BadRequest(
            f"{field_name}: {cid!r} is not a valid CID ({exc})", field=field_name
        ) from None
    return cid


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 text; anything else unchanged (JSON bodies of rows)."""
    return value.isoformat() if isinstance(value, dt.datetime) else value
