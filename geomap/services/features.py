"""Reading assets: one, many (filters, search, cursor paging), history; and their GeoJSON form."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import Connection, text

from geomap.auth import Principal
from geomap.errors import FieldProblem, InvalidInput, NotFound
from geomap import history as asset_history
from geomap.layers.base import Attr, Layer
from geomap.layers.common import REVIEW_STATES
from geomap.schemas import _enum_normalizer, normalize_text
from geomap.services.permissions import can_see_private
from geomap.sql import BOOKKEEPING_COLUMNS, in_box_sql, q, select_sql, visible_sql

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
RESERVED_PARAMS = {"bbox", "limit", "cursor", "q", "sort", "review_state", "include_deleted", "lang", "f"}
#: How many matches a ranked search (``sort=relevance``) ranks: every farm of a province, a sample
#: of a million trees named alike (a code typed whole is always among them, found by its index).
RANKED_CANDIDATES = 5000
#: A match's rank: its code typed whole, its name typed whole, the words typed standing as words
#: in its code or name ("số 1" in "Vườn số 1, Ea Kly", not in "Vườn số 12"), anything else.
_RANK_SQL = (
    "CASE WHEN geomap_fold(code) = geomap_fold(:raw) THEN 0 WHEN geomap_fold(name) = geomap_fold(:raw) THEN 1 "
    "WHEN geomap_fold(code || ' ' || name) ~ ('(^|\\W)' || regexp_replace(geomap_fold(:raw), '(\\W)', '\\\\\\1', 'g') || '($|\\W)') "
    "THEN 2 ELSE 3 END"
)


def etag(version: int) -> str:
    """The ETag of an asset at ``version``."""
    return f'"v{version}"'


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


#: The bookkeeping columns that name an account.
ACCOUNT_COLUMNS = ("created_by", "updated_by")


def sees_accounts(principal: Principal) -> bool:
    """Whether ``principal`` reads the accounts behind changes (``created_by``, ``updated_by``, a
    change's actor): team members and administrators. Everyone else reads the actor's role, since
    an account name is often a person's name or phone number."""
    return principal.role in ("volunteer", "admin")


def to_feature(layer: Layer, row: Mapping, principal: Principal) -> dict:
    """GeoJSON Feature of a row, with private attributes only when ``principal`` may see them."""
    private_ok = can_see_private(principal, layer, row)
    props = {a.name: _json_value(row[a.name]) for a in layer.all_attributes if a.public or private_ok}
    hidden = () if sees_accounts(principal) else ACCOUNT_COLUMNS
    props.update({c: _json_value(row[c]) for c in BOOKKEEPING_COLUMNS
                  if (c != "deleted_at" or row[c] is not None) and c not in hidden})
    if not principal.is_admin:
        props.pop("review_comment", None)
    return {"type": "Feature", "id": str(row["id"]), "geometry": json.loads(row["geometry"]), "properties": props}


def fetch_row(conn: Connection, layer: Layer, asset_id: str, principal: Principal, for_update: bool = False,
              include_deleted: bool = False) -> Mapping:
    """One row the principal may see, or :class:`NotFound`."""
    try:
        uuid.UUID(str(asset_id))
    except ValueError:
        raise NotFound(f"no {layer.name} asset has id {asset_id!r}") from None
    sql = f"{select_sql(layer)} WHERE id = :id AND {visible_sql(principal, include_deleted)}"
    if for_update:
        sql += " FOR UPDATE"
    row = conn.execute(text(sql), {"id": str(asset_id)}).mappings().first()
    if row is None:
        raise NotFound(f"no {layer.name} asset has id {asset_id}")
    return row


def get_feature(conn: Connection, layer: Layer, asset_id: str, principal: Principal) -> tuple[dict, str]:
    """One Feature and its ETag."""
    row = fetch_row(conn, layer, asset_id, principal, include_deleted=principal.is_admin)
    return to_feature(layer, row, principal), etag(row["version"])


def get_by_code(conn: Connection, layer: Layer, code: str, principal: Principal) -> Mapping | None:
    """The visible row with ``code``, or None."""
    sql = f"{select_sql(layer)} WHERE code = :code AND {visible_sql(principal)}"
    return conn.execute(text(sql), {"code": normalize_text(code)}).mappings().first()


@dataclass
class Page:
    """One page of features and the cursor to the next."""

    features: list[dict]
    next_cursor: str | None


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return str(uuid.UUID(raw))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput([FieldProblem("cursor", "not a cursor returned by this API")]) from None


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` → floats, or :class:`InvalidInput`."""
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(p == p and abs(p) != float("inf") for p in parts):
        raise InvalidInput([FieldProblem("bbox", "expected four numbers: minlon,minlat,maxlon,maxlat")])
    x0, y0, x1, y1 = parts
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInput([FieldProblem("bbox", "needs -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90")])
    return x0, y0, x1, y1


def _coerce(attr: Attr, raw: str) -> Any:
    if attr.kind == "enum":
        value = _enum_normalizer(attr)(raw)
        if value not in attr.values:
            raise InvalidInput([FieldProblem(attr.name, f"unknown value {raw!r}; allowed: {', '.join(attr.values)}")])
        return value
    try:
        if attr.kind == "int":
            return int(raw)
        if attr.kind == "float":
            value = float(raw)
            if value != value or abs(value) == float("inf"):
                raise ValueError
            return value
        if attr.kind == "date":
            return dt.date.fromisoformat(raw)
        if attr.kind == "ref":
            return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidInput([FieldProblem(attr.name, f"{raw!r} is not a valid {attr.kind}")]) from None
    return normalize_text(raw)


def filter_sql(layer: Layer, params: Mapping[str, str], principal: Principal) -> tuple[list[str], dict]:
    """WHERE clauses and bound values for list filters; unknown parameters are refused."""
    where = [visible_sql(principal, params.get("include_deleted") == "true")]
    values: dict[str, Any] = {}
    filterable = {a.name: a for a in layer.all_attributes if a.filterable}
    ref_codes = {f"{a.name.removesuffix('_id')}_code": a for a in layer.ref_attributes}
    for key, raw in params.items():
        if key in RESERVED_PARAMS:
            continue
        if key in ref_codes:  # farm_code=DL-EAKLY-0001: the reference by its code
            attr, p = ref_codes[key], f"p{len(values)}"
            values[p] = [normalize_text(v) for v in raw.split(",")]
            where.append(f'{q(attr.name)} IN (SELECT id FROM {q(attr.ref_layer)} WHERE code = ANY(:{p}))')
            continue
        name, _, bound = key.rpartition("_") if key.endswith(("_min", "_max")) else (key, "", "")
        attr = filterable.get(name)
        if attr is None:
            allowed = sorted(filterable) + [f"{n}_min/_max" for n, a in filterable.items() if a.kind in ("int", "float", "date")]
            raise InvalidInput([FieldProblem(key, f"not a filter of layer '{layer.name}'; filters: {', '.join(allowed)}")])
        p = f"p{len(values)}"
        if bound:
            if attr.kind not in ("int", "float", "date"):
                raise InvalidInput([FieldProblem(key, "range filters work on numbers and dates only")])
            values[p] = _coerce(attr, raw)
            where.append(f"{q(attr.name)} {'>=' if bound == 'min' else '<='} :{p}")
        elif attr.kind in ("text",) and name in ("province", "commune"):
            values[p] = raw
            where.append(f"geomap_fold({q(attr.name)}) = geomap_fold(:{p})")
        else:
            values[p] = [_coerce(attr, v) for v in raw.split(",")]
            cast = f"CAST(:{p} AS uuid[])" if attr.kind == "ref" else f":{p}"
            where.append(f"{q(attr.name)} = ANY({cast})")
    if params.get("review_state"):
        states = params["review_state"].split(",")
        known = {c.value for c in REVIEW_STATES}
        bad = [s for s in states if s not in known]
        if bad:
            raise InvalidInput([FieldProblem("review_state", f"unknown value {bad[0]!r}; allowed: {', '.join(sorted(known))}")])
        values["review_states"] = states
        where.append("review_state = ANY(:review_states)")
    if params.get("bbox"):
        x0, y0, x1, y1 = parse_bbox(params["bbox"])
        values.update(bx0=x0, by0=y0, bx1=x1, by1=y1)
        where.append(in_box_sql())
    words = search_words(params.get("q"))
    if words:
        values["q"] = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("geomap_fold(code || ' ' || name) LIKE geomap_fold(:q)")
    return where, values


def list_features(conn: Connection, layer: Layer, params: Mapping[str, str], principal: Principal) -> Page:
    """A page of features in id order, with a cursor that stays stable while data changes."""
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise InvalidInput([FieldProblem("limit", "must be a whole number")]) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput([FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}")])
    where, values = filter_sql(layer, params, principal)
    if params.get("sort"):
        return _ranked(conn, layer, params, principal, where=where, values={**values, "limit": limit})
    if params.get("cursor"):
        values["after"] = _decode_cursor(params["cursor"])
        where.append("id > CAST(:after AS uuid)")
    values["limit"] = limit + 1
    sql = f"{select_sql(layer)} WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit"
    if params.get("bbox"):
        # With a bbox the spatial index is the selective path: filter first (OFFSET 0 keeps the
        # planner from walking the primary key in id order and discarding most rows), then sort.
        sql = f"SELECT * FROM ({select_sql(layer)} WHERE {' AND '.join(where)} OFFSET 0) s ORDER BY id LIMIT :limit"
    rows = conn.execute(text(sql), values).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    features = [to_feature(layer, r, principal) for r in rows]
    return Page(features, _encode_cursor(str(rows[-1]["id"])) if more else None)


def search_words(q: str | None) -> str:
    """What a search looks for: the words typed, without the spaces a phone keyboard adds around them."""
    return " ".join((q or "").split())


def _ranked(conn: Connection, layer: Layer, params: Mapping[str, str], principal: Principal, *, where: list[str],
            values: dict) -> Page:
    """``sort=relevance``: one page of a search, best match first (:data:`_RANK_SQL`, then the
    shortest name), each feature with its ``searchRank`` (so lists of several layers merge). It has
    no next page: a ranked list is for finding, the id order for paging."""
    if params["sort"] != "relevance":
        raise InvalidInput([FieldProblem("sort", "the only sort is 'relevance' (with q); without it, features come in id order")])
    if not search_words(params.get("q")) or params.get("cursor"):
        raise InvalidInput([FieldProblem("sort", "sort=relevance needs q, and answers one page (no cursor)")])
    base = f"{select_sql(layer)} WHERE {' AND '.join(where)}"
    candidates = (f"SELECT DISTINCT ON (id) * FROM (({base} AND id IN (SELECT asset_id FROM asset_codes WHERE code_key = lower(:raw))) "
                  f"UNION ALL ({base} LIMIT {RANKED_CANDIDATES})) c ORDER BY id")
    sql = f"SELECT *, {_RANK_SQL} AS search_rank FROM ({candidates}) s ORDER BY search_rank, length(name), code LIMIT :limit"
    rows = conn.execute(text(sql), {**values, "raw": search_words(params["q"])}).mappings().all()
    return Page([{**to_feature(layer, r, principal), "searchRank": r["search_rank"]} for r in rows], None)


def history(conn: Connection, layer: Layer, asset_id: str, principal: Principal) -> list[dict]:
    """Every change of an asset (create, update, delete, restore, review), oldest first.

    Changes to private attributes are shown only to those who may see them; the actor is an
    account name for :func:`sees_accounts`, else its role (volunteer, farmer, admin, system).
    """
    row = fetch_row(conn, layer, asset_id, principal, include_deleted=principal.is_admin)
    hidden = set() if can_see_private(principal, layer, row) else {a.name for a in layer.all_attributes if not a.public}
    if not principal.is_admin:
        hidden.add("review_comment")
    entries = asset_history.entries(conn, layer, asset_id)
    roles = None if sees_accounts(principal) else _roles_of(conn, {e["actor"] for e in entries})
    return [
        {
            "version": e["version"],
            "action": e["action"],
            "actor": e["actor"] if roles is None else roles[e["actor"]],
            "at": e["at"].isoformat(),
            "changes": {k: {"old": v[0], "new": v[1]} for k, v in e["changes"].items() if k not in hidden},
        }
        for e in entries
    ]


def _roles_of(conn: Connection, names: set[str]) -> dict[str, str]:
    """Each account name's role; "system" for names that are no account (a file load's actor)."""
    roles = dict(conn.execute(text("SELECT username, role FROM users WHERE username = ANY(:n)"), {"n": list(names)}).all())
    return {name: roles.get(name, "system") for name in names}
