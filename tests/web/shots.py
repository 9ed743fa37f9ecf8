"""Screenshots of pages at desktop and phone widths, kept after the run for a reviewer.

They go to ``$ARTDAG_TEST_ARTIFACTS/screenshots/`` (default ``tests/.artifacts/``,
gitignored), one file per page and width: ``<name>-desktop.png`` (1280 px wide)
and ``<name>-phone.png`` (390 px).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["DESKTOP", "PHONE", "artifacts_dir", "screenshots", "signed_in_context"]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def artifacts_dir() -> Path:
    """The folder screenshots go to (created)."""
    root = os.environ.get("ARTDAG_TEST_ARTIFACTS") or str(Path(__file__).parents[1] / ".artifacts")
    path = Path(root) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def screenshots(page: Any, name: str) -> list[Path]:
    """Save the whole page at both widths; the page is left at the desktop width."""
    paths = []
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(200)  # reflow (and lazy images) at the new width
        path = artifacts_dir() / f"{name}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    return paths


async def signed_in_context(browser: Any, base_url: str, token: str, **options: Any) -> Any:
    """A browser context carrying ``token`` as the session cookie, as ``GET /auth`` sets it."""
    from streamer.present.session import SESSION_COOKIE

    ctx = await browser.new_context(viewport=DESKTOP, **options)
    await ctx.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])
    return ctx
