"""What is orchard-specific: farms and their durian trees, age classes, the farm summary, the
compact tree list the orchard map draws, and QR label codes issued for trees not tagged yet.

Generic services (features, tiles, places) know nothing about farms; pages and the API ask here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Mapping

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.layers.base import Attr, Choice, Layer
from geomap.layers.durian_trees import AGE_CLASSES, AGE_UPPER
from geomap.layers.registry import get_layer
from geomap.schemas import normalize_text
from geomap.services import permissions
from geomap.services.features import fetch_row, to_feature
from geomap.sql import q, select_sql, visible_sql

FARMS, TREES = "farms", "durian_trees"
FALLBACK_COLOR = "#9e9e9e"
UNKNOWN = "unknown"
COLOR_MODES = ("health", "variety", "age")
MAX_NEW_LABELS = 63  # three A4 sheets of 21 labels per request


def farms_layer() -> Layer:
    """The farms layer."""
    return get_layer(FARMS)


def trees_layer() -> Layer:
    """The durian trees layer."""
    return get_layer(TREES)


def age_class(planting_year: int | None, today: dt.date | None = None) -> str:
    """The age class key of a tree planted in ``planting_year`` (``unknown`` without a year)."""
    if planting_year is None:
        return UNKNOWN
    age = (today or dt.date.today()).year - planting_year
    for choice in AGE_CLASSES:
        upper = AGE_UPPER[choice.value]
        if upper is None or age <= upper:
            return choice.value
    return AGE_CLASSES[-1].value


def _age_sql() -> str:
    """A SQL CASE giving the age class of ``planting_year`` (the classes come from the layer module)."""
    whens = [f"WHEN :y - planting_year <= {int(AGE_UPPER[c.value])} THEN '{c.value}'"
             for c in AGE_CLASSES if AGE_UPPER[c.value] is not None]
    last = next(c.value for c in AGE_CLASSES if AGE_UPPER[c.value] is None)
    return f"CASE WHEN planting_year IS NULL THEN '{UNKNOWN}' {' '.join(whens)} ELSE '{last}' END"


def mode_choices(mode: str) -> tuple[Choice, ...]:
    """The values a colour mode distinguishes, each with its colour and labels."""
    if mode == "age":
        return AGE_CLASSES
    return trees_layer().attr(mode).choices


def color_of(choice: Choice) -> str:
    """A value's declared colour, or the neutral fallback (a new enum value never breaks a map)."""
    return choice.color or FALLBACK_COLOR


def legend(mode: str, lang: str) -> dict:
    """The colour mode as data for the page: value → colour, and legend rows (colour, label)."""
    choices = mode_choices(mode)
    return {
        "mode": mode,
        "fallback": FALLBACK_COLOR,
        "colors": {c.value: color_of(c) for c in choices},
        "rows": [(c.value, color_of(c), c.label(lang)) for c in choices],
    }


def farm_by_code(conn: Connection, code: str, principal: Principal) -> Mapping:
    """The farm row with ``code`` (letter case ignored), or :class:`NotFound`."""
    farms = farms_layer()
    row = conn.execute(
        text(f"{select_sql(farms)} WHERE upper(code) = upper(:c) AND {visible_sql(principal)} ORDER BY code LIMIT 1"),
        {"c": normalize_text(code)},
    ).mappings().first()
    if row is None:
        raise NotFound(f"no farm has code {code}")
    return row


def _counts(conn: Connection, farm_id: str, principal: Principal, expr: str, **values) -> dict[str, int]:
    rows = conn.execute(
        text(f"SELECT {expr} AS k, count(*) FROM {q(TREES)} WHERE farm_id = :f AND {visible_sql(principal)} GROUP BY 1"),
        {"f": farm_id, **values},
    ).all()
    return {str(k): int(n) for k, n in rows}


def farm_summary(conn: Connection, farm_id: str, principal: Principal) -> dict:
    """Trees of a farm by variety, health and age; area and trees per hectare."""
    farms = farms_layer()
    farm = fetch_row(conn, farms, farm_id, principal)
    by_variety = _counts(conn, farm_id, principal, "variety")
    by_variety.pop("None", None)
    health = _counts(conn, farm_id, principal, f"coalesce(health, '{UNKNOWN}')")
    ages = _counts(conn, farm_id, principal, _age_sql(), y=dt.date.today().year)
    total = sum(health.values())
    area = farm["area_ha"]
    return {
        "farm": to_feature(farms, farm, principal),
        "trees": total,
        "by_variety": by_variety,
        "by_health": health,
        "by_age": ages,
        "area_ha": round(area, 4),
        "trees_per_ha": round(total / area, 1) if area else None,
    }


def _labelled_counts(attr_choices: tuple[Choice, ...], counts: dict[str, int], lang: str) -> list[tuple[str, int, str]]:
    """(label, count, colour) rows in declaration order, then values the declaration does not know."""
    known = {c.value for c in attr_choices}
    rows = [(c.label(lang), counts[c.value], color_of(c)) for c in attr_choices if c.value in counts]
    rows += [("—" if k == UNKNOWN else k, n, FALLBACK_COLOR) for k, n in counts.items() if k not in known]
    return rows


def orchard(conn: Connection, code: str, principal: Principal, lang: str) -> dict:
    """What the orchard page shows: the farm, its summary, counts per colour mode, who may edit."""
    farms, trees = farms_layer(), trees_layer()
    row = farm_by_code(conn, code, principal)
    summary = farm_summary(conn, str(row["id"]), principal)
    counts = {
        "variety": _labelled_counts(mode_choices("variety"), summary["by_variety"], lang),
        "health": _labelled_counts(mode_choices("health"), summary["by_health"], lang),
        "age": _labelled_counts(mode_choices("age"), summary["by_age"], lang),
    }
    private = permissions.can_see_private(principal, farms, row)
    return {"farm": to_feature(farms, row, principal), "summary": summary, "counts": counts,
            "private": private, "can_edit": private, "can_issue": can_issue_labels(conn, principal, row),
            "farm_layer": farms, "trees_layer": trees}


def orchard_trees(conn: Connection, code: str, principal: Principal, lang: str) -> dict:
    """The farm's trees as compact rows for the orchard map (one short array per tree).

    Columns: code, lon, lat, health, variety, planting year, age class — and for someone who may
    edit the trees also id and version. A 5,000-tree farm stays a few hundred kilobytes.
    """
    farm = farm_by_code(conn, code, principal)
    editable = permissions.can_see_private(principal, farms_layer(), farm)
    rows = conn.execute(
        text(f"SELECT code, round(ST_X(geom)::numeric, 7) AS lon, round(ST_Y(geom)::numeric, 7) AS lat, health, "
             f"variety, planting_year, id::text AS id, version FROM {q(TREES)} "
             f"WHERE farm_id = :f AND {visible_sql(principal)} ORDER BY code"),
        {"f": str(farm["id"])},
    ).mappings().all()
    today = dt.date.today()
    columns = ["code", "lon", "lat", "health", "variety", "planting_year", "age"] + (["id", "version"] if editable else [])
    out = []
    for r in rows:
        item = [r["code"], float(r["lon"]), float(r["lat"]), r["health"], r["variety"], r["planting_year"],
                age_class(r["planting_year"], today)]
        if editable:
            item += [r["id"], r["version"]]
        out.append(item)
    farm_feature = to_feature(farms_layer(), farm, principal)
    return {"farm": {"code": farm["code"], "name": farm["name"], "geometry": farm_feature["geometry"]},
            "columns": columns, "trees": out, "editable": editable,
            "legends": {mode: legend(mode, lang) for mode in COLOR_MODES},
            "labels": {name: {c.value: c.label(lang) for c in mode_choices(name)} for name in COLOR_MODES}}


def can_issue_labels(conn: Connection, principal: Principal, farm: Mapping) -> bool:
    """The farm's owner, an administrator, or a volunteer of a team that tags durian trees in the
    farm's province (and commune, when the team names communes) may issue label codes."""
    if principal.is_admin or permissions.owns(principal, farms_layer(), farm):
        return True
    if principal.role != "volunteer" or not principal.team_code:
        return False
    team = conn.execute(text("SELECT provinces, communes, layers FROM teams WHERE code = :c"),
                        {"c": principal.team_code}).first()
    if team is None or TREES not in (team.layers or []):
        return False
    fold = lambda v: (normalize_text(v) or "").casefold()  # noqa: E731
    provinces = {fold(p) for p in team.provinces or []}
    communes = {fold(c) for c in team.communes or []}
    return (not provinces or fold(farm["province"]) in provinces) and (not communes or fold(farm["commune"]) in communes)


def issue_codes(conn: Connection, code: str, principal: Principal, n: int) -> list[str]:
    """Issue ``n`` fresh label codes for trees of the farm not tagged yet; returns them."""
    permissions.require_signed_in(principal)
    farm = farm_by_code(conn, code, principal)
    if not can_issue_labels(conn, principal, farm):
        raise Forbidden("only the farm's owner, its team's volunteers and administrators can issue new label codes")
    if not 1 <= n <= MAX_NEW_LABELS:
        raise InvalidInput([FieldProblem("new", f"between 1 and {MAX_NEW_LABELS} labels at a time")])
    prefix = f"{farm['code']}-Q"
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": prefix})
    taken = conn.execute(text("SELECT code FROM issued_codes WHERE code LIKE :p || '%'"), {"p": prefix}).scalars().all()
    numbers = [int(m.group(1)) for c in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", c))]
    start = max(numbers, default=0) + 1
    codes = [f"{prefix}{i:04d}" for i in range(start, start + n)]
    conn.execute(
        text("INSERT INTO issued_codes (code, layer, farm_id, issued_by) VALUES (:c, :layer, :f, :by)"),
        [{"c": c, "layer": TREES, "f": str(farm["id"]), "by": principal.actor} for c in codes],
    )
    return codes


def label_codes(conn: Connection, code: str, principal: Principal, only: list[str] | None = None) -> tuple[dict, list[str]]:
    """The farm and the codes to print: its trees' and the issued, untagged ones — or just ``only``
    (codes of this farm, e.g. the ones issued a moment ago)."""
    farm = farm_by_code(conn, code, principal)
    tree_codes = conn.execute(
        text(f"SELECT code FROM {q(TREES)} WHERE farm_id = :f AND {visible_sql(principal)} ORDER BY code"),
        {"f": str(farm["id"])},
    ).scalars().all()
    issued = conn.execute(
        text(f"SELECT i.code FROM issued_codes i WHERE i.farm_id = :f AND NOT EXISTS "
             f"(SELECT 1 FROM {q(TREES)} t WHERE t.code = i.code) ORDER BY i.code"), {"f": str(farm["id"])}
    ).scalars().all()
    codes = list(tree_codes) + list(issued)
    if only is not None:
        wanted = set(only)
        codes = [c for c in codes if c in wanted]
    return to_feature(farms_layer(), farm, principal), codes


def my_farm_code(conn: Connection, principal: Principal) -> str | None:
    """The code of the signed-in farmer's (first) farm, for a "my orchard" link."""
    if principal.role != "farmer" or not principal.farm_ids:
        return None
    return conn.execute(text(f"SELECT code FROM {q(FARMS)} WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY code LIMIT 1"),
                        {"ids": sorted(principal.farm_ids)}).scalar()


def health_choices_for(principal: Principal, layer: Layer, row: Mapping, lang: str) -> list[tuple[str, str]] | None:
    """The health values the caller may set on this tree (its owner or an admin), or None."""
    if layer.name != TREES or not permissions.can_see_private(principal, layer, row):
        return None
    return [(c.value, c.label(lang)) for c in layer.attr("health").choices]


def is_orchard_ref(attr: Attr) -> bool:
    """Whether ``attr`` points at a farm (its page is the orchard page, not the asset page)."""
    return attr.kind == "ref" and attr.ref_layer == FARMS


def orchard_link(layer: Layer, row: Mapping) -> str | None:
    """The orchard page of a farm asset, or None for other layers."""
    return f"/farms/{row['code']}" if layer.name == FARMS else None
