"""Who may read and write what. Every rule about roles lives here.

* public: public attributes of assets that are not deleted or rejected;
* volunteer: create and edit assets of the layers its team may tag, inside the team's working
  area polygon (declared provinces/communes are checked too, but never on their own: geomap
  ships no administrative boundaries, and a commune name is what the client writes, so a team
  without a polygon may not tag at all); only for its own team (``team_code``); public
  attributes only;
* farmer: everything about their own farms and those farms' trees (owner details included);
  may update the status attributes of their own trees (``farmer_writable``), never move or
  delete them;
* admin: everything.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import shapely
from sqlalchemy import Connection, text

from geomap import prepared
from geomap.auth import Principal
from geomap.errors import FieldProblem, Forbidden, Unauthorized
from geomap.layers.base import Layer
from geomap.layers.registry import get_layer


def require_signed_in(principal: Principal) -> None:
    """Writes need credentials."""
    if principal.role == "public":
        raise Unauthorized("sign in or send 'Authorization: Bearer <token>' to write")


def owns(principal: Principal, layer: Layer, row: Mapping) -> bool:
    """Whether a farmer owns this asset: one of their farms (a ``farmer_owned`` layer), or an
    asset that references one (a tree in it)."""
    if principal.role != "farmer":
        return False
    if layer.farmer_owned:
        return str(row["id"]) in principal.farm_ids
    for attr in layer.ref_attributes:
        if get_layer(attr.ref_layer).farmer_owned and row.get(attr.name) is not None:
            return str(row[attr.name]) in principal.farm_ids
    return False


def can_see_private(principal: Principal, layer: Layer, row: Mapping) -> bool:
    """Whether private attributes of ``row`` may be shown to ``principal``."""
    return principal.is_admin or owns(principal, layer, row)


def _team(conn: Connection, principal: Principal):
    """The caller's team: as read with the caller (:class:`~geomap.auth.TeamRights`), else looked up."""
    if principal.team is not None and principal.team.code == principal.team_code:
        return principal.team
    team = prepared.execute(
        conn, "SELECT code, provinces, communes, layers, area IS NOT NULL AS has_area FROM teams WHERE code = :c",
        {"c": principal.team_code},
    ).first()
    if team is None:
        raise Forbidden("your account has no team; ask an administrator")
    return team


def _require_area(team) -> None:
    """Where a volunteer may tag is decided by the team's polygon. A province or commune name
    alone proves nothing: the asset's own ``commune`` is whatever the client sends."""
    if not team.has_area:
        raise Forbidden(
            f"team {team.code} has no working-area polygon, so geomap cannot check where its volunteers tag; "
            "ask an administrator to give the team its area (geomap teams add … --area FILE.geojson)"
        )


def check_team_layer(conn: Connection, principal: Principal, layer: Layer):
    """A volunteer's team must be allowed to tag ``layer`` and have a working-area polygon;
    returns the team (for :func:`outside_team_area`)."""
    team = _team(conn, principal)
    if layer.name not in team.layers:
        raise Forbidden(f"team {team.code} may not tag layer '{layer.name}' (it may tag: {', '.join(team.layers) or 'none'})")
    _require_area(team)
    return team


def check_team_codes(principal: Principal, records: Iterable[Mapping], single: bool = True) -> None:
    """Volunteers tag for their own team: a ``team_code`` naming another team is refused
    (administrators may set any). ``records``: parsed properties, in request order."""
    if principal.role != "volunteer":
        return
    wrong = [(i, r.get("team_code")) for i, r in enumerate(records)
             if r.get("team_code") is not None and r.get("team_code") != principal.team_code]
    if wrong:
        where = "" if single else f"feature {wrong[0][0]}: "
        raise Forbidden(f"{where}team_code: volunteers of team {principal.team_code} tag for their own team only, "
                        f"not {wrong[0][1]}")


def outside_team_area(conn: Connection, principal: Principal, items: Iterable[tuple[int | None, str, str | None, str | None]],
                      team=None) -> list[FieldProblem]:
    """Which (index, ewkb_hex, province, commune) items lie outside the volunteer's working area.
    One query for all items; ``team`` is the row :func:`check_team_layer` returned, if at hand."""
    team = team or _team(conn, principal)
    _require_area(team)
    items = list(items)
    if not items:
        return []
    outside = prepared.execute(
        conn,
        """
            SELECT k.n FROM teams t,
                   unnest(CAST(:g AS text[]), CAST(:p AS text[]), CAST(:c AS text[])) WITH ORDINALITY AS k(g, p, c, n)
             WHERE t.code = :team AND NOT (
                   t.area IS NOT NULL AND ST_Covers(t.area, CAST(k.g AS geometry))
               AND (cardinality(t.provinces) = 0 OR geomap_fold(k.p) = ANY (SELECT geomap_fold(x) FROM unnest(t.provinces) x))
               AND (cardinality(t.communes) = 0 OR geomap_fold(k.c) = ANY (SELECT geomap_fold(x) FROM unnest(t.communes) x)))
             ORDER BY k.n
        """,
        {"g": [ewkb for _, ewkb, _, _ in items], "p": [p or "" for _, _, p, _ in items],
         "c": [c or "" for _, _, _, c in items], "team": team.code},
        generic=True,
    ).scalars().all()
    return [FieldProblem("geometry", f"outside the working area of team {team.code}", items[n - 1][0]) for n in outside]


def area_item(row: Mapping) -> tuple[None, str, str | None, str | None]:
    """A stored asset (a row with GeoJSON ``geometry``) as an item for :func:`outside_team_area`."""
    ewkb = shapely.to_wkb(shapely.set_srid(shapely.from_geojson(row["geometry"]), 4326), hex=True, include_srid=True)
    return None, ewkb, row["province"], row["commune"]


def require_in_team_area(conn: Connection, principal: Principal, layer: Layer, items: list, team=None) -> None:
    """A volunteer may touch only its team's layers inside its working area (one item per geometry
    involved: the asset as stored, and where an edit moves it). ``team``: from :func:`check_team_layer`."""
    team = team or check_team_layer(conn, principal, layer)
    outside = outside_team_area(conn, principal, items, team=team)
    if outside:
        raise Forbidden(outside[0].reason)


def check_farmer_patch(principal: Principal, layer: Layer, row: Mapping, fields: set[str], moves: bool) -> None:
    """A farmer may change only status attributes of trees on their own farms."""
    if not owns(principal, layer, row):
        raise Forbidden("farmers may change only the trees of their own farms")
    if moves:
        raise Forbidden("farmers may not move trees: geometry cannot be changed")
    allowed = {a.name for a in layer.attributes if a.farmer_writable}
    refused = sorted(fields - allowed)
    if refused:
        raise Forbidden(f"farmers may not change: {', '.join(refused)} (allowed: {', '.join(sorted(allowed))})")
