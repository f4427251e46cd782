"""The change history of assets (``asset_history``): who changed what, when, old → new.

Every write path records here: a field create (one statement with the insert), an edit, delete,
restore or review (one row each), and a file load (set-based: one field-by-field row per asset it
changes or restores). An asset a file load created has no row of its own for that: its creation is
the row's ``created_by``/``created_at`` and its values are the current row with every later
entry's old values put back (each entry records old → new), rebuilt on read. Writing a snapshot of
each new asset was a quarter of a million-tree load. Reading returns every entry as
``field: [old, new]``.
"""

from __future__ import annotations

import json
import uuid
from typing import Mapping

from sqlalchemy import Connection, text

from geomap.layers.base import Layer
from geomap.sql import differs_sql, q, writable_columns

#: Key of a creation snapshot in ``asset_history.changes`` (expanded to field: [null, value] on read).
#: Loads wrote these until 2026-11; they are still read.
SNAPSHOT = "_snapshot"
#: Keys an edit records under another name than the load's column (``geometry`` → ``geom``).
_KEY_OF = {"geometry": "geom"}

_INSERT = "INSERT INTO asset_history (layer, asset_id, version, action, actor, changes) "


def _row_values(layer: Layer, row: Mapping) -> dict:
    vals = {a.name: row[a.name] for a in layer.writable_attributes}
    vals["geometry"] = json.loads(row["geometry"])
    return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in vals.items()}


def record(conn: Connection, layer: Layer, new: Mapping, old: Mapping | None, action: str, actor: str,
           extra: dict | None = None) -> None:
    """One entry: the fields that differ between the ``old`` and ``new`` rows, plus ``extra``."""
    after = _row_values(layer, new)
    before = _row_values(layer, old) if old is not None else {}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and not (old is None and v is None)}
    changes.update(extra or {})
    conn.execute(
        text(_INSERT + "VALUES (:l, :id, :v, :a, :actor, CAST(:c AS jsonb))"),
        {"l": layer.name, "id": str(new["id"]), "v": new["version"], "a": action, "actor": actor,
         "c": json.dumps(changes, default=str, ensure_ascii=False)},
    )


def creates_sql(layer: Layer, inserted: str) -> str:
    """A statement (for a ``WITH`` clause) recording the creation of the rows of CTE ``inserted``,
    which must return the writable columns and ``geometry`` as GeoJSON text."""
    fields = ", ".join(f"'{a.name}', to_jsonb({inserted}.{q(a.name)})" for a in layer.writable_attributes)
    changes = (f"(SELECT jsonb_object_agg(e.key, jsonb_build_array(NULL, e.value)) FROM jsonb_each(jsonb_strip_nulls("
               f"jsonb_build_object({fields}, 'geometry', CAST({inserted}.geometry AS jsonb)))) e)")
    return (_INSERT + f"SELECT CAST(:layer AS text), {inserted}.id, {inserted}.version, 'create', "
            f"CAST(:actor AS text), {changes} FROM {inserted}")


def _fields_jsonb(layer: Layer, alias: str) -> str:
    """``{id, writable columns, geom as GeoJSON}`` of row ``alias`` as jsonb, built column by column:
    ``to_jsonb(row)`` is several times slower on a million rows (it goes through every column's
    generic output, the geometry's JSON cast included)."""
    pairs = [f"'id', {alias}.id"] + [
        f"'{c}', " + (f"ST_AsGeoJSON({alias}.geom)::jsonb" if c == "geom" else f"{alias}.{q(c)}")
        for c in writable_columns(layer)
    ]
    # jsonb_build_object takes at most 100 arguments: join groups of 40 pairs with ||.
    groups = [pairs[i:i + 40] for i in range(0, len(pairs), 40)]
    return " || ".join(f"jsonb_build_object({', '.join(g)})" for g in groups)


def record_load(conn: Connection, layer: Layer, stage: str, actor: str) -> None:
    """History of a file load, before its upsert: field-by-field old → new for every asset the load
    changes or restores. The assets it creates get no row (see the module's docstring)."""
    table = q(layer.table)
    conn.execute(text(
        _INSERT + f"""
        SELECT :layer, s.id, t.version + 1, CASE WHEN t.deleted_at IS NOT NULL THEN 'restore' ELSE 'update' END, :actor,
               COALESCE((SELECT jsonb_object_agg(n.key, jsonb_build_array(o.value, n.value))
                  FROM jsonb_each({_fields_jsonb(layer, 's')}) n
                  LEFT JOIN jsonb_each({_fields_jsonb(layer, 't')}) o ON o.key = n.key
                 WHERE COALESCE(o.value, 'null'::jsonb) IS DISTINCT FROM n.value), '{{}}'::jsonb)
          FROM {stage} s JOIN {table} t ON t.id = s.id
         WHERE {differs_sql(layer, "t", "s")} OR t.deleted_at IS NOT NULL
        """
    ), {"layer": layer.name, "actor": actor})


def entries(conn: Connection, layer: Layer, asset_id: str) -> list[dict]:
    """Every entry of an asset, oldest first, with ``changes`` as ``field: [old, new]``; the
    creation of an asset a file load created is rebuilt from its row (:func:`_rebuilt_creation`)."""
    rows = conn.execute(
        text("SELECT version, action, actor, at, changes FROM asset_history WHERE layer = :l AND asset_id = :id ORDER BY id"),
        {"l": layer.name, "id": str(asset_id)},
    ).mappings().all()
    out = [{**r, "changes": _pairs(r["changes"])} for r in rows]
    asset = conn.execute(
        text(f"SELECT created_by, created_at, {_fields_jsonb(layer, 't')} AS now FROM {q(layer.table)} t WHERE t.id = :id"),
        {"id": str(asset_id)},
    ).one_or_none()
    if asset is None:
        return out
    since = [i for i, e in enumerate(out) if e["at"] >= asset.created_at]  # an earlier life's entries stay before
    if any(out[i]["action"] == "create" for i in since):
        return out
    first = since[0] if since else len(out)
    return [*out[:first], _rebuilt_creation(asset, out[first:]), *out[first:]]


def _rebuilt_creation(asset, later: list[dict]) -> dict:
    """The creation entry of an asset without one: its current values with the old value of every
    later change put back, newest first."""
    values = dict(asset.now)
    for entry in reversed(later):
        for key, (old, _new) in entry["changes"].items():
            key = _KEY_OF.get(key, key)
            if key in values:
                values[key] = old
    return {"version": 1, "action": "create", "actor": asset.created_by, "at": asset.created_at,
            "changes": {k: [None, v] for k, v in values.items() if v is not None}}


def _pairs(changes: dict) -> dict:
    """Bulk-load creations are stored as one snapshot; expand it to field: [null, value]."""
    if SNAPSHOT in changes:
        return {k: [None, v] for k, v in changes[SNAPSHOT].items()}
    return changes
