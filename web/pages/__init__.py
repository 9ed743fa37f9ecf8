"""The HTML pages and forms of the web UI.

Pages at paths the JSON API also answers (``/``, ``/runs``, ``/recipes``, and
``/media``/``/storage`` when an API claims them) are plain functions of the
request (:data:`NEGOTIATED_PAGES`, :mod:`web.pages.lists`), called through
:mod:`web.negotiation`; the others are Litestar handlers (:data:`PAGE_HANDLERS`):

- :mod:`web.pages.run`: the run page and its tabs;
- :mod:`web.pages.recipe`: the recipe page (with the run form), its DAG, the editor;
- :mod:`web.pages.download`: the CLI client;
- :mod:`web.pages.recipe_forms`, :mod:`web.pages.run_forms`,
  :mod:`web.pages.media_forms`: the form posts (save a recipe, start, cancel
  and delete runs, upload and delete media), which answer ``303`` when done and
  the page with the problem inline when not.
"""

from __future__ import annotations

from typing import Any

from web.pages.common import not_found
from web.pages.download import DOWNLOAD_HANDLERS
from web.pages.lists import NEGOTIATED_PAGES, home, media, recipes, runs, storage
from web.pages.media_forms import MEDIA_FORM_HANDLERS
from web.pages.recipe import RECIPE_HANDLERS
from web.pages.recipe_forms import RECIPE_FORM_HANDLERS
from web.pages.run import RUN_HANDLERS
from web.pages.run_forms import RUN_FORM_HANDLERS

__all__ = [
    "NEGOTIATED_PAGES",
    "PAGE_HANDLERS",
    "home",
    "media",
    "not_found",
    "recipes",
    "runs",
    "storage",
]

#: The pages and form handlers at paths no API claims.
PAGE_HANDLERS: list[Any] = [
    *RUN_HANDLERS,
    *RECIPE_HANDLERS,
    *DOWNLOAD_HANDLERS,
    *RECIPE_FORM_HANDLERS,
    *RUN_FORM_HANDLERS,
    *MEDIA_FORM_HANDLERS,
]
