"""What the pages share: the 404 page, form answers, server and service status, query ints.

Form handlers answer a redirect when the work is done (``303``, so that a
browser without JavaScript and an htmx-boosted form land on the next page
alike) and the page again, with the problem shown inline, when it is not
(:func:`form_page`: the status says what went wrong, ``X-Form-Errors`` lets
htmx swap it in, ``HX-Push-Url: false`` keeps the address bar on the page the
form was on).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from streamer.present.problems import Problem
from streamer.present.server import SERVER_NAME, server_version
from streamer.present.session import current_user
from streamer.resources import Resources
from streamer.runs.status import RunStatus
from web.templating import page

__all__ = [
    "ACTIVE",
    "FORM_ERRORS_HEADER",
    "PAGE_SIZE",
    "confirm_page",
    "form_page",
    "int_param",
    "not_found",
    "problem_text",
    "safe_next",
    "see_other",
    "server_info",
    "services",
    "signed_in",
]

PAGE_SIZE = 50
ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING)
#: Set on a page answered with a form's problem: htmx swaps such 4xx answers in (static/forms.js).
FORM_ERRORS_HEADER = "X-Form-Errors"
_CHECK_TIMEOUT = 2.0


def not_found(what: str, detail: str, back: tuple[str, str] = ("/", "Home")) -> Template:
    """The 404 page."""
    return page(
        "error.html",
        {"status": 404, "title": f"{what} not found", "detail": detail, "back": back},
        status_code=404,
    )


def form_page(name: str, context: dict[str, Any], status_code: int = 200) -> Template:
    """A page answering a form post: its problem inline, the address bar left as it was."""
    headers = {"HX-Push-Url": "false"}
    if status_code >= 400:
        headers[FORM_ERRORS_HEADER] = "1"
    return Template(
        name, context=context, media_type="text/html", status_code=status_code, headers=headers
    )


def see_other(path: str) -> Redirect:
    """``303 See Other`` to ``path`` (the browser, or htmx, then GETs it)."""
    return Redirect(path=path, status_code=303)


def safe_next(value: str | None, default: str) -> str:
    """``value`` when it is a path on this site (``/x``; not ``//host`` or a URL), else ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def problem_text(problem: Problem) -> str:
    """One line for people: ``line 3:7: message (hint)``."""
    where = f"line {problem.line}:{problem.column}: " if problem.line > 0 else ""
    hint = f" ({problem.hint})" if problem.hint else ""
    return f"{where}{problem.detail}{hint}"


def signed_in(request: Request[Any, Any, Any]) -> bool:
    """The request came with a valid token or session cookie."""
    return current_user(request) is not None


def int_param(request: Request[Any, Any, Any], name: str, default: int, low: int, high: int) -> int:
    """A query integer clamped to ``[low, high]`` (``default`` when absent or not a number)."""
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


async def _probe(coro: Any) -> str:
    try:
        await asyncio.wait_for(coro, _CHECK_TIMEOUT)
    except Exception as exc:  # any failure is a status to show, not an error of the page
        return f"error: {type(exc).__name__}"
    return "ok"


async def services(res: Resources) -> dict[str, str]:
    """``ok``, ``error: ...`` or ``not configured`` for the database, Redis and IPFS."""
    db, redis, ipfs = res.db, res.redis, res.stores.ipfs
    names = ("database", "redis", "ipfs")
    probes = [
        _probe(db.fetchval("SELECT 1")) if db else None,
        _probe(redis.ping()) if redis else None,
        _probe(ipfs.ping()) if ipfs else None,
    ]
    results = await asyncio.gather(*(p for p in probes if p is not None))
    it = iter(results)
    return {
        n: (next(it) if p is not None else "not configured")
        for n, p in zip(names, probes, strict=True)
    }


def server_info(res: Resources) -> dict[str, Any]:
    """What the home page says about this server."""
    settings = res.settings
    return {
        "name": SERVER_NAME,
        "version": server_version(),
        "public_url": settings.server.public_url,
        "ipfs_primary": settings.ipfs.primary,
        "ipfs_gateway_url": settings.ipfs.gateway_url,
        "l2_server": settings.federation.l2_server,
        "segment_seconds": settings.hls.segment_seconds,
        "container": settings.hls.container,
        "cache_dir": str(settings.storage.cache_dir),
        "embedded_services": bool(res.embedded_services),
    }


def confirm_page(
    *,
    title: str,
    question: str,
    action: str,
    button: str,
    back: tuple[str, str],
    next_path: str = "",
    problem: Problem | None = None,
    nav: str = "",
) -> Template:
    """Ask before a cancel or delete (no JavaScript), or say why it could not be done.

    Args:
        title: the page title.
        question: what is about to happen.
        action: the form's target (posted again with ``confirmed=1``).
        button: the button's label.
        back: (path, label) of the way back without doing it.
        next_path: where to go after it is done.
        problem: why it failed, shown inline (the page's status is its status).
        nav: the header's active section.
    """
    return form_page(
        "confirm.html",
        {
            "nav": nav,
            "title": title,
            "question": question,
            "action": action,
            "button": button,
            "back": back,
            "next": next_path,
            "error": problem_text(problem) if problem else None,
        },
        problem.status if problem else 200,
    )
