"""What each page shows, assembled from the services (routes only render these)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.layers.base import Attr, Layer
from geomap.layers.registry import LAYERS, get_layer
from geomap.schemas import normalize_text
from geomap.services import orchard, permissions
from geomap.services.features import get_by_code, history, sees_accounts, to_feature
from geomap.sql import select_sql, visible_sql
from geomap.services.photos import list_photos
from geomap.web.i18n import local_time, translator


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
    if asset_id:
        return None
    for layer in LAYERS:  # a code typed or read in another letter case: /a/qt-thanhco
        row = conn.execute(text(f"{select_sql(layer)} WHERE upper(code) = upper(:c) AND {visible_sql(principal)} "
                                f"ORDER BY code LIMIT 1"), {"c": normalize_text(code)}).mappings().first()
        if row is not None:
            return layer, row
    return None


def is_issued(conn: Connection, code: str) -> bool:
    """Whether ``code`` was printed on a label (issued) without being registered yet."""
    return conn.execute(text("SELECT 1 FROM issued_codes WHERE upper(code) = upper(:c)"),
                        {"c": normalize_text(code)}).first() is not None


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
        return code, (f"/farms/{code}" if orchard.is_orchard_ref(attr) else f"/a/{code}")
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
            rows.append((attr.label(lang), value, href, attr.name))
        elif private_ok:
            private_rows.append((attr.label(lang), value))
    entries = history(conn, layer, str(row["id"]), principal)[-10:]
    t = translator(lang)
    labels = {a.name: a.label(lang) for a in layer.all_attributes}
    accounts = sees_accounts(principal)  # else history() gave each actor's role
    short = [
        {"at": local_time(e["at"]), "actor": e["actor"] if accounts else t(f"actor_{e['actor']}"), "action": e["action"],
         "fields": ", ".join(labels.get(k) or t(f"field_{k}") for k in e["changes"] if k not in ("id", "geometry"))
         if e["action"] == "update" else ""}
        for e in reversed(entries)
    ]
    return {"feature": feature, "rows": rows, "private_rows": private_rows, "history": short,
            "photos": list_photos(conn, layer, str(row["id"]), principal), "orchard_url": orchard.orchard_link(layer, row) or next(
                (href for _, _, href, _ in rows if href and href.startswith("/farms/")), None)}
