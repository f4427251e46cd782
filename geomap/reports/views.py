"""The shapes of a report: what anyone may read (:func:`public_view`) and what the owning team
and administrators read (:func:`team_view`, which adds the reporter's contact).

Every read of reports selects :data:`COLUMNS`; the reporter's name, phone and e-mail are only in
:data:`PRIVATE_COLUMNS`, which public reads never select.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from sqlalchemy import Connection, text

from geomap.reports.categories import find_category

#: Columns of a report that may appear on a public surface.
COLUMNS = ("r.id::text AS id, r.layer, r.category, r.asset_id::text AS asset_id, r.asset_code, r.description, r.media_url, "
           "r.state, r.public_reason, r.visible, r.interest_count, r.source, r.team_codes, r.created_at, r.updated_at, "
           "ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat")
#: The reporter's contact: only for the owning team and administrators.
PRIVATE_COLUMNS = "r.reporter_name, r.reporter_phone, r.reporter_email"

STATE_LABELS = {
    "open": ("Đã tiếp nhận", "Open"),
    "acknowledged": ("Đã xác nhận", "Acknowledged"),
    "in_progress": ("Đang xử lý", "In progress"),
    "fixed": ("Đã khắc phục", "Fixed"),
    "closed": ("Đã đóng", "Closed"),
    "rejected": ("Từ chối", "Rejected"),
}
ACTIVE_STATES = ("open", "acknowledged", "in_progress")
FINAL_STATES = ("fixed", "closed", "rejected")


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def public_view(row: Mapping, photos: list[dict], history: list[dict]) -> dict:
    """A report as anyone may read it: no contact, no team-internal fields."""
    found = find_category(f"{row['layer']}.{row['category']}")
    vi, en = STATE_LABELS[row["state"]]
    return {
        "id": row["id"],
        "category": f"{row['layer']}.{row['category']}",
        "category_vi": found.category.vi if found else row["category"],
        "category_en": found.category.en if found else row["category"],
        "layer": row["layer"],
        "asset": {"id": row["asset_id"], "code": row["asset_code"]} if row["asset_id"] else None,
        "description": row["description"],
        "media_url": row["media_url"],
        "state": row["state"], "state_vi": vi, "state_en": en,
        "public_reason": row["public_reason"],
        "interest_count": row["interest_count"],
        "location": {"lon": row["lon"], "lat": row["lat"]},
        "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
        "photos": photos,
        "history": [{k: v for k, v in h.items() if k != "actor"} for h in history],
    }


def follower_view(view: dict, visible: bool) -> dict:
    """The public view for a "me too" reporter's follow link: until the report is published its
    text and photos stay the first reporter's (state, place and history are theirs to follow)."""
    return view if visible else {**view, "description": None, "media_url": None, "photos": []}


def team_view(row: Mapping, photos: list[dict], history: list[dict], confirmations: list[dict]) -> dict:
    """A report as its owning team and administrators read it: the reporter's contact, whether it
    is public, which teams own it, who did what, and what later reporters of it ("me too") wrote."""
    out = public_view(row, photos, history)
    out.update({
        "visible": row["visible"], "team_codes": list(row["team_codes"]), "source": row["source"],
        "reporter": {"name": row["reporter_name"], "phone": row["reporter_phone"], "email": row["reporter_email"]},
        "history": history, "confirmations": confirmations,
    })
    return out


def confirmations_of(conn: Connection, report_id: str) -> list[dict]:
    """What "me too" reporters of a report wrote, with their contact (team only), oldest first."""
    rows = conn.execute(text(
        "SELECT created_at, description, reporter_name, reporter_phone, reporter_email FROM report_followers "
        "WHERE report_id = :r AND coalesce(description, reporter_name, reporter_phone, reporter_email) IS NOT NULL "
        "ORDER BY created_at, token"), {"r": report_id}).all()
    return [{"at": _iso(r.created_at), "description": r.description,
             "reporter": {"name": r.reporter_name, "phone": r.reporter_phone, "email": r.reporter_email}} for r in rows]


def photo_url(report_id: str, photo_id: str, content_type: str, thumb: bool = False) -> str:
    """Where a report's photo is served."""
    ext = "thumb.jpg" if thumb else ("png" if content_type == "image/png" else "jpg")
    return f"/api/v1/reports/{report_id}/photos/{photo_id}.{ext}"


def photos_of(conn: Connection, report_id: str) -> list[dict]:
    """The photos of a report, oldest first."""
    rows = conn.execute(text("SELECT id::text, content_type, width, height FROM report_photos "
                             "WHERE report_id = :r ORDER BY created_at, id"), {"r": report_id}).all()
    return [{"id": p.id, "content_type": p.content_type, "width": p.width, "height": p.height,
             "url": photo_url(report_id, p.id, p.content_type),
             "thumbnail_url": photo_url(report_id, p.id, p.content_type, thumb=True)} for p in rows]


def history_of(conn: Connection, report_id: str) -> list[dict]:
    """What happened to a report, in order (never the submitter's address or device)."""
    rows = conn.execute(text("SELECT action, from_state, to_state, actor, public_reason, at FROM report_history "
                             "WHERE report_id = :r ORDER BY id"), {"r": report_id}).all()
    return [{"action": h.action, "from_state": h.from_state, "to_state": h.to_state, "actor": h.actor,
             "public_reason": h.public_reason, "at": _iso(h.at)} for h in rows]


def load(conn: Connection, row: Mapping, team: bool = False) -> dict:
    """The full view of ``row`` (selected with :data:`COLUMNS`, plus :data:`PRIVATE_COLUMNS` for a team)."""
    photos, history = photos_of(conn, row["id"]), history_of(conn, row["id"])
    return team_view(row, photos, history, confirmations_of(conn, row["id"])) if team else public_view(row, photos, history)
