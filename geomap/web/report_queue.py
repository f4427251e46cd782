"""The team's report queue page (``/reports/queue``): the reports of the signed-in volunteer's team
(every report for an administrator) with buttons to acknowledge, start, fix, close or reject them,
posted as same-origin forms like the labels page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from geomap.api.deps import EngineDep, SettingsDep, written
from geomap.api.routes.reports import wake_webhooks
from geomap.auth import Principal
from geomap.errors import Conflict, InvalidInput
from geomap.reports import handling, queries
from geomap.web import report_views
from geomap.web.i18n import pick_lang, translator
from geomap.web.orchard_pages import require_same_origin
from geomap.web.pages import PagePrincipal, PageReadEngine, PageRoute, ctx, html, kept_lang
from geomap.web.report_strings import STATE_NAMES

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _queue_page(request: Request, engine, principal: Principal, all_states: bool, done: str = "",
                problem: tuple[str, str] | None = None, status: int = 200, done_id: str = "") -> Response:
    lang = pick_lang(request)
    with engine.connect() as conn:
        reports = queries.team_queue(conn, principal, active_only=not all_states)
    t = translator(lang)
    context = ctx(request, principal, rows=report_views.queue_rows(reports, lang), all_states=all_states,
                  done=t("queue_done", state=t(f"state_{done}")) if done in STATE_NAMES else "",
                  done_id=done_id, problem=problem)
    response = html(request, "report_queue.html", context, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.get("/reports/queue", response_class=HTMLResponse)
def queue(request: Request, engine: PageReadEngine, principal: PagePrincipal, all: int = 0, done: str = "",
          id: str = "") -> Response:
    """The team's reports, oldest open first, with the reporters' contacts (this team only);
    ``done``/``id``: the change just made, said on that report's card."""
    return _queue_page(request, engine, principal, bool(all), done, done_id=id[:64])


@router.post("/reports/{report_id}/state", response_class=HTMLResponse)
def change_state(report_id: str, request: Request, engine: EngineDep, settings: SettingsDep, principal: PagePrincipal,
                 state: Annotated[str, Form()] = "",
                 public_reason: Annotated[str, Form()] = "",
                 all: Annotated[int, Form()] = 0) -> Response:
    """Move a report to ``state`` (with the public reason), then back to the queue."""
    require_same_origin(request, settings.public_url)
    t = translator(pick_lang(request))
    try:
        with engine.begin() as conn:
            handled = handling.transition(conn, report_id, state, principal, public_reason or None)
    except InvalidInput as exc:
        reason = t("queue_reason_needed") if any(p.field == "public_reason" for p in exc.problems) else t("err_other")
        return _queue_page(request, engine, principal, bool(all), problem=(report_id, reason), status=422)
    except Conflict:
        return _queue_page(request, engine, principal, bool(all), problem=(report_id, t("queue_not_allowed")), status=409)
    wake_webhooks(request)
    if handled.changed_layer:
        request.app.state.tile_cache.forget_version(handled.changed_layer)
    params = {"done": state, "id": handled.report["id"], **({"all": 1} if all else {}), **kept_lang(request)}
    target = f"/reports/queue?{urlencode(params)}#r-{handled.report['id']}"
    return written(request, principal, RedirectResponse(target, status_code=303))
