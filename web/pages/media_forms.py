"""The media forms: upload (the no-JavaScript way; scripts post to ``/cache/upload``),
delete and publish to L2.

The upload is streamed into the cache with the server's size limit and only
video, audio and images are kept; the answer is ``303`` to the media page, or
the media page with the problem inline (413 too large, 422 unsupported type).
Delete and publish are asked first (an htmx dialog, else a confirmation page)
and answer ``303`` to ``next``, or the confirmation page with the problem inline
(publish: 409 when ``L2_SERVER`` is not set, 422 for what is not media).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from cache.errors import StorageError
from streamer.content import ingest, items
from streamer.errors import DomainError
from streamer.federation import publish
from streamer.present.deps import Res
from streamer.present.problems import problem_of
from streamer.present.session import current_user
from streamer.present.uploads import incoming_upload
from web.forms import ConfirmForm
from web.pages.common import confirm_page, form_page, problem_text, safe_next, see_other
from web.pages.lists import media_context

__all__ = ["MEDIA_FORM_HANDLERS", "delete_media_form", "publish_media_form", "upload_media_form"]


@post(
    "/web/media/upload",
    include_in_schema=False,
    name="web:media-upload",
    request_max_body_size=None,  # the limit is enforced while streaming
)
async def upload_media_form(res: Res, request: Request[Any, Any, Any]) -> Template | Redirect:
    """A multipart file from the media page's form, streamed into the cache."""
    limit = int(res.settings.storage.upload_max_bytes)
    try:
        incoming = incoming_upload(request, limit)
        stored = await ingest.store_upload(res, incoming, media_only=True)
    except (DomainError, StorageError) as exc:
        found = problem_of(exc)
        assert found is not None
        context = await media_context(res, request, upload_error=problem_text(found))
        return form_page("media.html", context, found.status)
    return see_other(f"/media?uploaded={quote(stored.entry.cid)}")


@post("/web/media/{cid:str}/delete", include_in_schema=False, name="web:media-delete")
async def delete_media_form(
    res: Res,
    cid: FromPath[str],
    data: Annotated[ConfirmForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    """Delete a cached item once confirmed (409 inline while a run, recipe or pin uses it)."""

    def ask(exc: Exception | None = None) -> Template:
        return confirm_page(
            title="Delete media",
            question=f"Delete {cid[:16]}… from the cache? Its file and previews are removed.",
            action=f"/web/media/{cid}/delete",
            button="Delete",
            back=("/media", "Keep it"),
            next_path=data.next,
            problem=problem_of(exc) if exc else None,
            nav="media",
        )

    if not data.is_confirmed:
        return ask()
    try:
        await items.remove(res, cid)
    except (DomainError, StorageError) as exc:
        return ask(exc)
    return see_other(safe_next(data.next, "/media"))


@post("/web/media/{cid:str}/publish", include_in_schema=False, name="web:media-publish")
async def publish_media_form(
    res: Res,
    request: Request[Any, Any, Any],
    cid: FromPath[str],
    data: Annotated[ConfirmForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    """Queue the item's publication to L2 once confirmed (its state shows where it stands)."""
    l2 = res.settings.federation.l2_server or "L2 (L2_SERVER is not set)"

    def ask(exc: Exception | None = None) -> Template:
        return confirm_page(
            title="Publish to L2",
            question=f"Publish {cid[:16]}… to {l2}? Your followers there receive it.",
            action=f"/web/media/{cid}/publish",
            button="Publish",
            back=(safe_next(data.next, "/media"), "Not now"),
            next_path=data.next,
            problem=problem_of(exc) if exc else None,
            nav="media",
        )

    if not data.is_confirmed:
        return ask()
    try:
        await publish.publish(res, cid, user=current_user(request))
    except DomainError as exc:
        return ask(exc)
    return see_other(safe_next(data.next, "/media"))


MEDIA_FORM_HANDLERS = [upload_media_form, delete_media_form, publish_media_form]
