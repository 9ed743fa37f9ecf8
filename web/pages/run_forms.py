"""The run buttons: cancel and delete, asked first (an htmx dialog, else a confirmation page).

Both answer ``303`` to ``next`` (a path on this site) when done, and the
confirmation page with the problem inline when not.
"""

from __future__ import annotations

from typing import Annotated

from litestar import post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from streamer.errors import DomainError
from streamer.present.deps import Res
from streamer.present.problems import problem_of
from streamer.runs.service import cancel_run, delete_run
from web.forms import ConfirmForm
from web.pages.common import confirm_page, safe_next, see_other

__all__ = ["RUN_FORM_HANDLERS", "cancel_run_form", "delete_run_form"]

UrlEncoded = Body(media_type=RequestEncodingType.URL_ENCODED)


def _ask(
    run_id: str, verb: str, question: str, form: ConfirmForm, exc: DomainError | None = None
) -> Template:
    return confirm_page(
        title=f"{verb.capitalize()} run",
        question=question,
        action=f"/web/run/{run_id}/{verb}",
        button=f"{verb.capitalize()} run",
        back=(f"/run/{run_id}", "Back to the run"),
        next_path=form.next,
        problem=problem_of(exc) if exc else None,
        nav="runs",
    )


@post("/web/run/{run_id:str}/cancel", include_in_schema=False, name="web:run-cancel")
async def cancel_run_form(
    res: Res, run_id: FromPath[str], data: Annotated[ConfirmForm, UrlEncoded]
) -> Template | Redirect:
    """Stop a pending or running render once confirmed; back to ``next`` (the run page)."""
    question = f"Cancel run {run_id[:8]}? The segments rendered so far stay playable."
    if not data.is_confirmed:
        return _ask(run_id, "cancel", question, data)
    try:
        await cancel_run(res, run_id)
    except DomainError as exc:
        return _ask(run_id, "cancel", question, data, exc)
    return see_other(safe_next(data.next, f"/run/{run_id}"))


@post("/web/run/{run_id:str}/delete", include_in_schema=False, name="web:run-delete")
async def delete_run_form(
    res: Res, run_id: FromPath[str], data: Annotated[ConfirmForm, UrlEncoded]
) -> Template | Redirect:
    """Delete a run (cancelled first when active) once confirmed; on to ``next`` (``/runs``)."""
    question = f"Delete run {run_id[:8]}? It is cancelled if active, and its HLS files removed."
    if not data.is_confirmed:
        return _ask(run_id, "delete", question, data)
    try:
        await delete_run(res, run_id)
    except DomainError as exc:
        return _ask(run_id, "delete", question, data, exc)
    after = safe_next(data.next, "/runs")
    return see_other("/runs" if after.startswith(f"/run/{run_id}") else after)


RUN_FORM_HANDLERS = [cancel_run_form, delete_run_form]
