"""What the field app needs to know about the signed-in person: their team, the layers they may
tag and the team's working area (GeoJSON), in one read."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.layers.registry import LAYERS


def _team(conn: Connection, code: str | None) -> dict | None:
    if not code:
        return None
    row = conn.execute(
        text("SELECT code, name, provinces, communes, layers, ST_AsGeoJSON(area, 7) AS area FROM teams WHERE code = :c"),
        {"c": code},
    ).first()
    if row is None:
        return None
    return {"code": row.code, "name": row.name, "provinces": list(row.provinces), "communes": list(row.communes),
            "layers": list(row.layers), "area": json.loads(row.area) if row.area else None}


def writable_layers(principal: Principal, team: dict | None) -> list[str]:
    """Layers the principal may capture or edit in: the team's (volunteer), the trees of their
    farms (farmer: layers that reference a farmer-owned layer), every layer (admin)."""
    if principal.is_admin:
        return [layer.name for layer in LAYERS]
    if principal.role == "volunteer":
        allowed = set(team["layers"]) if team else set()
        return [layer.name for layer in LAYERS if layer.name in allowed]
    if principal.role == "farmer":
        owned = {layer.name for layer in LAYERS if layer.farmer_owned}
        return [layer.name for layer in LAYERS if any(a.ref_layer in owned for a in layer.ref_attributes)]
    return []


def profile(conn: Connection, principal: Principal, *, gps_accuracy_max_m: float) -> dict:
    """Who is signed in, their team (with its working area) and the layers they may write."""
    team = _team(conn, principal.team_code)
    return {
        "username": principal.username, "role": principal.role, "team": team,
        "farms": sorted(principal.farm_ids), "layers": writable_layers(principal, team),
        "gps_accuracy_max_m": gps_accuracy_max_m,
    }
