"""OpenAPI descriptions Litestar cannot infer: binary answers, raw bodies, HTML alternates.

Litestar documents an operation from its handler's signature. Handlers that
stream files, read their own body (to enforce a limit while streaming) or
answer HTML to browsers at the same path describe the rest with
:func:`documented`, an ``operation_class`` that completes the generated
operation without changing how the request is handled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIFormat

__all__ = ["WEB_PAGE", "binary", "documented", "file_responses", "html_alternate"]


def binary(description: str | None = None) -> Schema:
    """The schema of a body of raw bytes."""
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description)


def file_responses(media_types: Sequence[str], description: str) -> dict[str, OpenAPIResponse]:
    """The answers of a file served with byte ranges and ``If-None-Match`` (see ``api.ranges``).

    Args:
        media_types: the types the file may be served as.
        description: what the file is.
    """
    content = {t: OpenAPIMediaType(schema=binary()) for t in media_types}
    headers: dict[str, OpenAPIHeader | Reference] = {
        "Accept-Ranges": _header("always `bytes`"),
        "ETag": _header("the content never changes under this tag"),
        "Content-Length": _header("bytes in this answer"),
    }
    return {
        "200": OpenAPIResponse(description=description, content=content, headers=headers),
        "206": OpenAPIResponse(
            description=f"{description}: the single range the `Range` header asked for",
            content=content,
            headers={**headers, "Content-Range": _header("`bytes first-last/size`")},
        ),
        "304": OpenAPIResponse(description="not modified (`If-None-Match` names the ETag)"),
        "416": OpenAPIResponse(
            description="the range lies outside the content (`Content-Range: bytes */size`)"
        ),
    }


def html_alternate(description: str) -> OpenAPIMediaType:
    """HTML that browsers get instead of JSON (Accept preferring ``text/html``, or htmx)."""
    return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=description))


#: What browsers get at the paths the web UI shares with the API.
WEB_PAGE = "the web UI's page, to browsers (Accept preferring text/html, or htmx)"


def documented(
    *,
    request_body: RequestBody | None = None,
    body_required: bool | None = None,
    responses: Mapping[str, OpenAPIResponse] | None = None,
    html: tuple[str, str] | None = None,
) -> type[Operation]:
    """An ``operation_class`` completing the operation Litestar generates.

    Args:
        request_body: replaces the request body (for handlers that read the raw request).
        body_required: overrides whether the (generated) request body is required.
        responses: replace or add answers, by status code.
        html: ``(status, description)`` of an answer that also comes as HTML.
    """

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if request_body is not None:
                self.request_body = request_body
            if body_required is not None and isinstance(self.request_body, RequestBody):
                self.request_body.required = body_required
            answers = dict(self.responses or {})
            answers.update(responses or {})
            if html is not None and isinstance(page := answers.get(html[0]), OpenAPIResponse):
                content = {**(page.content or {}), "text/html": html_alternate(html[1])}
                answers[html[0]] = replace(page, content=content)  # never edit a shared answer
            self.responses = answers

    return DocumentedOperation
