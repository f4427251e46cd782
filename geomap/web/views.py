"""What each page shows, assembled from the services (routes only render these)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.layers.base import Attr, Layer
from geomap.layers.registry import LAYERS, get_layer
from geomap.schemas import normalize_text
from geomap.services import permissions
from geomap.services.features import get_by_code, history, select_sql, to_feature, visible_sql
from geomap.services.photos import list_photos
from geomap.services.places import farm_summary

AGE_CLASSES = ("0-3", "4-7", "8-12", "13+", "unknown")
HEALTH_COLORS = {"khoe": "#2e7d32", "sau_benh": "#f9a825", "chet": "#b71c1c", None: "#9e9e9e"}
VARIETY_COLORS = {"ri6": "#1565c0", "monthong": "#6a1b9a", "musang_king": "#ef6c00", "chuong_bo": "#00838f",
                  "sau_huu": "#ad1457", "khac": "#757575", None: "#9e9e9e"}
AGE_COLORS = {"0-3": "#c5e1a5", "4-7": "#7cb342", "8-12": "#33691e", "13+": "#1b3d0f", "unknown": "#9e9e9e"}
MAX_NEW_LABELS = 300


def find_asset(conn: Connection, code: str, principal: Principal) -> tuple[Layer, dict] | None:
    """The asset with ``code`` (any layer, registry order), or None. A UUID finds by id."""
    try:
        asset_id = str(uuid.UUID(code))
    except ValueError:
        asset_id = None
    for layer in LAYERS:
        if asset_id:
            row = conn.execute(text(f"{select_sql(layer)} WHERE id = :id AND {visible_sql(principal)}"),
                               {"id": asset_id}).mappings().first()
        else:
            row = get_by_code(conn, layer, code, principal)
        if row is not None:
            return layer, row
    return None


def is_issued(conn: Connection, code: str) -> bool:
    """Whether ``code`` was printed on a label (issued) without being registered yet."""
    return conn.execute(text("SELECT 1 FROM issued_codes WHERE code = :c"), {"c": normalize_text(code)}).first() is not None


def _value(attr: Attr, value, lang: str, conn: Connection) -> tuple[str, str | None]:
    if value is None or value == "":
        return "—", None
    if attr.kind == "enum":
        return attr.choice_label(value, lang), None
    if attr.kind == "ref":
        ref = get_layer(attr.ref_layer)
        code = conn.execute(text(f'SELECT code FROM "{ref.table}" WHERE id = :id'), {"id": str(value)}).scalar()
        if code is None:
            return str(value), None
        return code, (f"/farms/{code}" if ref.name == "farms" else f"/a/{code}")
    if attr.kind == "float":
        return (f"{value:.2f}" if attr.name == "area_ha" else f"{value:g}"), None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(), None
    return str(value), None


def detail(conn: Connection, layer: Layer, row, principal: Principal, lang: str) -> dict:
    """Everything the asset page shows."""
    feature = to_feature(layer, row, principal)
    private_ok = permissions.can_see_private(principal, layer, row)
    rows, private_rows = [], []
    for attr in layer.all_attributes:
        if attr.name in ("code", "name"):
            continue
        value, href = _value(attr, row[attr.name], lang, conn)
        if attr.public:
            rows.append((attr.label(lang), value, href))
        elif private_ok:
            private_rows.append((attr.label(lang), value))
    entries = history(conn, layer, str(row["id"]), principal)[-10:]
    labels = {a.name: a.label(lang) for a in layer.all_attributes}
    short = [
        {"at": e["at"], "actor": e["actor"], "action": e["action"],
         "fields": ", ".join(labels.get(k, k) for k in e["changes"] if k not in ("id", "geometry")) if e["action"] == "update" else ""}
        for e in reversed(entries)
    ]
    return {"feature": feature, "rows": rows, "private_rows": private_rows, "history": short,
            "photos": list_photos(conn, layer, str(row["id"]), principal)}


def _age_class(year: int | None) -> str:
    if year is None:
        return "unknown"
    age = dt.date.today().year - year
    return "0-3" if age < 4 else "4-7" if age < 8 else "8-12" if age < 13 else "13+"


def color_of(mode: str):
    """A function from tree properties to a colour, for colour mode ``health``/``variety``/``age``."""
    if mode == "variety":
        return lambda p: VARIETY_COLORS.get(p.get("variety"), "#9e9e9e")
    if mode == "age":
        return lambda p: AGE_COLORS[_age_class(p.get("planting_year"))]
    return lambda p: HEALTH_COLORS.get(p.get("health"), "#9e9e9e")


def legend(mode: str, lang: str) -> list[tuple[str, str]]:
    """(colour, label) pairs for the orchard map's legend."""
    trees = get_layer("durian_trees")
    if mode == "variety":
        return [(VARIETY_COLORS[c.value], c.vi if lang == "vi" else c.en) for c in trees.attr("variety").choices]
    if mode == "age":
        return [(AGE_COLORS[a], a) for a in AGE_CLASSES[:-1]]
    return [(HEALTH_COLORS[c.value], c.vi if lang == "vi" else c.en) for c in trees.attr("health").choices]


def farm_by_code(conn: Connection, code: str, principal: Principal):
    """The farm row with ``code``, or :class:`NotFound`."""
    farms = get_layer("farms")
    row = get_by_code(conn, farms, code, principal)
    if row is None:
        raise NotFound(f"no farm has code {code}")
    return row


def orchard(conn: Connection, code: str, principal: Principal, lang: str) -> dict:
    """The farm, its summary and its trees."""
    farms, trees = get_layer("farms"), get_layer("durian_trees")
    row = farm_by_code(conn, code, principal)
    summary = farm_summary(conn, str(row["id"]), principal)
    tree_rows = conn.execute(
        text(f"{select_sql(trees)} WHERE farm_id = :f AND {visible_sql(principal)} ORDER BY code"),
        {"f": str(row["id"])},
    ).mappings().all()
    tree_features = [to_feature(trees, r, principal) for r in tree_rows]
    variety, health = trees.attr("variety"), trees.attr("health")
    counts = {
        "by_variety": [(variety.choice_label(k, lang), n) for k, n in sorted(summary["by_variety"].items(), key=lambda kv: -kv[1])],
        "by_health": [(health.choice_label(k, lang) if k != "unknown" else "—", n) for k, n in summary["by_health"].items()],
        "by_age": [(k, summary["by_age"][k]) for k in AGE_CLASSES if k in summary["by_age"]],
    }
    private = permissions.can_see_private(principal, farms, row)
    return {"farm": to_feature(farms, row, principal), "summary": summary, "trees": tree_features, "counts": counts,
            "private": private, "can_edit": private, "farm_layer": farms, "trees_layer": trees}


def labels(conn: Connection, code: str, principal: Principal, new: int) -> tuple[dict, list[str]]:
    """The farm and the codes to print: its trees', earlier issued ones, and ``new`` fresh ones."""
    farms = get_layer("farms")
    row = farm_by_code(conn, code, principal)
    if new:
        permissions.require_signed_in(principal)
        if not (principal.is_admin or principal.role == "volunteer" or permissions.owns(principal, farms, row)):
            raise Forbidden("only the farm's owner, volunteers and administrators can issue new label codes")
        if not 1 <= new <= MAX_NEW_LABELS:
            raise InvalidInput([FieldProblem("new", f"between 1 and {MAX_NEW_LABELS} labels at a time")])
        _issue(conn, row, new, principal)
    tree_codes = conn.execute(
        text(f"SELECT code FROM durian_trees WHERE farm_id = :f AND {visible_sql(principal)} ORDER BY code"), {"f": str(row["id"])}
    ).scalars().all()
    issued = conn.execute(
        text("SELECT i.code FROM issued_codes i WHERE i.farm_id = :f AND NOT EXISTS "
             "(SELECT 1 FROM durian_trees t WHERE t.code = i.code) ORDER BY i.code"), {"f": str(row["id"])}
    ).scalars().all()
    return to_feature(farms, row, principal), list(tree_codes) + list(issued)


def _issue(conn: Connection, farm_row, n: int, principal: Principal) -> list[str]:
    prefix = f"{farm_row['code']}-Q"
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": prefix})
    taken = conn.execute(text("SELECT code FROM issued_codes WHERE code LIKE :p || '%'"), {"p": prefix}).scalars().all()
    numbers = [int(m.group(1)) for c in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", c))]
    start = max(numbers, default=0) + 1
    codes = [f"{prefix}{i:04d}" for i in range(start, start + n)]
    conn.execute(
        text("INSERT INTO issued_codes (code, layer, farm_id, issued_by) VALUES (:c, 'durian_trees', :f, :by)"),
        [{"c": c, "f": str(farm_row["id"]), "by": principal.actor} for c in codes],
    )
    return codes
