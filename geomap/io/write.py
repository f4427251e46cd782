"""The bulk write path: COPY into a staging table, check in SQL, upsert in one statement.

Everything happens in the caller's transaction, so a file is all-or-nothing. Checks that need
the database (references, containment, codes owned by other assets) run on the staging table
and name the feature index; the upsert only touches rows whose content changed, so loading
the same file twice changes nothing (no new version, no history entry).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=None)
def stage_table(layer: Layer) -> str:
    """Name of the staging table for ``layer``: temporary, one per connection, emptied at every
    commit. The name carries a digest of the columns, so a migration gets a fresh table."""
    digest = hashlib.sha1(",".join(staging_columns(layer)).encode()).hexdigest()[:8]
    return f"geomap_stage_{layer.name}_{digest}"


def _prepare_stage(conn: Connection, layer: Layer) -> tuple[str, float]:
    """Make sure this connection's staging table for ``layer`` exists and is empty, in one round
    trip; return its COPY statement and its ``reltuples`` (-1: never analysed).

    The table lives as long as the pooled connection (``ON COMMIT DELETE ROWS``), so a field write
    does not pay for creating and dropping a table and its catalogue entries every time.
    """
    cols = staging_columns(layer)
    stage, table = stage_table(layer), _q(layer.table)
    select = ", ".join(("NULL::text AS " + _q(c)) if c not in _table_columns(layer) else _q(c) for c in cols)
    reltuples = conn.execute(
        text(
            "SET LOCAL client_min_messages = warning; "
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT 0::int AS idx, {select}, geom FROM {table} WITH NO DATA; "
            f"DELETE FROM {stage}; "  # empty already, unless staged before in this same transaction
            f"SELECT reltuples FROM pg_class WHERE oid = 'pg_temp.{stage}'::regclass"
        )
    ).scalar_one()
    return f"COPY {stage} (idx, {', '.join(_q(c) for c in cols)}, geom) FROM STDIN WITH (FORMAT csv, NULL '\\N')", reltuples


def copy_to_stage(conn: Connection, layer: Layer, frame: pd.DataFrame, progress=None) -> None:
    """Prepare the staging table and COPY ``frame`` (from :func:`stage_frame`) into it."""
    copy_sql, _ = _prepare_stage(conn, layer)
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
    conn.execute(text(f"ANALYZE {stage_table(layer)}"))


def copy_rows_to_stage(conn: Connection, layer: Layer, rows: list[list]) -> None:
    """The same for a few rows (field writes), without a DataFrame.

    The staging table needs statistics even for one row: without them the planner guesses it
    large and joins it to a million-row layer by scanning the layer (seconds instead of ms). It is
    analysed when its statistics describe a different number of rows than this write stages, so
    a stream of single creates on one connection analyses it once.

    Each row is ``[idx, *staging_columns(layer), geom_hex_ewkb]``; None becomes NULL.
    """
    copy_sql, reltuples = _prepare_stage(conn, layer)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    buf.seek(0)
    with conn.connection.dbapi_connection.cursor() as cur:
        cur.copy_expert(copy_sql, buf)
    if reltuples != len(rows):
        conn.execute(text(f"ANALYZE {stage_table(layer)}"))


def _table_columns(layer: Layer) -> set[str]:
    return {"id"} | {a.name for a in layer.writable_attributes}


def check_stage(conn: Connection, layer: Layer, source: str) -> None:
    """Database-side checks for a load: references and containment, then codes of other assets."""
    resolve_references(conn, layer, source)
    match_codes(conn, layer, source)


def resolve_references(conn: Connection, layer: Layer, source: str | None) -> None:
    """Resolve references given by code, check they exist, and check or fill in containment.

    Three statements per reference: resolve codes; check unknown codes, unknown ids and (for
    contained layers) points outside the referenced polygon together; fill in the containing
    polygon where none was given and report points that lie in none.
    """
    stage = stage_table(layer)
    for attr in layer.ref_attributes:
        ref = get_layer(attr.ref_layer)
        rtable, col, code_col = _q(ref.table), _q(attr.name), _q(ref_code_field(attr))
        what = {"ref": ref.en.lower().rstrip("s")}
        conn.execute(
            text(
                f"UPDATE {stage} s SET {col} = r.id FROM {rtable} r "
                f"WHERE s.{col} IS NULL AND s.{code_col} IS NOT NULL AND r.code = s.{code_col} AND r.deleted_at IS NULL"
            )
        )
        checks = [
            f"SELECT idx, '{ref_code_field(attr)}' AS field, format('no %s has code %s', :ref, {code_col}) AS reason "
            f"FROM {stage} s WHERE s.{col} IS NULL AND s.{code_col} IS NOT NULL",
            f"SELECT idx, '{attr.name}', format('no %s has id %s', :ref, s.{col}) FROM {stage} s "
            f"WHERE s.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {rtable} r WHERE r.id = s.{col} AND r.deleted_at IS NULL)",
        ]
        if attr.within_ref:
            checks.append(
                f"SELECT s.idx, 'geometry', format('the point lies outside %s %s', :ref, r.code) FROM {stage} s "
                f"JOIN {rtable} r ON r.id = s.{col} WHERE NOT ST_Covers(r.geom, s.geom)"
            )
        # The first failing check wins (as when they ran one after another), 100 problems at most.
        union = " UNION ALL ".join(f"(SELECT {n} AS k, c.* FROM ({sql}) c)" for n, sql in enumerate(checks))
        _fail_any(conn, f"SELECT k, idx, field, reason FROM ({union}) u ORDER BY k, idx LIMIT 100", source, what)
        if not attr.within_ref:
            continue
        _fail_any(
            conn,
            f"""
            WITH filled AS (
                UPDATE {stage} s SET {col} = (SELECT r.id FROM {rtable} r WHERE r.deleted_at IS NULL
                       AND ST_Covers(r.geom, s.geom) ORDER BY ST_Area(r.geom), r.code LIMIT 1)
                 WHERE s.{col} IS NULL RETURNING s.idx, s.{col} AS ref
            )
            SELECT 0 AS k, idx, 'geometry' AS field,
                   format('the point lies outside every %s; tag the %s first', :ref, :ref) AS reason
              FROM filled WHERE ref IS NULL ORDER BY idx LIMIT 100
            """,
            source, what,
        )


def _fail_any(conn: Connection, sql: str, source: str | None, params: dict) -> None:
    """Run a check returning (k, idx, field, reason) rows; raise for those of the first k found."""
    rows = conn.execute(text(sql), params).all()
    if rows:
        first = rows[0].k
        raise InvalidInput([FieldProblem(r.field, r.reason, int(r.idx)) for r in rows if r.k == first], source=source)


def match_codes(conn: Connection, layer: Layer, source: str | None) -> None:
    """An asset named only by code takes the id it already has; a code owned by another id is an error."""
    table = _q(layer.table)
    conn.execute(
        text(f"UPDATE {stage_table(layer)} s SET id = t.id FROM {table} t WHERE s.id IS NULL AND t.code = s.code")
    )
    _fail_any(
        conn,
        f"SELECT 0 AS k, s.idx, 'code' AS field, format('code %s already belongs to another asset (%s)', s.code, t.id) AS reason "
        f"FROM {stage_table(layer)} s JOIN {table} t ON t.code = s.code AND t.id <> s.id ORDER BY s.idx LIMIT 100",
        source, {},
    )
    conn.execute(text(f"UPDATE {stage_table(layer)} SET id = gen_random_uuid() WHERE id IS NULL"))


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
              FROM {stage_table(layer)} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.id)
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
              FROM {stage_table(layer)} s JOIN {table} t ON t.id = s.id
             WHERE ({t_cols}) IS DISTINCT FROM ({s_cols}) OR t.deleted_at IS NOT NULL
            """
        ),
        {"layer": layer.name, "actor": actor},
    )
    rows = conn.execute(
        text(
            f"""
            INSERT INTO {table} AS t (id, {qcols}, created_by, updated_by)
            SELECT s.id, {s_cols}, :actor, :actor FROM {stage_table(layer)} s ORDER BY s.idx
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
    total = conn.execute(text(f"SELECT count(*) FROM {stage_table(layer)}")).scalar_one()
    return WriteResult(layer.name, source, int(total), inserted=inserted, updated=len(rows) - inserted)
