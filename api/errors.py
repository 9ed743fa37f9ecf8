"""The one JSON error shape of the API and the exception handlers producing it.

Every 4xx/5xx answer of the application is a JSON object::

    {"status": 422, "title": "Unprocessable Entity", "detail": "unknown effect 'blurr'",
     "field": "recipe",                                   # optional
     "position": {"file": "<recipe>", "line": 12, "column": 15,
                  "text": "    effect: blurr"},          # optional
     "hint": "did you mean 'blur'?"}                      # optional

Handlers raise the layer exceptions (or :class:`ApiError` subclasses) and
:func:`exception_handlers` maps them:

- :class:`ApiError` (:class:`BadRequest`, :class:`NotFound`, :class:`Conflict`,
  :class:`Unprocessable`, ...) -> its own status
- the application layer's :class:`streamer.errors.DomainError` -> the status of
  its class in :data:`DOMAIN_STATUS` (missing 404, unavailable 503, ...; the
  table lives in :mod:`streamer.present.problems`, shared with the web forms)
- ``InterpreterError`` -> 422 with the recipe position
- ``cache`` errors: not found 404, invalid CID 400, too large 413, backend
  unreachable 503, no space left 507, any other storage failure 502
- Litestar's ``HTTPException`` (routing 404/405, body validation 400, a body over
  ``request_max_body_size`` 413 naming the limit) -> its status
- ``asyncpg.DataError`` (PostgreSQL refused a request value: a NUL byte, an
  integer beyond bigint) -> 400
- PostgreSQL unreachable (:func:`streamer.db.outage.database_unavailable`: refused,
  restarting, connection lost, timed out) -> 503 "database unavailable, retry"
  with ``Retry-After``; the pool reconnects by itself once it is back
- Redis unreachable (connection refused or lost, timed out) -> 503 "Redis
  unavailable, retry" with ``Retry-After``; its clients reconnect by themselves
- anything else -> 500 with a generic detail; the traceback is logged, never sent.

Usage in ``create_app``: ``Litestar(..., exception_handlers=exception_handlers())``.
"""

from __future__ import annotations

import http
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cache.errors import InvalidCIDError, StorageError
from interpreter.errors import InterpreterError
from streamer.db.outage import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, database_unavailable
from streamer.errors import DomainError, Unauthenticated
from streamer.present.problems import DOMAIN_STATUS, domain_status, storage_status

__all__ = [
    "DOMAIN_STATUS",
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "ServiceUnavailable",
    "Unprocessable",
    "domain_status",
    "error_body",
    "error_response",
    "exception_handlers",
]

log = logging.getLogger(__name__)

_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
#: Litestar's message for a required parameter the request lacks (it carries no ``extra``)
_MISSING_PARAMETER = re.compile(r"^Missing required (\w+) parameter '([^']+)'")


class ApiError(Exception):
    """An error the API answers with a given status.

    Args:
        detail: human-readable explanation of this occurrence.
        field: the request field at fault (``"inputs.video"``, ``"cid"``...).
        status: overrides the class default status.
        headers: extra response headers.
    """

    status: int = 400

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    """400: the request is malformed (bad JSON, bad CID, bad parameter)."""

    status = 400


class Forbidden(ApiError):
    """403: understood but refused (not the caller's token; import outside the roots)."""

    status = 403


class NotFound(ApiError):
    """404: the addressed resource (run, recipe, CID, segment) does not exist."""

    status = 404


class Conflict(ApiError):
    """409: the request conflicts with the resource's state."""

    status = 409


class PayloadTooLarge(ApiError):
    """413: the body is larger than the endpoint accepts."""

    status = 413


class RangeNotSatisfiable(ApiError):
    """416: the requested byte range lies outside the content."""

    status = 416


class Unprocessable(ApiError):
    """422: well-formed but semantically invalid (e.g. unknown input name)."""

    status = 422


class ServiceUnavailable(ApiError):
    """503: a backing service (IPFS, S3, worker queue) is not available."""

    status = 503


def _title(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    field: str | None = None,
    position: Mapping[str, Any] | None = None,
    hint: str | None = None,
) -> dict[str, Any]:
    """Build the error JSON object (optional keys only when set)."""
    body: dict[str, Any] = {"status": status, "title": title or _title(status), "detail": detail}
    if field:
        body["field"] = field
    if position:
        body["position"] = dict(position)
    if hint:
        body["hint"] = hint
    return body


def error_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    field: str | None = None,
    position: Mapping[str, Any] | None = None,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A JSON error :class:`Response` in the API's one shape (a 503 says ``Retry-After``)."""
    all_headers = dict(headers or {})
    if status == 503 and not any(k.lower() == "retry-after" for k in all_headers):
        all_headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return Response(
        error_body(status, detail, title=title, field=field, position=position, hint=hint),
        status_code=status,
        media_type=MediaType.JSON,
        headers=all_headers,
    )


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, Any]]:
    return error_response(exc.status, exc.detail, field=exc.field, headers=exc.headers)


def _domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": exc.challenge} if isinstance(exc, Unauthenticated) else None
    return error_response(domain_status(exc), exc.detail, field=exc.field, headers=headers)


def _interpreter_error(_: Request[Any, Any, Any], exc: InterpreterError) -> Response[Any]:
    position: dict[str, Any] | None = None
    if exc.line > 0:
        position = {"file": exc.file, "line": exc.line, "column": max(exc.column, 1)}
        if exc.text:
            position["text"] = exc.text.rstrip("\n")
    detail = f"{exc.location}: {exc.message}"
    return error_response(
        422, detail, title=type(exc).__name__, field="recipe", position=position, hint=exc.hint
    )


def _storage_error(_: Request[Any, Any, Any], exc: StorageError) -> Response[Any]:
    if isinstance(exc, InvalidCIDError):
        return error_response(400, str(exc) or "invalid CID", field="cid")
    return error_response(storage_status(exc), str(exc) or type(exc).__name__)


def _body_limit_detail(request: Request[Any, Any, Any]) -> str:
    """Litestar's 413 for a body over ``request_max_body_size``, naming the limit."""
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except Exception:  # no route (cannot happen for a body limit): the generic phrase
        limit = None
    if limit is None:
        return _title(413)
    return f"the request body is larger than the limit of {limit} bytes for this endpoint"


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail or _title(status)
    if isinstance(exc, RequestEntityTooLarge):
        detail = _body_limit_detail(request)
    field: str | None = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        first = exc.extra[0]
        if isinstance(first, dict):
            field = _validation_field(first)
            message = first.get("message")
            if message:
                detail = f"{detail}: {message}" if field is None else f"{field}: {message}"
    elif isinstance(exc, ValidationException) and (missing := _MISSING_PARAMETER.match(detail)):
        # name the parameter (Litestar's text names it, then echoes the whole request URL)
        kind, field = missing.groups()
        detail = f"{field}: missing (a required {kind} parameter)"
    return error_response(status, detail, field=field, headers=exc.headers)


def _validation_field(error: Mapping[str, Any]) -> str | None:
    """The request field a Litestar validation error names.

    Body errors come keyed by msgspec's path without ``$.`` (``inputs``,
    ``links.self``); the body as a whole is ``data`` (no field), and an unknown
    field is named only in the message (``Object contains unknown field `x```).
    """
    key = str(error.get("key") or "")
    if key == "data" and error.get("source") == "body":
        key = ""
    unknown = _UNKNOWN_FIELD.search(str(error.get("message") or ""))
    if unknown:
        key = f"{key}.{unknown[1]}" if key else unknown[1]
    return key or None


def _data_error(_: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Any]:
    # PostgreSQL refused a value the request carried (a NUL in an id, an integer
    # beyond bigint): the request is at fault, whichever handler passed it on.
    return error_response(400, f"a request value is not valid: {exc}")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # a backing service restarting: the client may retry; nothing to log as a bug
    detail = (
        UNAVAILABLE_DETAIL
        if database_unavailable(exc)
        else "Redis unavailable, retry"
        if isinstance(exc, RedisConnectionError | RedisTimeoutError)
        else None
    )
    if detail is not None:
        log.warning("%s %s: %s: %r", request.method, request.url.path, detail, exc)
        return error_response(503, detail)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal server error")


def exception_handlers() -> dict[
    int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]
]:
    """The mapping to pass as ``Litestar(exception_handlers=...)``."""
    return {
        ApiError: _api_error,
        DomainError: _domain_error,
        InterpreterError: _interpreter_error,
        StorageError: _storage_error,
        HTTPException: _http_exception,
        asyncpg.DataError: _data_error,
        Exception: _unexpected,
    }
