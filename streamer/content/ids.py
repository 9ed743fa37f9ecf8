"""Content identifiers at the application's boundary: the CID check and its pattern.

:data:`CID_PATTERN` is what the OpenAPI document shows for CID fields; it is
the shape :func:`cache.cid.cid_to_bytes` accepts (CIDv0 ``Qm...``, CIDv1 in
base32 ``b...`` or base58btc ``z...``). :func:`check_cid` also decodes the
digest, so a CID matching the pattern can still be refused.
"""

from __future__ import annotations

from cache.cid import cid_to_bytes
from cache.errors import InvalidCIDError
from streamer.errors import InvalidValue

__all__ = ["CID_PATTERN", "check_cid"]

_B58 = "1-9A-HJ-NP-Za-km-z"
#: A CID as text: CIDv0 (base58btc, 46 characters) or CIDv1 (base32 or base58btc).
CID_PATTERN = rf"^(Qm[{_B58}]{{44}}|[bB][A-Za-z2-7]+|z[{_B58}]+)$"


def check_cid(cid: str, field: str = "cid") -> str:
    """Return ``cid`` when it decodes as a CID.

    Raises:
        InvalidValue: it does not (``field`` names the request field).
    """
    try:
        cid_to_bytes(cid)
    except (InvalidCIDError, ValueError) as exc:
        raise InvalidValue(f"{field}: {cid!r} is not a valid CID ({exc})", field=field) from None
    return cid
