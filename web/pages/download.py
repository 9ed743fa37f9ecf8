"""The CLI client: how to use it and the download of its zipapp."""

from __future__ import annotations

import asyncio

from litestar import get
from litestar.response import File, Template

from streamer.present.deps import Res
from web.client import build_client
from web.templating import WEB_DIR, page

__all__ = ["DOWNLOAD_HANDLERS", "client_file", "client_page"]


@get("/download/client", include_in_schema=False, name="web:client")
async def client_page(res: Res) -> Template:
    """Usage of the CLI client and its download link."""
    return page("client.html", {"nav": "client", "public_url": res.settings.server.public_url})


@get("/download/client/artdag-client.pyz", include_in_schema=False, name="web:client-file")
async def client_file(res: Res) -> File:
    """The CLI client zipapp, built on first request (and when the sources change)."""
    out_dir = res.settings.storage.cache_dir / "client"
    path = await asyncio.to_thread(build_client, WEB_DIR.parent, out_dir)
    return File(
        path,
        filename="artdag-client.pyz",
        media_type="application/zip",
        headers={"Cache-Control": "no-cache"},
    )


DOWNLOAD_HANDLERS = [client_page, client_file]
