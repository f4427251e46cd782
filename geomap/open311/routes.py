"""Open311 GeoReport v2 endpoints (``/open311/v2/…``), thin over :mod:`geomap.reports`.

``services.{json|xml}``, ``services/{service_code}.{fmt}``, ``requests.{fmt}`` (GET with
``service_request_id``, ``service_code``, ``status``, ``start_date``, ``end_date``; POST with
``service_code``, ``lat``/``long`` and/or ``attribute[asset_code]``, ``description``,
``media_url`` or an uploaded ``media`` file, and the private ``email``/``phone``/``first_name``/
``last_name``), ``requests/{id}.{fmt}``, ``tokens/{token}.{fmt}`` and ``discovery.{fmt}``.
``jurisdiction_id`` and ``api_key`` are accepted (geomap serves one jurisdiction and needs no key).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from geomap.errors import NotFound
from geomap.open311 import mapping
from geomap.open311.formats import field_error, render
from geomap.reports import queries

router = APIRouter(prefix="/v2")
SPEC = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_DAYS = 90


def checked_format(fmt: str) -> str:
    """``json`` or ``xml``, else NotFound."""
    if fmt not in ("json", "xml"):
        raise NotFound(f"format {fmt[:10]!r} is not served; use .json or .xml")
    return fmt


def parent_state(request: Request):
    """The state of the app /open311 is mounted in (engine, settings, webhook worker)."""
    return request.app.state.parent.state


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str) -> Response:
    """Where this endpoint is and what it speaks."""
    base = parent_state(request).settings.public_url.rstrip("/") + "/open311/v2"
    data = {"changeset": "2026-11-23T00:00:00Z", "contact": "Tổ công nghệ số cộng đồng — geomap",
            "key_service": "No API key is needed.",
            "endpoints": [{"specification": SPEC, "url": base, "changeset": "2026-11-23T00:00:00Z", "type": "production",
                           "formats": ["application/json", "text/xml"]}]}
    return render("discovery", data, checked_format(fmt))


@router.get("/services.{fmt}")
def service_list(fmt: str) -> Response:
    """One service per report category of each layer."""
    return render("services", mapping.services(), checked_format(fmt))


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str) -> Response:
    """The attributes of a service (the optional asset code)."""
    found = mapping.find_service(service_code)
    if found is None:
        raise NotFound(f"no service has service_code {service_code[:80]!r}")
    return render("service_definition", mapping.definition(found), checked_format(fmt))


def _when(value: str | None, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise field_error(field, "is not a w3c date-time (2026-11-23T08:00:00+07:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _filters(params) -> queries.ReportFilters:
    ids = tuple(i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip())
    statuses = [s.strip() for s in (params.get("status") or "").split(",") if s.strip()]
    bad = [s for s in statuses if s not in mapping.STATES_OF]
    if bad:
        raise field_error("status", f"{bad[0][:20]!r} is not open or closed")
    code = params.get("service_code")
    if code and mapping.find_service(code) is None:
        raise field_error("service_code", f"{code[:80]!r} is not a service")
    start, end = _when(params.get("start_date"), "start_date"), _when(params.get("end_date"), "end_date")
    if start is None and not ids:
        start = (end or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=DEFAULT_DAYS)
    states = tuple(s for st in statuses for s in mapping.STATES_OF[st])
    return queries.ReportFilters(category=code, states=states, ids=ids, start=start, end=end, limit=500)


@router.get("/requests.{fmt}")
def request_list(request: Request, fmt: str) -> Response:
    """Published requests, newest first (by default those of the last 90 days)."""
    fmt = checked_format(fmt)
    filters = _filters(request.query_params)
    with parent_state(request).engine.connect() as conn:
        reports = queries.list_reports(conn, filters)
    base = parent_state(request).settings.public_url
    return render("requests", [mapping.request(r, base) for r in reports], fmt)


@router.get("/requests/{request_id}.{fmt}")
def request_one(request: Request, request_id: str, fmt: str) -> Response:
    """One published request (as a list of one, as the spec says)."""
    fmt = checked_format(fmt)
    with parent_state(request).engine.connect() as conn:
        report = queries.get_report_public(conn, request_id)
    return render("requests", [mapping.request(report, parent_state(request).settings.public_url)], fmt)


@router.get("/tokens/{token}.{fmt}")
def token_lookup(request: Request, token: str, fmt: str) -> Response:
    """The request id behind a token a POST returned."""
    fmt = checked_format(fmt)
    with parent_state(request).engine.connect() as conn:
        report = queries.get_report_by_follow_token(conn, token)
    return render("requests", [{"service_request_id": report["id"], "token": token}], fmt)
