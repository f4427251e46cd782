"""The bulk write path: COPY into a staging table, check in SQL, upsert in one statement.

Everything happens in the caller's transaction, so a file is all-or-nothing. Checks that need
the database (references, containment, codes owned by other assets) run on the staging table
and name the feature index; the upsert only touches rows whose content changed, so loading
the same file twice changes nothing (no new version, no history entry).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, text

from geomap.errors import FieldProblem, InvalidInput
from geomap.io.validate import staging_columns
from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.schemas import ref_code_field

COPY_CHUNK = 100_000

#: Key of a creation snapshot in ``asset_history.changes`` (expanded to field: [null, value] on read).
SNAPSHOT = "_snapshot"
STAGE = "geomap_stage"


@dataclass
class WriteResult:
    """What one file did to one layer."""

    layer: str
    source: str
    features: int
    inserted: int = 0
    updated: int = 0

    @property
    def unchanged(self) -> int:
        """Features that were already stored exactly like this."""
        return self.features - self.inserted - self.updated


def _q(name: str) -> str:
    """Quote an identifier that comes from the registry (never from user input)."""
    return '"' + name.replace('"', '""') + '"'


def _fail(conn: Connection, sql: str, field: str, reason_sql_col: str, source: str, params: dict | None = None) -> None:
    rows = conn.execute(text(sql), params or {}).all()
    if rows:
        problems = [FieldProblem(field, getattr(r, reason_sql_col), int(r.idx)) for r in rows]
        raise InvalidInput(problems, source=source)


def _create_stage(conn: Connection, layer: Layer) -> str:
    """Create the temporary staging table shaped like ``layer``'s table; return its COPY statement."""
    cols = staging_columns(layer)
    table = _q(layer.table)
    select = ", ".join(
        ("NULL::text AS " + _q(c)) if c not in _table_columns(layer) else _q(c) for c in cols
    )
    conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    conn.execute(
        text(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT 0::int AS idx, {select}, geom FROM {table} WITH NO DATA")
    )
    return f"COPY {STAGE} (idx, {', '.join(_q(c) for c in cols)}, geom) FROM STDIN WITH (FORMAT csv, NULL '\\N')"


def copy_to_stage(conn: Connection, layer: Layer, frame: pd.DataFrame, progress=None) -> None:
    """Create the staging table and COPY ``frame`` (from :func:`stage_frame`) into it."""
    copy_sql = _create_stage(conn, layer)
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        for start in range(0, len(frame), COPY_CHUNK):
            chunk = frame.iloc[start : start + COPY_CHUNK]
            buf = io.StringIO()
            chunk.to_csv(buf, header=False, index=False, na_rep="\\N")
            buf.seek(0)
            cur.copy_expert(copy_sql, buf)
            if progress is not None:
                progress.update(len(chunk))
    conn.execute(text(f"ANALYZE {STAGE}"))


def copy_rows_to_stage(conn: Connection, layer: Layer, rows: list[list]) -> None:
    """The same for a few rows (field writes), without a DataFrame.

    The staging table is analysed even for one row: without statistics the planner guesses it
    large and joins it to a million-row layer by scanning the layer (seconds instead of ms).

    Each row is ``[idx, *staging_columns(layer), geom_hex_ewkb]``; None becomes NULL.
    """
    copy_sql = _create_stage(conn, layer)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    buf.seek(0)
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(copy_sql, buf)
    conn.execute(text(f"ANALYZE {STAGE}"))


def _table_columns(layer: Layer) -> set[str]:
    return {"id"} | {a.name for a in layer.writable_attributes}


def check_stage(conn: Connection, layer: Layer, source: str) -> None:
    """Database-side checks for a load: references and containment, then codes of other assets."""
    resolve_references(conn, layer, source)
    match_codes(conn, layer, source)


def resolve_references(conn: Connection, layer: Layer, source: str | None) -> None:
    """Resolve references given by code, check they exist, and check or fill in containment."""
    for attr in layer.ref_attributes:
        ref = get_layer(attr.ref_layer)
        rtable, col, code_col = _q(ref.table), _q(attr.name), _q(ref_code_field(attr))
        conn.execute(
            text(
                f"UPDATE {STAGE} s SET {col} = r.id FROM {rtable} r "
                f"WHERE s.{col} IS NULL AND s.{code_col} IS NOT NULL AND r.code = s.{code_col} AND r.deleted_at IS NULL"
            )
        )
        _fail(
            conn,
            f"SELECT idx, format('no %s has code %s', :ref, {code_col}) AS reason FROM {STAGE} s "
            f"WHERE s.{col} IS NULL AND s.{code_col} IS NOT NULL ORDER BY idx LIMIT 100",
            ref_code_field(attr), "reason", source, {"ref": ref.en.lower().rstrip("s")},
        )
        _fail(
            conn,
            f"SELECT idx, format('no %s has id %s', :ref, s.{col}) AS reason FROM {STAGE} s "
            f"WHERE s.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {rtable} r WHERE r.id = s.{col} AND r.deleted_at IS NULL) "
            f"ORDER BY idx LIMIT 100",
            attr.name, "reason", source, {"ref": ref.en.lower().rstrip("s")},
        )
        if not attr.within_ref:
            continue
        _fail(
            conn,
            f"SELECT s.idx, format('the point lies outside %s %s', :ref, r.code) AS reason FROM {STAGE} s "
            f"JOIN {rtable} r ON r.id = s.{col} WHERE NOT ST_Covers(r.geom, s.geom) ORDER BY s.idx LIMIT 100",
            "geometry", "reason", source, {"ref": ref.en.lower().rstrip("s")},
        )
        conn.execute(
            text(
                f"UPDATE {STAGE} s SET {col} = (SELECT r.id FROM {rtable} r WHERE r.deleted_at IS NULL "
                f"AND ST_Covers(r.geom, s.geom) ORDER BY ST_Area(r.geom), r.code LIMIT 1) WHERE s.{col} IS NULL"
            )
        )
        _fail(
            conn,
            f"SELECT idx, format('the point lies outside every %s; tag the %s first', :ref, :ref) AS reason "
            f"FROM {STAGE} WHERE {col} IS NULL ORDER BY idx LIMIT 100",
            "geometry", "reason", source, {"ref": ref.en.lower().rstrip("s")},
        )


def match_codes(conn: Connection, layer: Layer, source: str | None) -> None:
    """An asset named only by code takes the id it already has; a code owned by another id is an error."""
    table = _q(layer.table)
    conn.execute(
        text(f"UPDATE {STAGE} s SET id = t.id FROM {table} t WHERE s.id IS NULL AND t.code = s.code")
    )
    _fail(
        conn,
        f"SELECT s.idx, format('code %s already belongs to another asset (%s)', s.code, t.id) AS reason "
        f"FROM {STAGE} s JOIN {table} t ON t.code = s.code AND t.id <> s.id ORDER BY s.idx LIMIT 100",
        "code", "reason", source,
    )
    conn.execute(text(f"UPDATE {STAGE} SET id = gen_random_uuid() WHERE id IS NULL"))


def upsert_stage(conn: Connection, layer: Layer, actor: str, source: str) -> WriteResult:
    """Insert new assets, update changed ones, record per-field history; return the counts."""
    table = _q(layer.table)
    cols = [a.name for a in layer.writable_attributes] + ["geom"]
    qcols = ", ".join(_q(c) for c in cols)
    s_cols = ", ".join("s." + _q(c) for c in cols)
    t_cols = ", ".join("t." + _q(c) for c in cols)
    excluded = ", ".join("EXCLUDED." + _q(c) for c in cols)
    drop_keys = " - ".join(["'idx'"] + [f"'{ref_code_field(a)}'" for a in layer.ref_attributes])
    # New assets: one snapshot per asset (cheap at a million rows); read back as field: [null, value].
    conn.execute(
        text(
            f"""
            INSERT INTO asset_history (layer, asset_id, version, action, actor, changes)
            SELECT :layer, s.id, 1, 'create', :actor,
                   jsonb_build_object('{SNAPSHOT}', jsonb_strip_nulls(to_jsonb(s) - {drop_keys}))
              FROM {STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.id)
            """
        ),
        {"layer": layer.name, "actor": actor},
    )
    # Changed assets: field by field, old → new.
    conn.execute(
        text(
            f"""
            INSERT INTO asset_history (layer, asset_id, version, action, actor, changes)
            SELECT :layer, s.id, t.version + 1,
                   CASE WHEN t.deleted_at IS NOT NULL THEN 'restore' ELSE 'update' END,
                   :actor,
                   COALESCE((SELECT jsonb_object_agg(n.key, jsonb_build_array(o.value, n.value))
                      FROM jsonb_each(to_jsonb(s) - {drop_keys}) n
                      LEFT JOIN jsonb_each(to_jsonb(t)) o ON o.key = n.key
                     WHERE COALESCE(o.value, 'null'::jsonb) IS DISTINCT FROM n.value), '{{}}'::jsonb)
              FROM {STAGE} s JOIN {table} t ON t.id = s.id
             WHERE ({t_cols}) IS DISTINCT FROM ({s_cols}) OR t.deleted_at IS NOT NULL
            """
        ),
        {"layer": layer.name, "actor": actor},
    )
    rows = conn.execute(
        text(
            f"""
            INSERT INTO {table} AS t (id, {qcols}, created_by, updated_by)
            SELECT s.id, {s_cols}, :actor, :actor FROM {STAGE} s ORDER BY s.idx
            ON CONFLICT (id) DO UPDATE
               SET ({qcols}, updated_by, updated_at, version, deleted_at)
                 = ({excluded}, EXCLUDED.updated_by, now(), t.version + 1, NULL)
             WHERE ({t_cols}) IS DISTINCT FROM ({excluded}) OR t.deleted_at IS NOT NULL
            RETURNING (xmax = 0) AS inserted
            """
        ),
        {"actor": actor},
    ).all()
    inserted = sum(1 for r in rows if r.inserted)
    total = conn.execute(text(f"SELECT count(*) FROM {STAGE}")).scalar_one()
    return WriteResult(layer.name, source, int(total), inserted=inserted, updated=len(rows) - inserted)
