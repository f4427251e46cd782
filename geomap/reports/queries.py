"""Reading reports: one (public, by follow token, for its team), many (public filters), a team's queue.

Public reads return only reports marked ``visible`` and never select the reporter's contact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.reports.categories import find_category
from geomap.reports.handling import may_handle
from geomap.reports.submission import is_uuid
from geomap.reports.views import ACTIVE_STATES, COLUMNS, PRIVATE_COLUMNS, STATE_LABELS, follower_view, load
from geomap.services.permissions import require_signed_in
from geomap.sql import in_box_sql

MAX_LIMIT = 500


@dataclass(frozen=True)
class ReportFilters:
    """Filters of :func:`list_reports` (all optional). ``states``: e.g. ("open",), or the Open311
    statuses' meaning via ``active`` (True: open/acknowledged/in_progress; False: the final ones)."""

    category: str | None = None  # <layer>.<category>
    layer: str | None = None
    states: tuple[str, ...] = ()
    active: bool | None = None
    asset_code: str | None = None
    asset_id: str | None = None
    ids: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    updated_since: dt.datetime | None = None  # e.g. the asset page's "fixed in the last 30 days"
    team_code: str | None = None
    limit: int = 100
    offset: int = 0


def _one(conn: Connection, where: str, params: dict, private: bool = False):
    cols = f"{COLUMNS}, {PRIVATE_COLUMNS}" if private else COLUMNS
    return conn.execute(text(f"SELECT {cols} FROM reports r WHERE {where}"), params).mappings().first()


def get_report_public(conn: Connection, report_id: str) -> dict:
    """A public report (NotFound when unknown or not published yet)."""
    row = _one(conn, "r.id = CAST(:id AS uuid) AND r.visible", {"id": report_id}) if is_uuid(report_id) else None
    if row is None:
        raise NotFound(f"no public report has id {report_id}")
    return load(conn, row)


def get_report_by_follow_token(conn: Connection, token: str) -> dict:
    """The report a follow link names, published or not — its public view (never the contact). A
    "me too" reporter's link (``report_followers``) reads its text and photos once published."""
    if not token or len(token) > 64:
        raise NotFound("no report has this follow link")
    row = _one(conn, "r.follow_token = :t", {"t": token})
    if row is not None:
        return load(conn, row)
    row = _one(conn, "r.id = (SELECT report_id FROM report_followers WHERE token = :t)", {"t": token})
    if row is None:
        raise NotFound("no report has this follow link")
    return follower_view(load(conn, row), row["visible"])


def get_report_for(conn: Connection, report_id: str, principal: Principal) -> dict:
    """A report as ``principal`` may read it: the team view (contact included) for its owning
    teams and administrators, else the public view of a published report."""
    if principal.role != "public":
        row = _one(conn, "r.id = CAST(:id AS uuid)", {"id": report_id}, private=True) if is_uuid(report_id) else None
        if row is not None and may_handle(principal, row["team_codes"]):
            return load(conn, row, team=True)
    return get_report_public(conn, report_id)


def _where(filters: ReportFilters, public: bool) -> tuple[list[str], dict]:
    where, params = (["r.visible"] if public else []), {}
    if filters.category:
        found = find_category(filters.category)
        if found is None:
            raise InvalidInput([FieldProblem("category", f"{filters.category[:80]!r} is not a report category")])
        where.append("r.layer = :layer AND r.category = :cat")
        params.update(layer=found.layer.name, cat=found.category.code)
    elif filters.layer:
        where.append("r.layer = :layer")
        params["layer"] = filters.layer
    bad = [s for s in filters.states if s not in STATE_LABELS]
    if bad:
        raise InvalidInput([FieldProblem("state", f"{bad[0][:40]!r} is not one of {', '.join(STATE_LABELS)}")])
    if filters.states:
        where.append("r.state = ANY(:states)")
        params["states"] = list(filters.states)
    if filters.active is not None:
        where.append(("" if filters.active else "NOT ") + "(r.state = ANY(:active_states))")
        params["active_states"] = list(ACTIVE_STATES)
    _more_where(filters, where, params)
    return where, params


def _more_where(filters: ReportFilters, where: list[str], params: dict) -> None:
    if filters.asset_code:
        where.append("lower(r.asset_code) = lower(:code)")
        params["code"] = filters.asset_code
    if filters.asset_id:
        where.append("r.asset_id::text = :asset")
        params["asset"] = filters.asset_id
    if filters.ids:
        where.append("r.id::text = ANY(:ids)")
        params["ids"] = list(filters.ids)
    if filters.bbox:
        where.append(in_box_sql(":x0", ":y0", ":x1", ":y1", column="r.geom"))
        params.update(zip(("x0", "y0", "x1", "y1"), filters.bbox))
    if filters.start:
        where.append("r.created_at >= :start")
        params["start"] = filters.start
    if filters.end:
        where.append("r.created_at <= :end")
        params["end"] = filters.end
    if filters.updated_since:
        where.append("r.updated_at >= :updated_since")
        params["updated_since"] = filters.updated_since
    if filters.team_code:
        where.append(":team = ANY(r.team_codes)")
        params["team"] = filters.team_code


def list_reports(conn: Connection, filters: ReportFilters = ReportFilters(), public: bool = True) -> list[dict]:
    """Reports matching ``filters``, newest first. ``public=True``: published reports, public view
    (for pages, the API and Open311); ``public=False``: every report, team view with contacts —
    only for callers that checked the reader may see them (see :func:`team_queue`)."""
    where, params = _where(filters, public)
    params.update(limit=max(1, min(filters.limit, MAX_LIMIT)), offset=max(0, filters.offset))
    cols = COLUMNS if public else f"{COLUMNS}, {PRIVATE_COLUMNS}"
    rows = conn.execute(text(
        f"SELECT {cols} FROM reports r WHERE {' AND '.join(where) or 'TRUE'} "
        "ORDER BY r.created_at DESC, r.id LIMIT :limit OFFSET :offset"), params).mappings().all()
    return [load(conn, row, team=not public) for row in rows]


def team_queue(conn: Connection, account: Principal, active_only: bool = True, limit: int = 200) -> list[dict]:
    """The reports the account's team owns (an administrator: all), oldest active first, with
    the reporter's contact — the team's work queue (field app "my work", the team page)."""
    require_signed_in(account)
    if not account.is_admin and (account.role != "volunteer" or not account.team_code):
        raise Forbidden("the report queue is for volunteers of a team and administrators")
    filters = ReportFilters(team_code=None if account.is_admin else account.team_code,
                            active=True if active_only else None, limit=limit)
    reports = list_reports(conn, filters, public=False)
    order = {s: i for i, s in enumerate(STATE_LABELS)}
    return sorted(reports, key=lambda r: (order[r["state"]], r["created_at"]))
