"""Browser forms: start a run from a recipe's page, cancel it from the run page, sign-in state."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import LiveServer
from tests.api.live_media import live_recipe
from tests.web.conftest import HTML


async def _upload(live: LiveServer, seconds: float, name: str) -> str:
    resp = await live.client.post(
        "/recipes/upload", json={"recipe": live_recipe(seconds, name=name)}
    )
    assert resp.status_code in (200, 201), resp.text
    return str(resp.json()["recipe_id"])


async def test_header_shows_the_session_user(live_server: LiveServer) -> None:
    page = (await live_server.client.get("/runs", headers=HTML)).text  # client sends a Bearer token
    assert 'data-user="tester"' in page and 'href="/logout"' in page
    async with live_server.client.__class__(base_url=live_server.url) as anonymous:
        page = (await anonymous.get("/runs", headers=HTML)).text
    assert "data-user=" not in page and "read-only" in page


async def test_start_a_run_from_the_recipe_page_then_cancel_it(
    live_server: LiveServer, browser: Any
) -> None:
    live = live_server
    recipe_id = await _upload(live, 60.0, "web-form-run")
    # without a session there is no form, and the page says how to sign in
    anon = await browser.new_context()
    page = await anon.new_page()
    await page.goto(f"{live.url}/recipe/{recipe_id}")
    assert await page.locator("#run-form").count() == 0
    result = page.locator("#run-form-card [data-signin-note]").first
    await result.wait_for(state="visible", timeout=10_000)
    assert "token" in (await result.inner_text()).lower()
    await anon.close()

    ctx = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {live.token}"})
    page = await ctx.new_page()
    await page.goto(f"{live.url}/recipe/{recipe_id}")
    await page.fill("input[name=duration]", "30")
    await page.fill("input[name=pace]", "1")
    await page.click("#run-form button[type=submit]")
    await page.wait_for_url(f"{live.url}/run/*", timeout=15_000)
    run_id = page.url.rsplit("/", 1)[1]
    run = await live.wait_run(run_id, lambda r: r["status"] == "running" and r["segment_count"] > 0)
    assert run["recipe_id"] == recipe_id
    # the run page's Cancel button stops it (once confirmed); the status card turns "cancelled"
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click("#run-status form[data-action=cancel] button")
    final = await live.wait_run(
        run_id, lambda r: r["status"] in ("cancelled", "completed", "failed")
    )
    assert final["status"] == "cancelled", final
    assert final["progress"] < 1.0
    await page.wait_for_selector(
        '#run-status [data-field="status"]:text("cancelled")', timeout=15_000
    )
    assert await page.locator("#run-status form[data-action=cancel]").count() == 0  # no more Cancel
    await ctx.close()


async def test_storage_form_adds_a_provider_and_shows_errors(
    live_server: LiveServer, browser: Any
) -> None:
    live = live_server
    ctx = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {live.token}"})
    page = await ctx.new_page()
    await page.goto(f"{live.url}/storage")
    form = page.locator('form[hx-post="/storage"]')
    # a bad config: the API's error appears under the form
    await form.locator("input[name=name]").fill("web-bad")
    await form.locator("textarea[name=config]").fill("{nope")
    await form.locator("button[type=submit]").click()
    result = page.locator("#storage-result")
    await page.wait_for_function(
        "() => document.querySelector('#storage-result').textContent.includes('config')"
    )
    assert "invalid JSON" in await result.inner_text()
    # a good one: added, and the providers list refreshes in place
    await form.locator("input[name=name]").fill("web-ipfs")
    await form.locator("select[name=type]").select_option("ipfs")
    await form.locator("textarea[name=config]").fill('{"api": "/ip4/127.0.0.1/tcp/5001"}')
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("#providers td:text('web-ipfs')", timeout=10_000)
    assert "Added ipfs provider web-ipfs" in await result.inner_text()
    await ctx.close()
    await live.db.execute("DELETE FROM storage_providers WHERE name = 'web-ipfs'")  # shared DB
