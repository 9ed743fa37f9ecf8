"""OpenAPI links: what a client (or a stateful fuzzer) can do with what an operation created.

A link says how an answer's body fills the parameters of a next request, e.g.
``POST /runs`` -> ``run_id`` -> ``GET /runs/{run_id}``. Litestar generates no
links; :func:`document_links` adds those of :data:`LINKS` to the document,
naming the target operations by the ``operationId`` Litestar generated (looked
up by method and path, so renaming a handler cannot leave a dangling link).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.openapi.spec import Link, OpenAPI, OpenAPIResponse, Operation

__all__ = ["LINKS", "LinkSet", "document_links"]


@dataclass(frozen=True)
class LinkSet:
    """Links from one answer (``method path status``) to operations on what it created.

    Attributes:
        parameters: target parameter -> runtime expression (``$response.body#/run_id``).
        targets: the ``(method, path)`` of each operation the answer leads to.
        request_body: the targets' body, with runtime expressions, when they take one.
    """

    parameters: dict[str, str]
    targets: tuple[tuple[str, str], ...]
    request_body: dict[str, str] | None = field(default=None)


_RUN = {"run_id": "$response.body#/run_id"}
#: what can be asked of a run (not its events: a stream that lasts while it renders)
_RUN_OPERATIONS = (
    ("get", "/runs/{run_id}"),
    ("get", "/api/run/{run_id}"),
    ("get", "/api/run/{run_id}/plan"),
    ("get", "/api/run/{run_id}/provenance"),
    ("post", "/runs/{run_id}/cancel"),
    ("delete", "/runs/{run_id}"),
)
_RECIPE = LinkSet(
    {"recipe_id": "$response.body#/recipe_id"},
    (
        ("get", "/recipes/{recipe_id}"),
        ("post", "/recipes/{recipe_id}/run"),
        ("delete", "/recipes/{recipe_id}"),
    ),
)

#: ``(method, path, status)`` of an answer -> the links it carries.
LINKS: dict[tuple[str, str, str], LinkSet] = {
    ("post", "/runs", "201"): LinkSet(_RUN, _RUN_OPERATIONS),
    ("post", "/recipes/{recipe_id}/run", "201"): LinkSet(_RUN, _RUN_OPERATIONS),
    ("post", "/api/execute", "201"): LinkSet(_RUN, _RUN_OPERATIONS),
    ("post", "/api/run-recipe", "201"): LinkSet(_RUN, _RUN_OPERATIONS),
    ("post", "/recipes/upload", "201"): _RECIPE,
    ("post", "/recipes/upload", "200"): _RECIPE,
    ("post", "/api/plan", "200"): LinkSet(
        {}, (("post", "/api/execute"),), request_body={"plan_id": "$response.body#/plan_id"}
    ),
    ("post", "/cache/upload", "201"): LinkSet(
        {"cid": "$response.body#/cid"},
        (
            ("get", "/cache/{cid}"),
            ("get", "/cache/{cid}/meta"),
            ("patch", "/cache/{cid}/meta"),
            ("get", "/cache/{cid}/raw"),
            ("delete", "/cache/{cid}"),
        ),
    ),
    ("post", "/storage/add", "201"): LinkSet(
        {"provider_id": "$response.body#/id"},
        (
            ("get", "/storage/{provider_id}"),
            ("patch", "/storage/{provider_id}"),
            ("delete", "/storage/{provider_id}"),
        ),
    ),
}


def _operation(openapi: OpenAPI, method: str, path: str) -> Operation:
    item = (openapi.paths or {}).get(path)
    op = getattr(item, method, None) if item is not None else None
    if not isinstance(op, Operation):
        raise LookupError(f"OpenAPI links: no operation {method.upper()} {path}")
    return op


def document_links(openapi: OpenAPI) -> None:
    """Add :data:`LINKS` to the answers of ``openapi`` (in place).

    Raises:
        LookupError: a link names an operation or an answer the document does not have.
    """
    for (method, path, status), links in LINKS.items():
        response = (_operation(openapi, method, path).responses or {}).get(status)
        if not isinstance(response, OpenAPIResponse):
            raise LookupError(f"OpenAPI links: {method.upper()} {path} documents no {status}")
        added: dict[str, Any] = dict(response.links or {})
        for target_method, target_path in links.targets:
            target = _operation(openapi, target_method, target_path)
            name = target.operation_id or f"{target_method} {target_path}"
            added[name] = Link(
                operation_id=target.operation_id,
                parameters=dict(links.parameters) or None,
                request_body=dict(links.request_body) if links.request_body else None,
            )
        response.links = added
