"""The API's one error shape in the OpenAPI document.

Litestar documents a handler's 4xx/5xx answers with its own exception body
(``{status_code, detail, extra}``); ours is :func:`api.errors.error_body`.
:func:`document_errors` swaps every error response's schema for the shared
``Error`` component, and adds the answers every operation can give (401 on
writes without a token, 503 when a backing service is down, 500).
"""

from __future__ import annotations

from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

__all__ = ["ERROR_SCHEMA", "document_errors"]

_STRING = Schema(type=OpenAPIType.STRING)
_INTEGER = Schema(type=OpenAPIType.INTEGER)

#: ``{"status", "title", "detail", "field"?, "position"?, "hint"?}`` (api.errors.error_body).
ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    description="Every 4xx/5xx answer of the API.",
    required=["status", "title", "detail"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER, description="the HTTP status"),
        "title": Schema(type=OpenAPIType.STRING, description="the status phrase or error class"),
        "detail": Schema(type=OpenAPIType.STRING, description="what is wrong, for people"),
        "field": Schema(
            type=OpenAPIType.STRING,
            description="the request field at fault (e.g. inputs.video, cid, Authorization)",
        ),
        "position": Schema(
            type=OpenAPIType.OBJECT,
            description="where in the recipe (recipe errors)",
            required=["file", "line", "column"],
            properties={"file": _STRING, "line": _INTEGER, "column": _INTEGER, "text": _STRING},
        ),
        "hint": Schema(type=OpenAPIType.STRING, description="how to fix it, when known"),
    },
)
_REF = Reference(ref="#/components/schemas/Error")
_CONTENT = {"application/json": OpenAPIMediaType(schema=_REF)}
_WRITES = ("post", "put", "patch", "delete")
_COMMON = {
    "500": "Internal error (logged; the detail is generic)",
    "503": "A backing service (PostgreSQL, Redis, IPFS, S3) is not available",
}
#: A 503 for an unreachable PostgreSQL says when to try again.
_RETRY_AFTER: dict[str, OpenAPIHeader | Reference] = {
    "Retry-After": OpenAPIHeader(
        schema=_INTEGER, description="seconds to wait before retrying (database unavailable)"
    )
}


def _error_responses(op: Operation, method: str) -> None:
    responses = op.responses if op.responses is not None else {}
    for code, response in list(responses.items()):
        if code[:1] in "45" and isinstance(response, OpenAPIResponse):
            responses[code] = OpenAPIResponse(description=response.description, content=_CONTENT)
    if method in _WRITES and "401" not in responses:
        text = "No valid token: writes need 'Authorization: Bearer <token>' or the session cookie"
        responses["401"] = OpenAPIResponse(description=text, content=_CONTENT)
    for code, description in _COMMON.items():
        headers = _RETRY_AFTER if code == "503" else None
        responses.setdefault(
            code, OpenAPIResponse(description=description, content=_CONTENT, headers=headers)
        )
    op.responses = responses


def document_errors(openapi: OpenAPI) -> None:
    """Give every operation's error answers the ``Error`` schema (in place)."""
    components = openapi.components if isinstance(openapi.components, Components) else None
    if components is None:
        components = openapi.components = Components()
    components.schemas = {**(components.schemas or {}), "Error": ERROR_SCHEMA}
    for item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            op = getattr(item, method, None)
            if isinstance(op, Operation):
                _error_responses(op, method)
