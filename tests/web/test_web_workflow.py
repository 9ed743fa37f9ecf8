"""From the browser, signed in: upload media and a recipe, start a run of it, see it play,
delete it; every form with htmx and without JavaScript. Screenshots of each page at desktop
and phone widths go to tests/.artifacts/screenshots/ (tests/web/shots.py)."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest_asyncio

from streamer.recipes.check import check_recipe
from tests.api.conftest import LiveServer
from tests.api.live_media import live_recipe, make_clip_bytes
from tests.media import write_wav
from tests.web.conftest import HTML
from tests.web.shots import screenshots, signed_in_context

UPLOAD_LIMIT = 1_500_000  # bytes: small, so that a too-large file is quick to make

CLIP_RECIPE = """\
name: web-clip
version: '1.0'
description: Tint an uploaded clip
inputs:
  video: {type: video, description: the clip to tint}
params:
  degrees: {default: 90, min: 0, max: 360, description: hue shift in degrees}
steps:
- id: fx
  type: EFFECT
  inputs: [video]
  config: {effect: hue, degrees: degrees}
output: fx
"""
#: CLIP_RECIPE with a typo on line 12 (``huee``), column 20.
BAD_RECIPE = CLIP_RECIPE.replace("effect: hue,", "effect: huee,")
BOOSTED = "() => window.__stayed === 1"  # set before a form post: no full page load since


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live(
    live_factory: Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]],
) -> AsyncIterator[LiveServer]:
    """A stack of its own with a small upload limit."""
    async with live_factory(UPLOAD_MAX_BYTES=str(UPLOAD_LIMIT)) as server:
        yield server


def _file(name: str, mime: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


async def _upload_clip(live: LiveServer, seconds: float = 2.0) -> str:
    data = make_clip_bytes(seconds, 160, 120)
    resp = await live.client.post("/cache/upload", files={"file": ("api-clip.mp4", data)})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["cid"])


async def _store_recipe(live: LiveServer, text: str) -> str:
    resp = await live.client.post("/recipes/upload", json={"recipe": text})
    assert resp.status_code in (200, 201), resp.text
    return str(resp.json()["recipe_id"])


async def _drop(page: Any, selector: str, name: str, mime: str, data: bytes) -> None:
    """Drop a file on ``selector`` as a user dragging it from the desktop would."""
    await page.evaluate(
        """([sel, name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: mime}));
            const zone = document.querySelector(sel);
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
            }
        }""",
        [selector, name, mime, base64.b64encode(data).decode()],
    )


async def test_signed_out_pages_say_how_to_sign_in(live: LiveServer, browser: Any) -> None:
    recipe_id = await _store_recipe(live, CLIP_RECIPE)
    async with live.client.__class__(base_url=live.url) as anonymous:
        for path in ("/media", "/recipes", "/recipe/new", f"/recipe/{recipe_id}"):
            page = (await anonymous.get(path, headers=HTML)).text
            assert "data-signin-note" in page and "artdag login-link" in page, path
            assert "data-upload" not in page and "data-recipe-editor" not in page, path
            assert 'id="run-form"' not in page and "/web/" not in page, path
        # a form post without a session is refused like any write
        resp = await anonymous.post(f"/web/run/{'0' * 8}/delete", data={"confirmed": "1"})
        assert resp.status_code == 401
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live.url}/media")
    await screenshots(page, "media-signed-out")
    await page.context.close()


async def test_sign_in_with_a_one_time_link(live: LiveServer, browser: Any) -> None:
    """The link ``artdag serve`` prints signs the browser in once; the header names the user."""
    from urllib.parse import urlsplit

    from streamer.auth.login_links import create_login_link

    link = await create_login_link(live.redis, live.res.keys, live.settings, user="maria")
    path = urlsplit(link).path
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    await page.goto(live.url + path)
    await page.wait_for_selector('[data-user="maria"]')
    assert page.url.rstrip("/") == live.url  # to the home page, signed in
    await page.goto(live.url + "/media")
    await page.wait_for_selector("form[data-upload]")  # the upload form shows when signed in
    await screenshots(page, "signed-in-with-link")
    # the link works once: a second visit is refused and signs nobody in
    other = await browser.new_context()
    again = await other.new_page()
    resp = await again.goto(live.url + path)
    assert resp is not None and resp.status == 404
    await again.goto(live.url + "/media")
    assert await again.locator("form[data-upload]").count() == 0
    # sign out ends the session
    await page.goto(live.url + "/logout")
    await page.goto(live.url + "/media")
    assert await page.locator('[data-user="maria"]').count() == 0
    await other.close()
    await ctx.close()


async def test_upload_media_with_progress_and_inline_errors(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    ctx = await signed_in_context(browser, live.url, live.token)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/media")
    form = page.locator("form[data-upload]")
    # choose a clip: it is sent at once, the bar fills, the gallery shows it
    clip = make_clip_bytes(2.0, 160, 120)
    await form.locator("[data-upload-input]").set_input_files(_file("clip.mp4", "video/mp4", clip))
    done = form.locator("[data-upload-done]")
    await page.wait_for_function(
        "() => document.querySelector('[data-upload-done]').textContent.includes('clip.mp4')"
    )
    assert "video" in await done.inner_text()
    assert await form.locator("[data-upload-bar]").get_attribute("style") == "width: 100%;"
    cid = (await done.inner_text()).rsplit(" ", 1)[1]
    await page.wait_for_selector(f'#media-list [data-cid="{cid}"]', timeout=10_000)
    # drag and drop another (the drop zone lights up and takes it)
    await _drop(page, "[data-dropzone]", "dropped.mp4", "video/mp4", make_clip_bytes(1.0, 160, 120))
    await page.wait_for_function(
        "() => document.querySelector('[data-upload-done]').textContent.includes('dropped.mp4')"
    )
    await page.wait_for_selector("#media-list [data-kind=video] >> nth=1")
    # a type the browser knows is not media: refused before sending
    error = form.locator("[data-upload-error]")
    await form.locator("[data-upload-input]").set_input_files(
        _file("notes.txt", "text/plain", b"not a video")
    )
    await error.wait_for(state="visible")
    assert "unsupported type (text/plain)" in await error.inner_text()
    # named like a video but not one: the server refuses it (422), shown inline, nothing kept
    await form.locator("[data-upload-input]").set_input_files(
        _file("fake.mp4", "video/mp4", b"\x00" * 4096)
    )
    await page.wait_for_function(
        "() => document.querySelector('[data-upload-error]').textContent.includes('fake.mp4')"
    )
    assert "is not a video, audio or image file" in await error.inner_text()
    # over the limit: said before sending...
    big = _file("big.mp4", "video/mp4", clip + b"\x00" * (UPLOAD_LIMIT + 200_000 - len(clip)))
    await form.locator("[data-upload-input]").set_input_files(big)
    await page.wait_for_function(
        "() => document.querySelector('[data-upload-error]').textContent.includes('big.mp4')"
    )
    assert "over the upload limit of 1.4 MiB" in await error.inner_text()
    await screenshots(page, "media-upload-errors")
    # ...and by the server when the page's check is bypassed (413 while streaming, inline)
    await page.evaluate("() => { document.querySelector('form[data-upload]').__artdag.max = 0; }")
    await form.locator("[data-upload-input]").set_input_files(big)
    await page.wait_for_function(
        "() => document.querySelector('[data-upload-error]').textContent.includes('big.mp4')"
        " && !document.querySelector('form[data-upload]').hasAttribute('data-uploading')"
    )
    assert "big.mp4: upload larger than the limit of 1500000 bytes" in await error.inner_text()
    # neither the fake nor the big one kept (the session database holds other tests' uploads)
    kept = await live.db.fetch(
        "SELECT source FROM cache_items WHERE source = ANY($1::text[])",
        ["upload:fake.mp4", "upload:big.mp4"],
    )
    assert not kept, kept
    await ctx.close()


async def test_recipe_editor_checks_as_you_type_then_saves(live: LiveServer, browser: Any) -> None:
    ctx = await signed_in_context(browser, live.url, live.token)
    page = await ctx.new_page()
    await page.goto(f"{live.url}/recipes")
    await page.click("a[data-new-recipe]")
    await page.wait_for_url(f"{live.url}/recipe/new")
    editor = page.locator("textarea[data-editor-text]")
    await editor.fill(BAD_RECIPE)
    problem = page.locator("[data-check=problems] [data-line]").first
    await problem.wait_for(timeout=10_000)
    # the CLI's validator: position, message and hint
    assert await problem.get_attribute("data-line") == "12"
    assert await problem.get_attribute("data-column") == "20"
    text = await problem.inner_text()
    assert "12:20" in text and "unknown effect 'huee'" in text and "did you mean 'hue'?" in text
    assert await page.locator(".gutter-bad").inner_text() == "12"
    assert await page.locator("[data-editor-mark]").is_visible()
    # the declared inputs and params are shown even while it does not validate
    summary = await page.locator("[data-editor-summary]").inner_text()
    assert "video · video" in summary and "degrees = 90 [0, 360]" in summary
    await screenshots(page, "recipe-editor-error")
    # clicking the problem puts the cursor there
    await problem.click()
    assert await page.locator("[data-editor-cursor]").inner_text() == "line 12, col 20"
    # fixed as you type: valid
    await editor.press("End")
    await editor.fill(CLIP_RECIPE)
    await page.wait_for_selector("[data-check=ok]", timeout=10_000)
    assert await page.locator(".gutter-bad").count() == 0
    # load a recipe file instead (S-expression twin of a shipped example)
    sexp = (Path(__file__).parents[2] / "recipes" / "effects-chain.sexp").read_text()
    await page.locator("[data-editor-file]").set_input_files(
        _file("effects-chain.sexp", "text/plain", sexp.encode())
    )
    await page.wait_for_function(
        "() => document.querySelector('[data-check=ok]')"
        " && document.querySelector('[data-check=ok]').textContent.includes('effects-chain')"
    )
    assert await editor.input_value() == sexp
    await editor.fill(CLIP_RECIPE)
    await page.wait_for_function(
        "() => (document.querySelector('[data-check=ok]') || {textContent: ''})"
        ".textContent.includes('web-clip')"
    )
    await screenshots(page, "recipe-editor-valid")
    # save: boosted by htmx (no page load), on to the stored recipe
    await page.evaluate("() => { window.__stayed = 1; }")
    await page.click("[data-editor-save]")
    expected = check_recipe(CLIP_RECIPE).recipe_id
    await page.wait_for_url(f"{live.url}/recipe/{expected}", timeout=10_000)
    assert await page.evaluate(BOOSTED)
    stored = (await live.client.get(f"/recipes/{expected}")).json()
    assert stored["name"] == "web-clip" and stored["owner"] == "tester"
    await ctx.close()


async def test_run_form_picks_inputs_from_the_library_and_the_run_plays(
    live: LiveServer, browser: Any, tmp_path: Path
) -> None:
    clip_cid = await _upload_clip(live, 4.0)
    wav = write_wav(tmp_path / "tone.wav", np.zeros(4800, np.float32), 48000).read_bytes()
    audio = await live.client.post("/cache/upload", files={"file": ("tone.wav", wav)})
    assert audio.status_code == 201 and audio.json()["kind"] == "audio"
    recipe_id = await _store_recipe(live, CLIP_RECIPE)
    ctx = await signed_in_context(browser, live.url, live.token)
    page = await ctx.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{live.url}/recipe/{recipe_id}")
    select = page.locator('select[name="inputs.video"]')
    offered = await select.locator("option").evaluate_all("els => els.map(e => e.value)")
    assert clip_cid in offered and audio.json()["cid"] not in offered  # video items only
    assert await page.locator('input[name="params.degrees"]').input_value() == "90"
    # a param out of its declared range: the problem at the field, the address unchanged
    await select.select_option(clip_cid)
    await page.fill('input[name="params.degrees"]', "400")
    await page.evaluate(
        "() => document.querySelector('input[name=\"params.degrees\"]').removeAttribute('max')"
    )
    await page.click("#run-form button[type=submit]")
    bad = page.locator('[data-field-error="params.degrees"]')
    await bad.wait_for(timeout=10_000)
    assert "out of range 0..360" in await bad.inner_text()
    assert page.url == f"{live.url}/recipe/{recipe_id}"
    assert await select.input_value() == clip_cid  # what was chosen is kept
    await screenshots(page, "recipe-run-form-error")
    # good values: on to the run page, which plays it
    await page.fill('input[name="params.degrees"]', "180")
    await page.fill('input[name="pace"]', "1")
    await page.evaluate("() => { window.__stayed = 1; }")
    await page.click("#run-form button[type=submit]")
    await page.wait_for_url(f"{live.url}/run/*", timeout=15_000)
    assert await page.evaluate(BOOSTED)
    run_id = page.url.rsplit("/", 1)[1]
    run = (await live.client.get(f"/api/run/{run_id}")).json()
    assert run["inputs"] == {"video": clip_cid} and run["params"] == {"degrees": 180.0}
    await page.wait_for_function(
        "() => Number(document.querySelector('video[data-hls-player]')"
        ".getAttribute('data-fragments') || 0) > 0",
        timeout=60_000,
    )
    await page.wait_for_function(
        "() => document.querySelector('video[data-hls-player]').currentTime > 0.2",
        timeout=30_000,
    )
    await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed", "cancelled"))
    await page.goto(f"{live.url}/run/{run_id}")
    await screenshots(page, "run-page")
    # delete it from its page: asked in a dialog, then on to the runs list without it
    await page.click("#run-status form[data-action=delete] button")
    await page.wait_for_url(f"{live.url}/runs", timeout=15_000)
    assert await page.locator(f'[data-run="{run_id}"]').count() == 0
    assert (await live.client.get(f"/api/run/{run_id}")).status_code == 404
    await ctx.close()


async def test_runs_list_cancels_and_deletes_with_htmx(live: LiveServer, browser: Any) -> None:
    resp = await live.client.post("/runs", json={"recipe": live_recipe(60.0), "pace": 1.0})
    run_id = resp.json()["run_id"]
    await live.wait_run(run_id, lambda r: r["status"] == "running")
    ctx = await signed_in_context(browser, live.url, live.token)
    page = await ctx.new_page()
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    await page.goto(f"{live.url}/runs")
    row = page.locator(f'tr[data-run="{run_id}"]')
    await row.locator("form[data-action=cancel] button").click()
    await page.wait_for_selector(
        f'tr[data-run="{run_id}"] [data-field="status"]:text("cancelled")', timeout=20_000
    )
    assert asked and asked[0].startswith(f"Cancel run {run_id[:8]}")
    await screenshots(page, "runs")
    await row.locator("form[data-action=delete] button").click()
    await page.wait_for_selector(f'tr[data-run="{run_id}"]', state="detached", timeout=20_000)
    assert (await live.client.get(f"/api/run/{run_id}")).status_code == 404
    await ctx.close()


async def test_forms_work_without_javascript(live: LiveServer, browser: Any) -> None:
    ctx = await signed_in_context(browser, live.url, live.token, java_script_enabled=False)
    page = await ctx.new_page()
    # upload: a plain multipart post, then the media page says what was stored
    await page.goto(f"{live.url}/media")
    clip = make_clip_bytes(3.0, 160, 120)
    await page.locator("[data-upload-input]").set_input_files(_file("nojs.mp4", "video/mp4", clip))
    await page.click("[data-upload-submit]")
    await page.wait_for_url(f"{live.url}/media?uploaded=*")
    cid = page.url.split("uploaded=", 1)[1]
    assert await page.locator(f'#media-list [data-cid="{cid}"]').count() == 1
    assert "Uploaded" in await page.locator("[data-upload-done]").inner_text()
    await page.locator("[data-upload-input]").set_input_files(
        _file("notes.txt", "text/plain", b"just text")
    )
    await page.click("[data-upload-submit]")
    await page.wait_for_selector("[data-upload-error]:not(.hidden)")
    assert "unsupported type" in await page.locator("[data-upload-error]").inner_text()
    # the editor: Check shows the problem with its position; Save stores the fixed recipe
    await page.goto(f"{live.url}/recipe/new")
    await page.fill("textarea[data-editor-text]", BAD_RECIPE)
    await page.click("button[value=check]")
    await page.wait_for_selector("[data-check=problems]")
    problem = await page.locator("[data-check=problems] li").inner_text()
    assert "12:20" in problem and "did you mean 'hue'?" in problem
    assert await page.locator("textarea[data-editor-text]").input_value() == BAD_RECIPE
    await page.fill("textarea[data-editor-text]", CLIP_RECIPE)
    await page.click("[data-editor-save]")
    recipe_id = check_recipe(CLIP_RECIPE).recipe_id
    await page.wait_for_url(f"{live.url}/recipe/{recipe_id}")
    # the run form: the clip from the library, then the run page
    await page.select_option('select[name="inputs.video"]', cid)
    await page.fill('input[name="duration"]', "1")
    await page.click("#run-form button[type=submit]")
    await page.wait_for_url(f"{live.url}/run/*")
    run_id = page.url.rsplit("/", 1)[1]
    await live.wait_run(run_id, lambda r: r["status"] in ("completed", "failed", "cancelled"))
    # delete: a confirmation page first, then the runs list
    await page.goto(f"{live.url}/run/{run_id}")
    await page.click("#run-status form[data-action=delete] button")
    await page.wait_for_selector("[data-confirm]")
    await screenshots(page, "confirm-delete-run")
    await page.click("[data-confirm] button[type=submit]")
    await page.wait_for_url(f"{live.url}/runs")
    assert (await live.client.get(f"/api/run/{run_id}")).status_code == 404
    # the pages a reviewer looks at, signed in
    await page.goto(f"{live.url}/media")
    await screenshots(page, "media")
    await page.goto(f"{live.url}/recipes")
    await screenshots(page, "recipes")
    await page.goto(f"{live.url}/recipe/{recipe_id}")
    await screenshots(page, "recipe")
    await page.goto(f"{live.url}/")
    await screenshots(page, "home")
    await ctx.close()
