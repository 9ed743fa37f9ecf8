"""Content negotiation between the JSON API and the HTML pages at the same paths.

``/``, ``/runs`` and ``/recipes`` (and ``/media``/``/storage`` once an API owns
them) are JSON API routes. A browser asking for them gets the page instead:
:func:`html_alternates` builds a ``before_request`` hook for a router wrapping
the API routers; it answers the page when :func:`wants_html` and lets the JSON
handler run otherwise. This is the only place the decision is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

from streamer.present.deps import provide_resources
from streamer.resources import Resources

__all__ = ["PageFunction", "html_alternates", "wants_html"]

PageFunction = Callable[[Resources, Request[Any, Any, Any]], Awaitable[Template]]


def _quality(accept: str, media_type: str) -> float:
    """The q value the Accept header gives ``media_type`` (most specific range wins)."""
    major = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)  # (specificity, q)
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        rng = fields[0].lower()
        if not rng:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if rng == media_type:
            spec = 2
        elif rng == f"{major}/*":
            spec = 1
        elif rng == "*/*":
            spec = 0
        else:
            continue
        if spec > best[0]:
            best = (spec, q)
    return best[1]


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """True for htmx requests and when Accept ranks ``text/html`` above JSON.

    ``*/*`` alone (curl, httpx, fetch) ties, and a tie goes to JSON so API
    clients keep their answers.
    """
    if request.headers.get("hx-request"):
        return True
    accept = request.headers.get("accept", "")
    if not accept:
        return False
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def html_alternates(pages: Mapping[str, PageFunction]) -> Callable[..., Awaitable[Any]]:
    """A ``before_request`` hook answering ``pages[path]`` to GETs that want HTML.

    Args:
        pages: exact request path -> page function.
    """

    async def before_request(request: Request[Any, Any, Any]) -> Template | None:
        if request.method != "GET":
            return None
        page = pages.get(request.url.path)
        if page is None or not wants_html(request):
            return None
        return await page(provide_resources(request.app.state), request)

    return before_request
