"""The recipe forms: save a recipe from the editor, start a run of it, delete it.

Each answers ``303`` to the next page when done, and the page again with the
problem inline when not (:func:`web.pages.common.form_page`), so the forms
work boosted by htmx and without JavaScript alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from cache.errors import StorageError
from interpreter.errors import InterpreterError
from streamer.content import items
from streamer.errors import DomainError
from streamer.present.deps import Res
from streamer.present.problems import problem_of
from streamer.present.session import current_user
from streamer.recipes import catalog
from streamer.recipes.check import check_recipe_text
from streamer.recipes.store import MAX_RECIPE_BYTES
from streamer.resources import Resources
from streamer.runs.service import start_run
from web.forms import ConfirmForm, RecipeForm, RunForm
from web.pages.common import confirm_page, form_page, problem_text, safe_next, see_other
from web.pages.recipe import editor_context, missing_recipe, recipe_page_context

__all__ = ["RECIPE_FORM_HANDLERS", "delete_recipe_form", "run_recipe_form", "save_recipe_form"]

Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
UrlEncoded = Body(media_type=RequestEncodingType.URL_ENCODED)


async def _text_of(form: RecipeForm) -> tuple[str, str, str | None]:
    """(text, file name, problem): a file with content wins over the editor's text."""
    text, filename = form.recipe, form.filename
    if form.file is not None and form.file.filename:
        data = await form.file.read(MAX_RECIPE_BYTES + 1)
        if data:
            if len(data) > MAX_RECIPE_BYTES:
                return "", form.file.filename, f"the file is larger than {MAX_RECIPE_BYTES} bytes"
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return "", form.file.filename, f"the file is not UTF-8 text (byte {exc.start})"
            filename = form.file.filename
    text = text.replace("\r\n", "\n")  # browsers send a textarea's lines with CRLF
    if len(text.encode()) > MAX_RECIPE_BYTES:
        return "", filename, f"the recipe is larger than {MAX_RECIPE_BYTES} bytes"
    if not text.strip():
        return text, filename, "the recipe is empty: type or paste one, or choose a file"
    return text, filename, None


@post(
    "/web/recipes/upload",
    include_in_schema=False,
    name="web:recipe-save",
    request_max_body_size=2 * MAX_RECIPE_BYTES + (64 << 10),
)
async def save_recipe_form(
    res: Res, request: Request[Any, Any, Any], data: Annotated[RecipeForm, Multipart]
) -> Template | Redirect:
    """Check (``op=check``) or validate and store (``op=save``) the editor's recipe."""
    text, filename, problem = await _text_of(data)
    if problem:
        return form_page("recipe_new.html", editor_context(text, filename, error=problem), 422)
    check = await check_recipe_text(text, filename or "<recipe>")
    if data.op == "check" or not check.ok:
        status = 200 if check.ok else 422
        return form_page("recipe_new.html", editor_context(text, filename, check), status)
    try:
        row, _ = await catalog.add_recipe(
            res.db, text, filename or "recipe", owner=current_user(request)
        )
    except (DomainError, InterpreterError) as exc:
        found = problem_of(exc)
        assert found is not None
        context = editor_context(text, filename, check, error=problem_text(found))
        return form_page("recipe_new.html", context, found.status)
    return see_other(f"/recipe/{row['id']}")


async def _start(
    res: Resources, request: Request[Any, Any, Any], recipe_id: str, form: RunForm
) -> tuple[str | None, int]:
    """(the new run's id, 201) or (None, the status of the refusal recorded on ``form``)."""
    for name, cid in form.inputs.items():  # the form offers what the media library holds
        try:
            await items.find(res, cid)
        except DomainError as exc:
            form.errors[f"inputs.{name}"] = exc.detail
    if form.errors:
        return None, 422
    try:
        run = await start_run(res, form.spec(recipe_id), owner=current_user(request))
    except (DomainError, InterpreterError, StorageError) as exc:
        found = problem_of(exc)
        assert found is not None
        form.refuse(problem_text(found), found.field)
        return None, found.status
    return str(run["id"]), 201


@post("/web/recipes/{recipe_id:str}/run", include_in_schema=False, name="web:recipe-run")
async def run_recipe_form(
    res: Res,
    request: Request[Any, Any, Any],
    recipe_id: FromPath[str],
    data: Annotated[dict[str, Any], UrlEncoded],
) -> Template | Redirect:
    """Start a run of a stored recipe from its page's form; on to the run page."""
    context = await recipe_page_context(res, recipe_id)
    if context is None:
        return missing_recipe(recipe_id)
    recipe = context["recipe"]
    form = context["form"] = RunForm() if recipe is None else RunForm.parse(data, recipe)
    if recipe is None:
        form.error = "the stored recipe cannot be loaded any more: " + str(context["error"])
        return form_page("recipe.html", context, 422)
    if form.errors:
        return form_page("recipe.html", context, 422)
    run_id, status = await _start(res, request, recipe_id, form)
    if run_id is None:
        return form_page("recipe.html", context, status)
    return see_other(f"/run/{run_id}")


@post("/web/recipes/{recipe_id:str}/delete", include_in_schema=False, name="web:recipe-delete")
async def delete_recipe_form(
    res: Res, recipe_id: FromPath[str], data: Annotated[ConfirmForm, UrlEncoded]
) -> Template | Redirect:
    """Delete a recipe once confirmed (409 inline while a run of it is active)."""

    def ask(exc: Exception | None = None) -> Template:
        return confirm_page(
            title="Delete recipe",
            question=f"Delete recipe {recipe_id[:12]}…? Its past runs stay in the list.",
            action=f"/web/recipes/{recipe_id}/delete",
            button="Delete recipe",
            back=(f"/recipe/{recipe_id}", "Keep it"),
            next_path=data.next,
            problem=problem_of(exc) if exc else None,
            nav="recipes",
        )

    if not data.is_confirmed:
        return ask()
    try:
        await catalog.delete_recipe(res.db, recipe_id)
    except DomainError as exc:
        return ask(exc)
    return see_other(safe_next(data.next, "/recipes"))


RECIPE_FORM_HANDLERS = [save_recipe_form, run_recipe_form, delete_recipe_form]
