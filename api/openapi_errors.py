"""The API's one error shape in the OpenAPI document.

Litestar documents a handler's 4xx/5xx answers with its own exception body
(``{status_code, detail, extra}``); ours is :func:`api.errors.error_body`.
:func:`document_errors` swaps every error response's schema for the shared
``Error`` component (an answer a handler documents with its own body, like
``/health``'s 503, keeps it), and adds the answers every operation can give:
400 where it takes parameters or a body, 404 where its path names a resource,
401 on writes without a token, 408 and 413 where a body is taken, 503 when a backing service is down, 500.

The other error statuses an operation answers are declared on its handler
with :func:`error_answers` (``responses=error_answers(409, 422)``), so that
``/docs/openapi.json`` lists every status the API answers (the fuzz tests,
``tests/api/test_fuzz_openapi.py``, check it).
"""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec
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

__all__ = ["ERROR_MEANINGS", "ERROR_SCHEMA", "document_errors", "error_answers"]

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
#: What any operation taking a body can answer (streamer.present.body_timeout, the body limits).
_BODY = {
    "408": "The request body stalled: no bytes for ARTDAG_BODY_TIMEOUT seconds",
    "413": "The request body is larger than the endpoint accepts (the limit is named)",
}
_COMMON = {
    "500": "Internal error (logged; the detail is generic)",
    "503": "A backing service (PostgreSQL, Redis, IPFS, S3) is not available",
}
_BAD_INPUT = "Bad request: a parameter or the body is malformed (`field` names it)"
_NOT_FOUND = "Nothing at this path: the resource it names does not exist"

#: What an error status means, as :func:`error_answers` documents it.
ERROR_MEANINGS: dict[int, str] = {
    400: _BAD_INPUT,
    401: "No valid token (`field`: Authorization)",
    403: "Refused: understood, but not allowed to the caller or by the configuration",
    404: "Not found: a resource the request names does not exist",
    408: "The request body did not arrive in time",
    409: "Conflict with the resource's current state",
    413: "The request body is larger than the endpoint accepts",
    416: "The range lies outside the content",
    422: "Well-formed but not valid (recipe errors carry their `position` and a `hint`)",
    501: "Not implemented yet",
}
#: A 503 for an unreachable PostgreSQL says when to try again.
_RETRY_AFTER: dict[str, OpenAPIHeader | Reference] = {
    "Retry-After": OpenAPIHeader(
        schema=_INTEGER, description="seconds to wait before retrying (database unavailable)"
    )
}


def error_answers(*answers: int | tuple[int, str]) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a handler's error statuses, in the API's error shape.

    Args:
        answers: a status (described by :data:`ERROR_MEANINGS`) or ``(status, description)``.

    Example: ``@post(..., responses=error_answers(404, (409, "a run uses the recipe")))``.
    """
    specs: dict[int, ResponseSpec] = {}
    for answer in answers:
        code, description = (
            answer if isinstance(answer, tuple) else (answer, ERROR_MEANINGS[answer])
        )
        # no container: document_errors gives every error answer the Error schema
        specs[code] = ResponseSpec(data_container=None, description=description)
    return specs


def _generic_error(response: OpenAPIResponse) -> bool:
    """True when ``response`` has no body of its own: none, or Litestar's exception body."""
    for media in (response.content or {}).values():
        schema = media.schema
        if not isinstance(schema, Schema) or "status_code" not in (schema.properties or {}):
            return False
    return True


def _takes_input(op: Operation) -> bool:
    return bool(op.parameters) or op.request_body is not None


def _names_a_resource(op: Operation, path: str) -> bool:
    return "{" in path and any(getattr(p, "param_in", None) == "path" for p in op.parameters or ())


def _error_responses(op: Operation, method: str, path: str) -> None:
    responses = op.responses if op.responses is not None else {}
    for code, response in list(responses.items()):
        if code[:1] in "45" and isinstance(response, OpenAPIResponse) and _generic_error(response):
            responses[code] = OpenAPIResponse(description=response.description, content=_CONTENT)
    if _takes_input(op) and "400" not in responses:
        responses["400"] = OpenAPIResponse(description=_BAD_INPUT, content=_CONTENT)
    if _names_a_resource(op, path) and "404" not in responses:
        responses["404"] = OpenAPIResponse(description=_NOT_FOUND, content=_CONTENT)
    if method in _WRITES and "401" not in responses:
        text = "No valid token: writes need 'Authorization: Bearer <token>' or the session cookie"
        responses["401"] = OpenAPIResponse(description=text, content=_CONTENT)
    if op.request_body is not None:
        for code, description in _BODY.items():
            responses.setdefault(code, OpenAPIResponse(description=description, content=_CONTENT))
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
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            op = getattr(item, method, None)
            if isinstance(op, Operation):
                _error_responses(op, method, path)
