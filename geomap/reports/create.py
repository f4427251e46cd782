"""Creating a report: one transaction that checks the input, answers retries (client id),
applies the per-address and per-device limits, folds duplicates into "me too", and writes the
report, its history and its webhook deliveries — or nothing at all."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, text

from geomap.errors import Conflict, TooManyRequests
from geomap.reports import webhooks
from geomap.reports.submission import Checked, ReportInput, check_input
from geomap.reports.views import ACTIVE_STATES, COLUMNS, STATE_LABELS, follower_view, load

Outcome = Literal["created", "replayed", "me_too"]
WINDOW_S = 3600
LOCK_CELL_M = 100.0
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0  # at the equator


@dataclass(frozen=True)
class Limits:
    """How many reports (and "me too"s) one address and one device may send per hour."""

    per_addr_per_hour: int = 20
    per_device_per_hour: int = 10


@dataclass(frozen=True)
class Created:
    """What :func:`create_report` did: ``created`` (201), ``replayed`` (a retry of the same
    client id: 200) or ``me_too`` (an open report of the same problem exists: 200, its
    ``interest_count`` went up). ``report`` is the public view; ``follow_token`` opens the
    follow page (``/r/<token>``) even before the report is public."""

    report: dict
    follow_token: str
    outcome: Outcome


def _lock(conn: Connection, key: str) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _replay(conn: Connection, data: ReportInput) -> Created | None:
    if not data.client_id:
        return None
    _lock(conn, "report-client:" + data.client_id)
    row = conn.execute(text(f"SELECT {COLUMNS}, r.request_hash, r.follow_token FROM reports r WHERE r.client_id = :c"),
                       {"c": data.client_id}).mappings().first()
    if row is None:
        return None
    if row["request_hash"] != data.request_hash():
        raise Conflict("this client_id (Idempotency-Key) was already used for a different report; use a new one",
                       {"errors": [{"field": "client_id", "reason": "already used for a different report"}]})
    return Created(load(conn, row), row["follow_token"], "replayed")


def _check_rate(conn: Connection, column: str, value: str | None, limit: int, field: str | None) -> None:
    if not value:
        return
    _lock(conn, f"report-{column}:{value}")
    row = conn.execute(text(
        f"SELECT count(*) AS n, min(at) AS first FROM report_history WHERE {column} = :v "
        "AND action IN ('create', 'me_too') AND at > now() - make_interval(secs => :w)"), {"v": value, "w": WINDOW_S}).first()
    if row.n >= limit:
        wait = conn.execute(text("SELECT GREATEST(1, ceil(:w - extract(epoch FROM now() - :f)))::int"),
                            {"w": WINDOW_S, "f": row.first}).scalar_one()
        who = "address" if field is None else "device"
        raise TooManyRequests(f"too many reports from this {who} in the last hour (at most {limit}); "
                              f"retry after {wait} s", retry_after=wait, field=field)


def _lock_nearby(conn: Connection, checked: Checked) -> None:
    """Two citizens reporting the same problem at the same moment must not both make a report:
    lock the grid cells within the category's radius (cells at least twice the radius wide, so
    four corners reach every cell), and the asset, in a fixed order."""
    cat = checked.category
    radius = cat.category.duplicate_radius_m
    cell = max(LOCK_CELL_M, 2 * radius)
    lon_m = M_PER_DEG_LON * max(0.1, math.cos(math.radians(checked.lat)))
    cells = sorted({(math.floor((checked.lon * lon_m + dx) / cell), math.floor((checked.lat * M_PER_DEG_LAT + dy) / cell))
                    for dx in (-radius, radius) for dy in (-radius, radius)})
    keys = [f"report-dup:{cat.code}:{cell:g}:{cx}:{cy}" for cx, cy in cells]
    if checked.asset is not None:
        keys.insert(0, f"report-dup:{cat.code}:{checked.asset['id']}")
    conn.execute(text("SELECT count(pg_advisory_xact_lock(hashtext(k.key))) FROM "
                      "(SELECT key FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(key, n) ORDER BY n) k"),
                 {"keys": keys})


def _duplicate(conn: Connection, checked: Checked):
    _lock_nearby(conn, checked)
    return open_duplicate(conn, checked)


def open_duplicate(conn: Connection, checked: Checked):
    """The open report a new report would join ("me too"), or None: same category, and the same
    asset, or (a report by point) within the category's radius. Reads only."""
    cat = checked.category
    near = ("r.asset_id = CAST(:asset AS uuid)" if checked.asset is not None else
            "ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)")
    return conn.execute(text(
        f"SELECT {COLUMNS}, r.follow_token FROM reports r WHERE r.layer = :layer AND r.category = :cat "
        f"AND r.state = ANY(:active) AND {near} "
        "ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), r.created_at LIMIT 1"
    ), {
        "layer": cat.layer.name, "cat": cat.category.code, "active": list(ACTIVE_STATES),
        "asset": checked.asset["id"] if checked.asset else None, "lon": checked.lon, "lat": checked.lat,
        "radius": cat.category.duplicate_radius_m,
    }).mappings().first()


def _me_too(conn: Connection, row, data: ReportInput, fields: dict) -> Created:
    """Count one more reporter of ``row`` (once per device) and give them a follow link of their own:
    the first reporter's would show them that reporter's unpublished text and take their photos.
    What they wrote and their contact (``fields``) are kept for the owning team."""
    already = data.device_id and conn.execute(text(
        "SELECT 1 FROM report_history WHERE report_id = :r AND device_id = :d AND action IN ('create', 'me_too')"),
        {"r": row["id"], "d": data.device_id}).first()
    if not already:
        conn.execute(text("UPDATE reports SET interest_count = interest_count + 1 WHERE id = :r"), {"r": row["id"]})
    conn.execute(text("INSERT INTO report_history (report_id, action, actor, client_addr, device_id) "
                      "VALUES (:r, 'me_too', 'citizen', :a, :d)"),
                 {"r": row["id"], "a": data.client_addr, "d": data.device_id})
    said = {k: fields.get(k) for k in ("description", "reporter_name", "reporter_phone", "reporter_email")}
    token = data.device_id and conn.execute(text(
        "UPDATE report_followers SET description = coalesce(:description, description), "
        "reporter_name = coalesce(:reporter_name, reporter_name), reporter_phone = coalesce(:reporter_phone, reporter_phone), "
        "reporter_email = coalesce(:reporter_email, reporter_email) WHERE report_id = :r AND device_id = :d RETURNING token"),
        {"r": row["id"], "d": data.device_id, **said}).scalar()
    if not token:
        token = secrets.token_urlsafe(24)
        conn.execute(text("INSERT INTO report_followers (token, report_id, device_id, description, reporter_name, reporter_phone, "
                          "reporter_email) VALUES (:t, :r, :d, :description, :reporter_name, :reporter_phone, :reporter_email)"),
                     {"t": token, "r": row["id"], "d": data.device_id, **said})
    fresh = conn.execute(text(f"SELECT {COLUMNS} FROM reports r WHERE r.id = :r"), {"r": row["id"]}).mappings().one()
    return Created(follower_view(load(conn, fresh), fresh["visible"]), token, "me_too")


def _owning_teams(conn: Connection, checked: Checked) -> tuple[list[str], bool]:
    """Teams whose working area covers the asset (or point) and that tag its layer, plus the team
    that tagged the asset; and whether one of them publishes reports without a check."""
    rows = conn.execute(text(
        "SELECT t.code, coalesce(s.auto_publish, false) AS auto FROM teams t "
        "LEFT JOIN team_report_settings s ON s.team_code = t.code "
        "WHERE (t.area IS NOT NULL AND :layer = ANY(t.layers) AND ST_Intersects(t.area, "
        "  coalesce(ST_GeomFromEWKB(:ewkb), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)))) OR t.code = :tagged "
        "ORDER BY t.code"), {
        "layer": checked.category.layer.name, "ewkb": checked.asset["ewkb"] if checked.asset else None,
        "lon": checked.lon, "lat": checked.lat, "tagged": checked.asset["team_code"] if checked.asset else None,
    }).all()
    return [r.code for r in rows], any(r.auto for r in rows)


def _insert(conn: Connection, checked: Checked, fields: dict) -> Created:
    data, cat = checked.data, checked.category
    teams, auto = _owning_teams(conn, checked)
    token = secrets.token_urlsafe(24)
    report_id = conn.execute(text(
        "INSERT INTO reports (client_id, request_hash, layer, category, asset_id, asset_code, description, media_url, visible, "
        "team_codes, follow_token, reporter_name, reporter_phone, reporter_email, source, geom) VALUES "
        "(:client, :hash, :layer, :cat, CAST(:asset AS uuid), :code, :description, :media_url, :visible, :teams, :token, "
        ":reporter_name, :reporter_phone, :reporter_email, :source, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) "
        "RETURNING id::text"), {
        "client": data.client_id, "hash": data.request_hash(), "layer": cat.layer.name, "cat": cat.category.code,
        "asset": checked.asset["id"] if checked.asset else None, "code": checked.asset["code"] if checked.asset else None,
        "visible": auto, "teams": teams, "token": token, "source": data.source, "lon": checked.lon, "lat": checked.lat,
        **fields,
    }).scalar_one()
    conn.execute(text("INSERT INTO report_history (report_id, action, to_state, actor, client_addr, device_id) "
                      "VALUES (:r, 'create', 'open', 'citizen', :a, :d)"),
                 {"r": report_id, "a": data.client_addr, "d": data.device_id})
    row = conn.execute(text(f"SELECT {COLUMNS} FROM reports r WHERE r.id = :r"), {"r": report_id}).mappings().one()
    webhooks.enqueue(conn, row, "report.created")
    return Created(load(conn, row), token, "created")


def similar_open_report(conn: Connection, data: ReportInput) -> dict | None:
    """For a form, before it is sent: the open report this one would join, as a short summary
    (id, state, how many have reported it — never its text, which may not be checked yet), or
    None. Raises InvalidInput like :func:`create_report`."""
    checked, _ = check_input(conn, data)
    row = open_duplicate(conn, checked)
    if row is None:
        return None
    vi, en = STATE_LABELS[row["state"]]
    return {"id": row["id"], "state": row["state"], "state_vi": vi, "state_en": en,
            "interest_count": row["interest_count"], "created_at": row["created_at"].isoformat(), "public": row["visible"]}


def create_report(conn: Connection, data: ReportInput, limits: Limits = Limits()) -> Created:
    """Create a citizen report in the caller's transaction (``with engine.begin() as conn``).

    Order: validation (:class:`~geomap.errors.InvalidInput` naming each field), a retry of the
    same ``client_id`` (same content: the stored report, ``replayed``; different: Conflict), the
    rate limits (:class:`~geomap.errors.TooManyRequests`), then an open report of the same
    category on the same asset or within the category's radius (``me_too``: its
    ``interest_count`` goes up once per device), else a new report (``created``)."""
    checked, fields = check_input(conn, data)
    replay = _replay(conn, data)
    if replay is not None:
        return replay
    _check_rate(conn, "client_addr", data.client_addr, limits.per_addr_per_hour, None)
    _check_rate(conn, "device_id", data.device_id, limits.per_device_per_hour, "device_id")
    existing = _duplicate(conn, checked)
    if existing is not None:
        return _me_too(conn, existing, data, fields)
    return _insert(conn, checked, fields)
