"""The API reference at ``/docs``: Swagger UI served by this server, never from a CDN.

``create_app`` passes :func:`docs_plugins` as the ``render_plugins`` of its
``OpenAPIConfig(path="/docs")``: Swagger UI at ``/docs`` (its script, preset and
stylesheet are ``swagger-ui-dist`` from ``web/node_modules``, served at
``/static/vendor/``), the schema at ``/docs/openapi.json`` (Litestar adds it) and
``/docs/openapi.yaml``. Litestar's default pages (Redoc, Elements, RapiDoc) and
favicon load from CDNs and Google Fonts, so they are not used.
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin

from web.templating import VENDOR_FILES

__all__ = ["DOCS_ASSETS", "LocalSwaggerUI", "docs_plugins"]

VENDOR_URL = "/static/vendor"
#: ``VENDOR_FILES`` names that the Swagger UI page loads.
DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")
#: an empty icon: no request for /favicon.ico, and not Litestar's CDN-hosted one
NO_FAVICON = '<link rel="icon" href="data:,">'

_MISSING_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>{favicon}</head>
<body><h1>{title}</h1>
<p>The API reference page needs Swagger UI, which is not installed ({missing}):
run <code>npm ci</code> in web/ (<code>scripts/bootstrap.sh</code> does).</p>
<p>The schema is at <a href="{schema}">{schema}</a>.</p>
</body></html>
"""


class LocalSwaggerUI(SwaggerRenderPlugin):
    """Swagger UI from ``/static/vendor/``; a page naming the fix when it is not installed."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(
            path=path,
            js_url=f"{VENDOR_URL}/swagger-ui-bundle.js",
            css_url=f"{VENDOR_URL}/swagger-ui.css",
            standalone_preset_js_url=f"{VENDOR_URL}/swagger-ui-standalone-preset.js",
            favicon=NO_FAVICON,
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        missing = [name for name in DOCS_ASSETS if not VENDOR_FILES[name].is_file()]
        if not missing:
            return super().render(request, openapi_schema)
        return _MISSING_PAGE.format(
            title=html.escape(str(openapi_schema["info"]["title"])),
            favicon=NO_FAVICON,
            missing=", ".join(missing),
            schema=self.get_openapi_json_route(request),
        ).encode()


def docs_plugins() -> list[OpenAPIRenderPlugin]:
    """The ``render_plugins`` of the app's ``OpenAPIConfig``: Swagger UI at its root, and YAML."""
    return [LocalSwaggerUI(), YamlRenderPlugin()]
