"""Storage providers API over :mod:`cache.providers` (table ``storage_providers``).

- ``GET /storage``: providers as JSON (browsers get the web page at the same path).
- ``POST /storage``: add from a form (``type``, ``name`` and the type's fields);
  ``POST /storage/add``: add from JSON ``{"type", "name", "config": {...}}``.
- ``GET /storage/{id}``, ``PATCH /storage/{id}`` (``name``, ``config``,
  ``enabled``), ``DELETE /storage/{id}`` (409 while content is pinned there).
- ``POST /storage/{id}/test``: put, read back and delete a probe through the backend.
- ``GET /storage/type/{type}``: the fields a provider of that type takes.

The rules (names, config per type, who may write where) are
:mod:`streamer.content.provider_config`'s; the service is
:mod:`streamer.content.providers`.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, TypeVar

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIHeader, OpenAPIResponse, OpenAPIType, Schema
from litestar.params import Body, JSONBody, Parameter
from litestar.response import Redirect
from msgspec import UnsetType

from api.openapi_errors import error_answers
from api.openapi_media import WEB_PAGE, documented
from api.storage_models import (
    Provider,
    ProviderCreate,
    ProviderDeleted,
    ProviderField,
    ProviderForm,
    ProviderList,
    ProviderPatch,
    ProviderTestResult,
    ProviderTypeInfo,
)
from streamer.content import providers
from streamer.content.provider_config import PROVIDER_KINDS
from streamer.present.deps import Res

__all__ = ["storage_router"]

T = TypeVar("T")


def _given(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value


#: the largest provider id (a PostgreSQL ``serial``): beyond it, 400 naming the id, not an SQL error
MAX_PROVIDER_ID = 2**31 - 1
ProviderId = Annotated[int, Parameter(description="the provider's id", ge=1, le=MAX_PROVIDER_ID)]
#: what adding or changing a provider may be refused with
_CONFIG_ERRORS = error_answers(
    (403, "the endpoint is on a refused (link-local, metadata, private) address"),
    (409, "a provider with this name exists"),
)
_TO_STORAGE = OpenAPIResponse(
    description="to `/storage`, for a plain browser form (Accept: text/html)",
    headers={"Location": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING))},
)


@get(
    "/storage",
    summary="List storage providers",
    operation_class=documented(html=("200", WEB_PAGE)),
)
async def list_providers(res: Res) -> ProviderList:
    """Every provider (secrets shown as ``"***"``) and the types one may add."""
    rows = await providers.list_providers(res)
    return ProviderList(providers=[Provider.of(r) for r in rows], types=list(PROVIDER_KINDS))


@post(
    "/storage",
    status_code=201,
    summary="Add a storage provider (form)",
    operation_class=documented(
        html=("201", "a one-line message, to htmx (HX-Request)"), responses={"303": _TO_STORAGE}
    ),
    responses=_CONFIG_ERRORS,
)
async def add_form(
    res: Res,
    request: Request[Any, Any, Any],
    data: Annotated[ProviderForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Provider]:
    """Form fields ``type``, ``name`` and the config, as the type's fields or as one
    ``config`` JSON object. Answers 201 JSON, a one-line HTML message to htmx, or a
    303 to ``/storage`` for a plain browser form."""
    config = providers.form_config(data.type, data.config, data.type_fields())
    doc = Provider.of(await providers.add_provider(res, data.type, data.name, config))
    answer: Response[Any]
    if request.headers.get("hx-request"):
        text = f"Added {doc.type} provider {html.escape(doc.name)} (#{doc.id})."
        answer = Response(text, status_code=201, media_type="text/html")
    elif "text/html" in request.headers.get("accept", ""):
        answer = Redirect(path="/storage", status_code=303)
    else:
        answer = Response(doc, status_code=201)
    return answer


@post(
    "/storage/add",
    status_code=201,
    summary="Add a storage provider (JSON)",
    responses=_CONFIG_ERRORS,
)
async def add_json(res: Res, data: JSONBody[ProviderCreate]) -> Provider:
    """``{"type": "local|ipfs|s3", "name": ..., "config": {...}}``."""
    return Provider.of(await providers.add_provider(res, data.type, data.name, data.config))


@get("/storage/{provider_id:int}", summary="One storage provider")
async def get_provider(res: Res, provider_id: ProviderId) -> Provider:
    """The provider (its secret shown as ``"***"``)."""
    return Provider.of(await providers.get_provider(res, provider_id))


@patch("/storage/{provider_id:int}", summary="Update a storage provider", responses=_CONFIG_ERRORS)
async def patch_provider(
    res: Res, provider_id: ProviderId, data: JSONBody[ProviderPatch]
) -> Provider:
    """``name``, ``enabled`` and/or ``config`` (merged; ``"***"`` keeps the stored secret)."""
    row = await providers.update_provider(
        res,
        provider_id,
        name=_given(data.name),
        enabled=_given(data.enabled),
        config=_given(data.config),
    )
    return Provider.of(row)


@delete(
    "/storage/{provider_id:int}",
    status_code=200,
    summary="Remove a storage provider",
    responses=error_answers((409, "content is pinned on the provider")),
)
async def delete_provider(res: Res, provider_id: ProviderId) -> ProviderDeleted:
    """409 while content is pinned on it (unpin first)."""
    await providers.remove_provider(res, provider_id)
    return ProviderDeleted(deleted=provider_id)


@post("/storage/{provider_id:int}/test", status_code=200, summary="Test a storage provider")
async def test_provider(res: Res, provider_id: ProviderId) -> ProviderTestResult:
    """``{"ok", "latency_ms", "detail"}``: a probe put, read back and deleted."""
    return ProviderTestResult.of(await providers.probe_provider(res, provider_id))


@get("/storage/type/{kind:str}", summary="Fields of a provider type")
async def provider_type(
    kind: Annotated[
        str,
        Parameter(description="a provider type", schema_extra={"enum": list(PROVIDER_KINDS)}),
    ],
) -> ProviderTypeInfo:
    """The config fields of ``kind``, with whether each is required."""
    fields = providers.type_fields(kind)
    return ProviderTypeInfo(
        type=kind,  # type: ignore[arg-type]  # type_fields checked it
        fields=[ProviderField(name=n, required=r, description=d) for n, r, d in fields],
    )


storage_router = Router(
    path="/",
    route_handlers=[
        list_providers,
        add_form,
        add_json,
        get_provider,
        patch_provider,
        delete_provider,
        test_provider,
        provider_type,
    ],
    tags=["storage"],
)
