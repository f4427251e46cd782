"""The bulk write path: COPY into a staging table, check in SQL, upsert in one statement.

Everything happens in the caller's transaction, so a file is all-or-nothing. Checks that need
the database (references, containment, codes owned by other assets) run on the staging table
and name the feature index; the upsert only touches rows whose content changed, so loading
the same file twice changes nothing (no new version, no history entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geomap import history, prepared
from geomap.errors import FieldProblem, InvalidInput
from geomap.integrity import integrity_errors
from geomap.io.bulk_indexes import built_after
from geomap.io.staging import stage_table
from geomap.layers.base import Layer
from geomap.layers.registry import get_layer
from geomap.schemas import ref_code_field
from geomap.sql import differs_sql, q, writable_columns


@dataclass
class WriteResult:
    """What one file did to one layer."""

    layer: str
    source: str
    features: int
    inserted: int = 0
    updated: int = 0
    #: The same file was the last thing loaded into this layer: nothing was read or compared.
    same_file: bool = False

    @property
    def unchanged(self) -> int:
        """Features that were already stored exactly like this."""
        return self.features - self.inserted - self.updated


def check_stage(conn: Connection, layer: Layer, source: str) -> None:
    """Database-side checks for a load: references and containment, then codes of other assets.

    The rows the layer already holds exactly like this are taken out first (once their references
    and ids are filled in, so that they compare), and only what the load changes is checked: a
    reload of an unchanged million-tree file after an edit skipped 4.3 s of joins (every farm, every
    containment, every code) for rows it writes nothing for. An unchanged row is therefore not
    refused for what changed around it since (a farm deleted or redrawn); no write, no check.
    """
    fill_references(conn, layer)
    _ids_by_code(conn, layer)
    if _drop_unchanged(conn, layer):  # the planner must see how few rows are left
        conn.execute(text(f"ANALYZE {stage_table(layer)}"))
    check_references(conn, layer, source)
    match_codes(conn, layer, source)


def resolve_references(conn: Connection, layer: Layer, source: str | None,
                       first: Sequence[prepared.Step] = ()) -> None:
    """Resolve references given by code, fill in containment, and check them all (a field write):
    one round trip once the statements are prepared on the connection, after the ``first`` ones
    (the one that stages the rows)."""
    check_references(conn, layer, source, first=[*first, *_fill_steps(layer)])


def _reference(attr) -> tuple[Layer, str, str, str]:
    """A reference attribute's layer, its quoted table, and the staging table's quoted id and code columns."""
    ref = get_layer(attr.ref_layer)
    return ref, q(ref.table), q(attr.name), q(ref_code_field(attr))


def fill_references(conn: Connection, layer: Layer) -> None:
    """For the staged rows that name no reference by id: the id of the one named by code, or, for
    a contained layer's row that names neither, of the smallest polygon that covers it (a row it
    leaves empty is reported by :func:`check_references`). One statement per reference."""
    steps = _fill_steps(layer)
    if steps:
        prepared.pipeline(conn, steps)


def _fill_steps(layer: Layer) -> list[prepared.Step]:
    stage = stage_table(layer)
    steps = []
    for attr in layer.ref_attributes:
        _, rtable, col, code_col = _reference(attr)
        covering = (f"(SELECT r.id FROM {rtable} r WHERE r.deleted_at IS NULL AND ST_Covers(r.geom, s.geom) "
                    f"ORDER BY ST_Area(r.geom), r.code LIMIT 1)") if attr.within_ref else "NULL"
        named = "" if attr.within_ref else f" AND s.{code_col} IS NOT NULL"
        steps.append(prepared.Step(
            f"UPDATE {stage} s SET {col} = CASE WHEN s.{code_col} IS NOT NULL "
            f"THEN (SELECT r.id FROM {rtable} r WHERE r.code = s.{code_col} AND r.deleted_at IS NULL LIMIT 1) "
            f"ELSE {covering} END WHERE s.{col} IS NULL{named}"
        ))
    return steps


def check_references(conn: Connection, layer: Layer, source: str | None, first: Sequence[prepared.Step] = ()) -> None:
    """Once the references are filled in (:func:`fill_references`, or its statements in ``first``):
    codes and ids that name no asset, points outside the polygon they name, and points that lie in
    none. One statement for every reference, after ``first`` in the same round trip; the first
    failing check wins (as when they ran one after another), 100 problems at most."""
    stage = stage_table(layer)
    checks, params = [], {}
    for i, attr in enumerate(layer.ref_attributes):
        ref, rtable, col, code_col = _reference(attr)
        what = f"CAST(:ref{i} AS text)"
        params[f"ref{i}"] = ref.en.lower().rstrip("s")
        checks += [
            f"SELECT idx, '{ref_code_field(attr)}' AS field, format('no %s has code %s', {what}, {code_col}) AS reason "
            f"FROM {stage} s WHERE s.{col} IS NULL AND s.{code_col} IS NOT NULL",
            f"SELECT idx, '{attr.name}', format('no %s has id %s', {what}, s.{col}) FROM {stage} s "
            f"WHERE s.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {rtable} r WHERE r.id = s.{col} AND r.deleted_at IS NULL)",
        ]
        if attr.within_ref:
            checks += [
                f"SELECT s.idx, 'geometry', format('the point lies outside %s %s', {what}, r.code) FROM {stage} s "
                f"JOIN {rtable} r ON r.id = s.{col} WHERE NOT ST_Covers(r.geom, s.geom)",
                f"SELECT idx, 'geometry', format('the point lies outside every %s; tag the %s first', "
                f"{what}, {what}) FROM {stage} s WHERE s.{col} IS NULL AND s.{code_col} IS NULL",
            ]
    if not checks:
        if first:
            prepared.pipeline(conn, first)
        return
    union = " UNION ALL ".join(f"(SELECT {n} AS k, c.* FROM ({sql}) c)" for n, sql in enumerate(checks))
    _fail_any(conn, f"SELECT k, idx, field, reason FROM ({union}) u ORDER BY k, idx LIMIT 100", source, params, first)


def _fail_any(conn: Connection, sql: str, source: str | None, params: dict, first: Sequence[prepared.Step] = ()) -> None:
    """Run a check returning (k, idx, field, reason) rows (after ``first``, in the same round
    trip); raise for those of the first k found."""
    rows = prepared.pipeline(conn, [*first, prepared.Step(sql, params)]).all()
    if rows:
        first_k = rows[0].k
        raise InvalidInput([FieldProblem(r.field, r.reason, int(r.idx)) for r in rows if r.k == first_k], source=source)


def _ids_by_code(conn: Connection, layer: Layer) -> None:
    """An asset named only by code takes the id it already has."""
    conn.execute(text(f"UPDATE {stage_table(layer)} s SET id = t.id FROM {q(layer.table)} t WHERE s.id IS NULL AND t.code = s.code"))


def match_codes(conn: Connection, layer: Layer, source: str | None) -> None:
    """A code held by another asset of any layer (ignoring case) is an error; a new asset gets its id."""
    stage = stage_table(layer)
    _fail_any(
        conn,
        f"SELECT 0 AS k, s.idx, 'code' AS field, "
        f"format('code %s already belongs to another asset (%s %s)', s.code, c.layer, c.asset_id) AS reason "
        f"FROM {stage} s JOIN asset_codes c ON c.code_key = lower(s.code) AND c.asset_id IS DISTINCT FROM s.id "
        f"ORDER BY s.idx LIMIT 100",
        source, {},
    )
    conn.execute(text(f"UPDATE {stage} SET id = gen_random_uuid() WHERE id IS NULL"))


def upsert_stage(conn: Connection, layer: Layer, actor: str, source: str, total: int) -> WriteResult:
    """Insert new assets, update changed ones, record their history (after :func:`check_stage`,
    which took the unchanged ones out); return the counts of the ``total`` features staged."""
    with integrity_errors(layer):
        history.record_load(conn, layer, stage_table(layer), actor)
        # Into a layer that has rows, the search index (GIN, trigrams of code and name) takes the
        # load's entries into its pending list and merges them in one sorted pass below, instead of
        # one insert per row; into an empty one it is built afterwards (built_after).
        conn.execute(text("SET LOCAL gin_pending_list_limit = '1GB'"))
        with built_after(conn, layer, total):  # into an empty layer: secondary indexes after the insert
            inserted, written = _upsert(conn, layer, actor)
    conn.execute(
        text("SELECT gin_clean_pending_list(i.oid) FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid "
             "JOIN pg_am a ON a.oid = i.relam WHERE x.indrelid = CAST(:t AS regclass) AND a.amname = 'gin' "
             "AND pg_has_role(i.relowner, 'USAGE')"),
        {"t": layer.table},
    )
    return WriteResult(layer.name, source, int(total), inserted=inserted, updated=written - inserted)


def _drop_unchanged(conn: Connection, layer: Layer) -> int:
    """Take the rows the layer already holds exactly like this out of the staging table, in one
    join, so that the checks, history and upsert see only what the load changes; returns how
    many it took out. Without it, a reload of an unchanged million-tree file locked every row in
    ``ON CONFLICT`` (a write to every heap page) to find that nothing differs. A row another writer
    changes after this statement keeps that writer's values, as if the edit came after the load."""
    return conn.execute(text(
        f"DELETE FROM {stage_table(layer)} s USING {q(layer.table)} t "
        f"WHERE t.id = s.id AND t.deleted_at IS NULL AND NOT {differs_sql(layer, 't', 's')}"
    )).rowcount


def _upsert(conn: Connection, layer: Layer, actor: str) -> tuple[int, int]:
    """The insert-or-update of the staged rows; returns (inserted, written): only the counts come
    back, not a row per asset (a million of them, for a national file)."""
    table, stage = q(layer.table), stage_table(layer)
    cols = writable_columns(layer)
    qcols = ", ".join(q(c) for c in cols)
    s_cols = ", ".join("s." + q(c) for c in cols)
    excluded = ", ".join("EXCLUDED." + q(c) for c in cols)
    inserted, written = conn.execute(
        text(
            f"""
            WITH w AS (
            INSERT INTO {table} AS t (id, {qcols}, created_by, updated_by)
            SELECT s.id, {s_cols}, :actor, :actor FROM {stage} s ORDER BY s.idx
            ON CONFLICT (id) DO UPDATE
               SET ({qcols}, updated_by, updated_at, version, deleted_at)
                 = ({excluded}, EXCLUDED.updated_by, now(), t.version + 1, NULL)
             WHERE {differs_sql(layer, "t", "EXCLUDED")} OR t.deleted_at IS NOT NULL
            RETURNING (xmax = 0) AS inserted)
            SELECT count(*) FILTER (WHERE inserted), count(*) FROM w
            """
        ),
        {"actor": actor},
    ).one()
    return int(inserted), int(written)
