"""Jinja2 set-up of the web UI: template directory, filters and the page response.

``create_app`` passes :func:`template_config` to Litestar; handlers answer
:func:`page`, which always says ``text/html`` (the same function serves pages
from inside JSON handlers' negotiation hook, whose default type is JSON).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from streamer.present.session import current_user

__all__ = [
    "BUILD_DIR",
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "VENDOR_FILES",
    "WEB_DIR",
    "ago",
    "filesize",
    "page",
    "short_id",
    "template_config",
]

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
#: Build outputs (gitignored): ``npm run build:css`` writes ``app.css`` here.
BUILD_DIR = WEB_DIR / "build"
#: Front-end libraries served from ``web/node_modules`` (installed by ``npm ci``).
VENDOR_FILES = {
    "hls.min.js": WEB_DIR / "node_modules" / "hls.js" / "dist" / "hls.min.js",
    "htmx.min.js": WEB_DIR / "node_modules" / "htmx.org" / "dist" / "htmx.min.js",
    # the API reference at /docs (web/apidocs.py)
    "swagger-ui-bundle.js": WEB_DIR / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js": (
        WEB_DIR / "node_modules" / "swagger-ui-dist" / "swagger-ui-standalone-preset.js"
    ),
    "swagger-ui.css": WEB_DIR / "node_modules" / "swagger-ui-dist" / "swagger-ui.css",
}


def short_id(value: Any, keep: int = 12) -> str:
    """``Qm12345678…`` for long ids; empty for None."""
    if not value:
        return ""
    text = str(value)
    return text if len(text) <= keep + 2 else f"{text[:keep]}…"


def ago(value: Any, now: dt.datetime | None = None) -> str:
    """A timestamp as ``12 s ago`` / ``3 min ago`` / ``2 h ago`` / the date."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    now = now or dt.datetime.now(dt.UTC)
    when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return when.strftime("%Y-%m-%d %H:%M")


def filesize(value: Any) -> str:
    """Bytes as ``1.2 MiB``."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - loop always returns


def _engine_callback(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters["short"] = short_id
    env.filters["ago"] = ago
    env.filters["filesize"] = filesize
    env.globals["current_user"] = current_user  # None when the request carries no token


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The Litestar template configuration of the web UI (autoescaping on)."""
    return TemplateConfig(
        directory=TEMPLATE_DIR, engine=JinjaTemplateEngine, engine_callback=_engine_callback
    )


def page(name: str, context: dict[str, Any], status_code: int = 200) -> Template:
    """An HTML template response (``text/html`` whatever the handler's default type)."""
    return Template(name, context=context, media_type="text/html", status_code=status_code)
