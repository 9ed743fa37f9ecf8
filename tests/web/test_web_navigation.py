"""SPA-style navigation: boosted links swap the page without reloading it, and the
player and tabs start on swapped-in content."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import LiveServer


async def test_boosted_navigation_to_a_run_and_between_tabs(
    live_server: LiveServer, completed_run: dict[str, Any], browser: Any
) -> None:
    run_id = completed_run["run_id"]
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{live_server.url}/runs")
    await page.wait_for_function("() => !!window.htmx")
    await page.evaluate("() => { window.__marker = 'same-document'; }")
    await page.click(f'tr[data-run="{run_id}"] a[href="/run/{run_id}"]')
    await page.wait_for_function(
        "path => location.pathname === path", arg=f"/run/{run_id}", timeout=15_000
    )
    await page.wait_for_selector("video[data-hls-player]")
    # no full reload happened: the window kept its state
    assert await page.evaluate("() => window.__marker") == "same-document"
    # the player was started on the swapped-in page and plays the finished run
    await page.wait_for_function(
        "() => document.querySelector('video[data-hls-player]').currentTime > 0.3", timeout=30_000
    )
    # a tab click swaps only the tabs: the same video element keeps playing
    await page.evaluate("() => { window.__video = document.querySelector('video'); }")
    await page.click('a[data-tab="artifacts"]')
    await page.wait_for_selector('[data-tab-panel="artifacts"]')
    assert page.url.endswith(f"/run/{run_id}/artifacts")
    assert await page.evaluate("() => window.__video === document.querySelector('video')")
    assert await page.locator("a.tab-active").inner_text() == "Artifacts"
    # the plan tab's DAG is interactive after the swap: clicking a node shows its details
    await page.click('a[data-tab="plan"]')
    await page.wait_for_selector('[data-tab-panel="plan"] [data-dag]')
    node = page.locator("g.dag-node").first
    await node.click()
    details = page.locator("[data-dag-details]")
    await details.wait_for(state="visible")
    assert '"cache_id"' in await details.inner_text()
    assert await page.evaluate("() => window.__marker") == "same-document"
    assert not errors, errors
    await page.close()
