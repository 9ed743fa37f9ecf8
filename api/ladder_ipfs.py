"""Live IPFS viewing of an ABR ladder run: a multivariant playlist of per-rung redirects.

A multivariant playlist added to IPFS lists each rung's media playlist by the CID
it had at that moment, and IPFS content never changes: a live player following
it would stop there. While a ladder run is live, ``GET /runs/{id}/ipfs`` answers
instead the local ``master.m3u8`` (same attributes) with each variant URI
rewritten to ``ipfs/<playlist name>``, i.e. ``/runs/{id}/ipfs/playlist_480p.m3u8``;
that URL 302-redirects to the rung's newest IPFS media playlist on the gateway
(``runs.playlist_cid`` for the top rung, ``runs.variant_cids`` for the lower
ones). Players reload each variant URL, so they follow every rung as it grows.
A node without the run's local files (another node rendered it) rewrites the
newest IPFS multivariant playlist (``runs.master_cid``) the same way. Once the run
has ended, ``/runs/{id}/ipfs`` redirects to the final (self-contained) multivariant
playlist's CID.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from api.errors import NotFound

__all__ = ["RUNG_PLAYLIST", "TOP_PLAYLIST", "live_master_text", "rung_cid"]

#: The top rung's media playlist name (its CID: ``runs.playlist_cid``).
TOP_PLAYLIST = "playlist.m3u8"
#: A rung's media playlist name: the top's or a lower rung's (``playlist_480p.m3u8``).
RUNG_PLAYLIST = re.compile(r"^playlist(_[0-9]{2,4}p)?\.m3u8$")


def _rung_name(uri: str) -> str | None:
    """The rung a variant URI names: ``playlist_480p.m3u8`` (local master) or
    ``/ipfs/<cid>?filename=playlist_480p.m3u8`` (the master added to IPFS)."""
    if RUNG_PLAYLIST.match(uri):
        return uri
    if uri.startswith("/ipfs/"):
        names = parse_qs(urlsplit(uri).query).get("filename", [])
        if len(names) == 1 and RUNG_PLAYLIST.match(names[0]):
            return names[0]
    return None


def live_master_text(master: str) -> str:
    """A multivariant playlist with each variant URI made the rung's redirect.

    Tags (and so every attribute) are kept as they are; a URI line naming a rung
    (the local master's ``playlist_480p.m3u8`` or the IPFS master's
    ``/ipfs/<cid>?filename=...``) becomes ``ipfs/<name>``, relative to ``/runs/{id}/ipfs``.
    """
    lines = []
    for line in master.splitlines():
        uri = line.strip()
        if uri and not uri.startswith("#") and (name := _rung_name(uri)) is not None:
            line = f"ipfs/{name}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def rung_cid(run: dict[str, Any], name: str) -> str:
    """The CID of rung ``name``'s newest media playlist on IPFS.

    Raises:
        NotFound: ``name`` is no rung of the run, or it has no IPFS playlist yet.
    """
    run_id = run["id"]
    variants: dict[str, str] = run.get("variant_cids") or {}
    if not RUNG_PLAYLIST.match(name) or (name != TOP_PLAYLIST and name not in variants):
        rungs = ", ".join([TOP_PLAYLIST, *sorted(variants)])
        raise NotFound(
            f"{name!r} is not a rendition of run {run_id!r} (its renditions: {rungs})",
            field="rung",
        )
    cid = run.get("playlist_cid") if name == TOP_PLAYLIST else variants[name]
    if not cid:
        raise NotFound(
            f"rendition {name!r} of run {run_id!r} has no IPFS playlist yet "
            f"(status {run['status']})",
            field="rung",
        )
    return str(cid)
