"""Creating assets from the field: one Feature or a batch, all or nothing, safe to retry.

The flow: who may create → validate every feature → spacing locks, and what a retry already
created (receipts) → the volunteer's working area → stage (one JSON insert, sent with the
reference checks) → references, codes and the nearby rule checked in SQL on the staging table →
one INSERT that also records the history and the receipts. Any problem anywhere and nothing is written; a batch's errors name each feature.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, text

from geomap import history, prepared
from geomap.auth import Principal
from geomap.errors import Conflict, FieldProblem, Forbidden, InvalidInput
from geomap.integrity import integrity_errors
from geomap.io.staging import rows_step, stage_rows, stage_table
from geomap.io.write import resolve_references
from geomap.layers.base import Layer
from geomap.services import permissions, receipts, spacing
from geomap.services.feature_input import ParsedFeatures, WriteOptions, ewkb, geometry_hash_input, parse_features
from geomap.services.features import to_feature
from geomap.sql import BOOKKEEPING_COLUMNS, q, writable_columns

MAX_BATCH = 5000


@dataclass
class Created:
    """One feature of a create: the stored Feature, and whether this request created it."""

    feature: dict
    created: bool


def create_features(conn: Connection, layer: Layer, principal: Principal, items: list, options: WriteOptions, *,
                    single: bool = False, idempotency_key: str | None = None) -> list[Created]:
    """Create features (all or nothing). Retries with the same ids or key return what exists."""
    team = _creator_team(conn, principal, layer)
    if not single and not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput([FieldProblem("features", f"a batch holds 1 to {MAX_BATCH} features, not {len(items)}")])
    key = receipts.idempotency_key(principal.username, idempotency_key) if idempotency_key is not None else None
    if key is not None:
        receipts.wait_for_in_flight(conn, [key])
        row = receipts.find(conn, key)
        if row is not None:
            receipts.check(row, key, receipts.request_hash(items), layer)
            return _replayed(conn, layer, principal, [str(i) for i in row.asset_ids])
    parsed = parse_features(layer, items, single, options, principal)
    if parsed.problems:
        raise InvalidInput(parsed.problems)
    permissions.check_team_codes(principal, parsed.records, single)
    hashes = [receipts.request_hash({"p": {k: v for k, v in r.items() if k != "id"}, "g": geometry_hash_input(g)})
              for r, g in zip(parsed.records, parsed.geoms)]
    chosen = {i: str(rec["id"]) for i, rec in enumerate(parsed.records) if rec.get("id") is not None}
    # One statement locks the chosen ids (retries in flight wait) and then the spacing cells; the
    # receipts of the chosen ids are read in the same round trip, once the locks are held.
    locks = receipts.in_flight_step([receipts.id_key(layer, fid) for fid in chosen.values()],
                                    then=spacing.cell_keys(layer, parsed.geoms))
    results = _replay_ids(conn, layer, principal, chosen, hashes, single, locks)
    for rec in parsed.records:
        if rec.get("id") is None:
            rec["id"] = uuid.uuid4()
    todo = [i for i in range(len(parsed.records)) if i not in results]
    if todo:
        id_receipts = [(receipts.id_key(layer, str(parsed.records[i]["id"])), hashes[i], [str(parsed.records[i]["id"])])
                       for i in todo]
        results.update(_insert_new(conn, layer, principal, parsed, todo, options=options, single=single, team=team,
                                   receipts_201=id_receipts))
    ordered = [results[i] for i in range(len(parsed.records))]
    if key is not None:
        receipts.store(conn, layer, [(key, receipts.request_hash(items), [c.feature["id"] for c in ordered])], 201)
    return ordered


def _creator_team(conn: Connection, principal: Principal, layer: Layer):
    """Who may create: volunteers (of a team that tags ``layer``) and administrators."""
    permissions.require_signed_in(principal)
    if principal.role == "farmer":
        raise Forbidden("farmers cannot create assets; ask your team's volunteers")
    return permissions.check_team_layer(conn, principal, layer) if principal.role == "volunteer" else None


def _replayed(conn: Connection, layer: Layer, principal: Principal, ids: list[str]) -> list[Created]:
    assets = receipts.assets(conn, layer, ids)
    return [Created(to_feature(layer, assets[i], principal), False) for i in ids if i in assets]


def _replay_ids(conn: Connection, layer: Layer, principal: Principal, chosen: dict[int, str], hashes: list[str],
                single: bool, locks: prepared.Step | None) -> dict[int, Created]:
    """Take ``locks`` (the chosen ids', and the spacing cells'); then the features whose
    client-chosen id (``chosen``: index → id) has a receipt for this same content: what they created."""
    if not chosen:
        if locks is not None:
            prepared.pipeline(conn, [locks])
        return {}
    found, taken = receipts.for_ids(conn, layer, list(chosen.values()), after=locks)
    replayed: dict[int, str] = {}
    for i, fid in chosen.items():
        where = None if single else i
        if fid in found:
            receipts.check(found[fid], receipts.id_key(layer, fid), hashes[i], layer, where)
            replayed[i] = fid
        elif fid in taken:
            raise Conflict(f"{'' if single else f'feature {i}: '}id {fid} is already used by another asset", {"index": where})
    if not replayed:
        return {}
    assets = receipts.assets(conn, layer, list(replayed.values()))
    return {i: Created(to_feature(layer, assets[fid], principal), False) for i, fid in replayed.items() if fid in assets}


def _insert_new(conn: Connection, layer: Layer, principal: Principal, parsed: ParsedFeatures, todo: list[int], *,
                options: WriteOptions, single: bool, team, receipts_201: list) -> dict[int, Created]:
    """Check and insert the features at ``todo`` (their spacing cells locked already), storing
    ``receipts_201`` in the same statement; return them as created."""
    records, geoms = [parsed.records[i] for i in todo], [parsed.geoms[i] for i in todo]
    if principal.role == "volunteer":
        items = [(None if single else i, ewkb(parsed.geoms[i]), parsed.records[i].get("province"),
                  parsed.records[i].get("commune")) for i in todo]
        outside = permissions.outside_team_area(conn, principal, items, team=team)
        if outside:
            raise Forbidden("; ".join(p.describe() for p in outside))
    try:
        resolve_references(conn, layer, None, first=[rows_step(layer, stage_rows(layer, records, geoms, todo))])
    except InvalidInput as exc:
        if single:
            raise InvalidInput([FieldProblem(p.field, p.reason, None) for p in exc.problems]) from None
        raise
    near = _check_codes(conn, layer, single)
    spacing.raise_nearby(layer, near, options.confirm_nearby, single)
    rows = _insert_stage(conn, layer, principal, receipts_201)
    return {i: Created(to_feature(layer, rows[str(parsed.records[i]["id"])], principal), True) for i in todo}


def _check_codes(conn: Connection, layer: Layer, single: bool) -> list:
    """Codes held by other assets of any layer (ignoring case), and codes repeated within the
    batch; in the same statement, each staged point's nearest asset, returned for the spacing rule."""
    stage = stage_table(layer)
    rows = prepared.execute(
        conn,
        (
            f"(SELECT 'taken' AS kind, s.idx, c.code, c.asset_id::text AS id, c.layer, NULL::float8 AS d FROM {stage} s "
            f" JOIN asset_codes c ON c.code_key = lower(s.code) AND c.asset_id <> s.id ORDER BY s.idx LIMIT 1) "
            f"UNION ALL (SELECT 'twice', NULL, min(code), NULL, NULL, NULL FROM {stage} GROUP BY lower(code) HAVING count(*) > 1 LIMIT 1) "
            f"UNION ALL (SELECT 'near', n.idx, n.code, n.id, NULL, n.d FROM ({spacing.nearest_sql(layer)}) n ORDER BY n.idx)"
        ),
        spacing.nearest_params(layer),
    ).all()
    near = [r for r in rows if r.kind == "near"]
    rows = [r for r in rows if r.kind != "near"]
    taken = [r for r in rows if r.kind == "taken"]
    if taken:
        r = taken[0]
        where = "" if single else f"feature {r.idx}: "
        raise Conflict(f"{where}code {r.code} already belongs to asset {r.id} ({r.layer}); a printed code names one asset",
                       {"index": None if single else int(r.idx), "existing_id": r.id, "existing_layer": r.layer,
                        "errors": [{"field": "code", "reason": "already taken"}]})
    if rows:
        raise InvalidInput([FieldProblem("code", f"code {rows[0].code} appears twice in this batch")])
    return near


def _insert_stage(conn: Connection, layer: Layer, principal: Principal, receipts_201: list) -> dict[str, Mapping]:
    """Insert the staged features, their creation history and their id receipts in one statement;
    return the rows."""
    qcols = ", ".join(q(c) for c in writable_columns(layer))
    review = "approved" if principal.is_admin else "received"
    returned = ", ".join(q(c) for c in ["id", *(a.name for a in layer.all_attributes), *BOOKKEEPING_COLUMNS])
    sql = f"""
        WITH i AS (
            INSERT INTO {q(layer.table)} (id, {qcols}, created_by, updated_by, review_state)
            SELECT id, {qcols}, CAST(:actor AS text), CAST(:actor AS text), CAST(:review AS text) FROM {stage_table(layer)} ORDER BY idx
            RETURNING {returned}, ST_AsGeoJSON(geom, 9) AS geometry
        ), h AS ({history.creates_sql(layer, "i")}),
        r AS ({receipts.STORE_SQL})
        SELECT * FROM i
    """
    with integrity_errors(layer):
        rows = prepared.execute(conn, sql, {"actor": principal.actor, "review": review, "layer": layer.name,
                                            **receipts.store_params(layer, receipts_201, 201)}).mappings().all()
    return {str(r["id"]): r for r in rows}
