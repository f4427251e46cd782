"""Field writes: create (single and batch), merge-patch, delete/restore, review.

Safe under retries and conflicts:

* a client-chosen ``id`` and an ``Idempotency-Key`` both leave a *receipt* with a hash of the
  request; a retry with the same content returns the existing asset, different content is 409;
* edits need ``If-Match`` with the current ETag: the row is locked, and a stale version is 412;
* creates lock small grid cells around each new point (advisory locks), so two volunteers
  tagging the same tree at once cannot both pass the nearby-asset check;
* a batch is one transaction: any problem anywhere and nothing is written, with per-index errors.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import shapely
import shapely.geometry
from pydantic import ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geomap.auth import Principal
from geomap.errors import BadRequest, Conflict, FieldProblem, Forbidden, InvalidInput, PreconditionFailed, PreconditionRequired
from geomap.geometry import check_geometries
from geomap.io.validate import stage_rows
from geomap.io.write import copy_rows_to_stage, resolve_references, stage_table
from geomap.layers.base import Layer
from geomap.layers.common import REVIEW_STATES
from geomap.schemas import properties_model, problems_from, ref_code_field
from geomap.services import permissions
from geomap.services.features import SYSTEM_COLUMNS, etag, fetch_row, q, select_sql, to_feature

MAX_BATCH = 5000
DUPLICATE_M = 0.01
LOCK_CELL_M = 100.0


@dataclass
class WriteOptions:
    """Per-request switches."""

    force: bool = False  # admins: accept poor GPS accuracy
    confirm_nearby: bool = False  # the client confirms a new asset close to an existing one
    gps_accuracy_max_m: float = 30.0


@dataclass
class Created:
    """One feature of a create: the stored Feature, and whether this request created it."""

    feature: dict
    created: bool


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def request_hash(obj: Any) -> str:
    """Hash of a request's content, to tell a retry from a different request."""
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()


def _parse_features(layer: Layer, items: list, single: bool, options: WriteOptions, principal: Principal):
    """Validate GeoJSON features; return (records, geometries, problems)."""
    model = properties_model(layer)
    records: list[dict] = []
    raw_geoms: list = []
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        index = None if single else i
        if not isinstance(item, dict) or item.get("type") != "Feature":
            problems.append(FieldProblem("type", "each item must be a GeoJSON Feature", index))
            records.append({})
            raw_geoms.append(None)
            continue
        extra = set(item) - {"type", "id", "geometry", "properties", "bbox"}
        for key in sorted(extra):
            problems.append(FieldProblem(key, "is not a member of a GeoJSON Feature", index))
        props = item.get("properties")
        if not isinstance(props, dict):
            problems.append(FieldProblem("properties", "must be an object", index))
            props = {}
        props = dict(props)
        if "id" in item and item["id"] is not None:
            if "id" in props and props["id"] is not None and str(props["id"]) != str(item["id"]):
                problems.append(FieldProblem("id", "Feature id and properties.id differ", index))
            props["id"] = item["id"]
        try:
            record = model.model_validate(props).model_dump()
        except ValidationError as exc:
            problems.extend(problems_from(exc, index=index, layer=layer))
            record = {}
        acc = record.get("gps_accuracy_m")
        if acc is not None and acc > options.gps_accuracy_max_m and not (options.force and principal.is_admin):
            problems.append(FieldProblem(
                "gps_accuracy_m",
                f"GPS accuracy {acc:g} m is worse than the {options.gps_accuracy_max_m:g} m allowed; "
                "wait for a better fix (an administrator can force it)",
                index,
            ))
        records.append(record)
        raw_geoms.append(_shape(item.get("geometry"), index, problems))
    geoms, geom_problems = check_geometries(layer, raw_geoms, indexes=[None] * len(items) if single else None)
    problems.extend(geom_problems)
    return records, geoms, problems


def _shape(geometry: Any, index: int | None, problems: list[FieldProblem]):
    if geometry is None:
        return None
    try:
        if not isinstance(geometry, dict):
            raise TypeError("not an object")
        _check_rings(geometry)
        return shapely.geometry.shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        problems.append(FieldProblem("geometry", f"not a valid GeoJSON geometry ({reason})", index))
        return None


def _check_rings(geometry: dict) -> None:
    """GeoJSON rings must be closed with at least four positions (RFC 7946 §3.1.6); shapely would
    silently close them."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons = [coords] if kind == "Polygon" else (coords if kind == "MultiPolygon" else [])
    for polygon in polygons or []:
        for ring in polygon or []:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError("each polygon ring must be closed (first position = last) with at least 4 positions")


def _lock_cells(conn: Connection, layer: Layer, geoms) -> None:
    """Advisory locks on the ~100 m grid cells within reach of each new point, in a fixed order."""
    if layer.geometry != "Point" or layer.min_spacing_m <= 0:
        return
    keys = set()
    for g in geoms:
        lat_m = 110_574.0
        lon_m = 111_320.0 * max(0.1, math.cos(math.radians(g.y)))
        r = layer.min_spacing_m
        for dx in (-r, r):
            for dy in (-r, r):
                keys.add((math.floor((g.x * lon_m + dx) / LOCK_CELL_M), math.floor((g.y * lat_m + dy) / LOCK_CELL_M)))
    ordered = [f"{layer.name}:{cx}:{cy}" for cx, cy in sorted(keys)]
    # One statement; locks are taken in the array's order (volatile functions run after ORDER BY).
    conn.execute(
        text("SELECT count(pg_advisory_xact_lock(hashtext(k.key))) FROM "
             "(SELECT key FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(key, n) ORDER BY n) k"),
        {"keys": ordered},
    )


def _nearby_problems(conn: Connection, layer: Layer, options: WriteOptions, single: bool) -> list[Conflict]:
    if layer.geometry != "Point" or layer.min_spacing_m <= 0:
        return []
    radius = max(layer.min_spacing_m, DUPLICATE_M)
    deg = radius / 100_000.0 * 2
    rows = conn.execute(
        text(
            f"""
            SELECT s.idx, n.id, n.code, n.d FROM {stage_table(layer)} s
            CROSS JOIN LATERAL (
                SELECT t.id::text AS id, t.code, ST_Distance(t.geom::geography, s.geom::geography) AS d
                  FROM {q(layer.table)} t
                 WHERE t.deleted_at IS NULL AND t.id <> s.id AND t.geom && ST_Expand(s.geom, :deg)
                   AND ST_DWithin(t.geom::geography, s.geom::geography, :r)
                UNION ALL
                SELECT o.id::text, o.code, ST_Distance(o.geom::geography, s.geom::geography)
                  FROM {stage_table(layer)} o WHERE o.idx < s.idx AND o.geom && ST_Expand(s.geom, :deg)
                   AND ST_DWithin(o.geom::geography, s.geom::geography, :r)
                 ORDER BY 3 LIMIT 1
            ) n
            ORDER BY s.idx
            """
        ),
        {"r": radius, "deg": deg},
    ).all()
    out = []
    for r in rows:
        duplicate = r.d < DUPLICATE_M
        if not duplicate and options.confirm_nearby:
            continue
        where = "" if single else f"feature {r.idx}: "
        msg = (
            f"{where}an asset is already at this exact spot ({r.code}, {r.d * 100:.1f} cm away): a duplicate"
            if duplicate
            else f"{where}{r.code} is {r.d:.2f} m away (closer than {layer.min_spacing_m:g} m); "
            "is it the same asset? To tag a new one here, send confirm_nearby=true"
        )
        out.append(Conflict(msg, {"index": None if single else int(r.idx), "nearby": {"id": r.id, "code": r.code, "distance_m": round(r.d, 3)}}))
    return out


def create_features(
    conn: Connection,
    layer: Layer,
    principal: Principal,
    items: list,
    options: WriteOptions,
    single: bool = False,
    idempotency_key: str | None = None,
) -> list[Created]:
    """Create features (all or nothing). Retries with the same ids/key return what exists."""
    permissions.require_signed_in(principal)
    if principal.role == "farmer":
        raise Forbidden("farmers cannot create assets; ask your team's volunteers")
    team = permissions.check_team_layer(conn, principal, layer) if principal.role == "volunteer" else None
    if not single and not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput([FieldProblem("features", f"a batch holds 1 to {MAX_BATCH} features, not {len(items)}")])
    key_receipt = None
    if idempotency_key is not None:
        key_receipt = f"key:{principal.username}:{idempotency_key}"
        replay = _receipt(conn, key_receipt, request_hash(items), layer, principal)
        if replay is not None:
            return replay

    records, geoms, problems = _parse_features(layer, items, single, options, principal)
    if problems:
        raise InvalidInput(problems)

    # Per-feature idempotency: ids this client chose before.
    hashes = [request_hash({"p": {k: v for k, v in r.items() if k != "id"}, "g": shapely.to_wkb(g, hex=True)}) for r, g in zip(records, geoms)]
    results: dict[int, Created] = {}
    chosen = [i for i, rec in enumerate(records) if rec.get("id") is not None]
    receipts, taken = _receipts_and_ids(conn, layer, [str(records[i]["id"]) for i in chosen])
    replayed: dict[int, str] = {}
    for i in chosen:
        fid = str(records[i]["id"])
        where = None if single else i
        if fid in receipts:
            _check_receipt(receipts[fid], f"id:{layer.name}:{fid}", hashes[i], where)
            replayed[i] = fid
        elif fid in taken:
            raise Conflict(f"{'' if single else f'feature {i}: '}id {fid} is already used by another asset", {"index": where})
    if replayed:  # retried features: what they created, read in one query
        assets = _assets(conn, layer, list(replayed.values()))
        results.update({i: Created(to_feature(layer, assets[fid], principal), False)
                        for i, fid in replayed.items() if fid in assets})
    for rec in records:
        if rec.get("id") is None:
            rec["id"] = uuid.uuid4()
    todo = [i for i in range(len(records)) if i not in results]
    if todo:
        if principal.role == "volunteer":
            outside = permissions.outside_team_area(
                conn, principal,
                [(None if single else i, shapely.to_wkb(shapely.set_srid(geoms[i], 4326), hex=True, include_srid=True),
                  records[i].get("province"), records[i].get("commune")) for i in todo],
                team=team,
            )
            if outside:
                raise Forbidden("; ".join(p.describe() for p in outside))
        _lock_cells(conn, layer, [geoms[i] for i in todo])
        copy_rows_to_stage(conn, layer, stage_rows(layer, [records[i] for i in todo], [geoms[i] for i in todo], todo))
        try:
            resolve_references(conn, layer, None)
        except InvalidInput as exc:
            if single:
                exc.problems[:] = [FieldProblem(p.field, p.reason, None) for p in exc.problems]
            raise InvalidInput(exc.problems) from None
        _check_codes(conn, layer, single)
        conflicts = _nearby_problems(conn, layer, options, single)
        if conflicts:
            raise conflicts[0] if len(conflicts) == 1 else Conflict(
                "; ".join(c.message for c in conflicts[:20]), {"conflicts": [c.details for c in conflicts]}
            )
        rows = _insert_stage(conn, layer, principal)
        for i in todo:
            results[i] = Created(to_feature(layer, rows[str(records[i]["id"])], principal), True)
        _write_receipts(conn, layer, [(f"id:{layer.name}:{records[i]['id']}", hashes[i], [str(records[i]["id"])]) for i in todo], 201)
    ordered = [results[i] for i in range(len(records))]
    if key_receipt is not None:
        _write_receipts(conn, layer, [(key_receipt, request_hash(items), [c.feature["id"] for c in ordered])], 201)
    return ordered


def _receipts_and_ids(conn: Connection, layer: Layer, ids: list[str]) -> tuple[dict, set[str]]:
    """For client-chosen ids, in one query: their receipts (id → row) and which are already assets."""
    if not ids:
        return {}, set()
    rows = conn.execute(
        text(
            f"SELECT k.id, r.request_hash, r.asset_ids, EXISTS (SELECT 1 FROM {q(layer.table)} t WHERE t.id = CAST(k.id AS uuid)) AS taken "
            f"FROM unnest(CAST(:ids AS text[])) AS k(id) LEFT JOIN write_receipts r ON r.key = :prefix || k.id"
        ),
        {"ids": ids, "prefix": f"id:{layer.name}:"},
    ).all()
    return {r.id: r for r in rows if r.request_hash is not None}, {r.id for r in rows if r.taken}


def _check_codes(conn: Connection, layer: Layer, single: bool) -> None:
    """Codes owned by other assets, and codes repeated within the batch, in one statement."""
    stage = stage_table(layer)
    rows = conn.execute(
        text(
            f"(SELECT 'taken' AS kind, s.idx, s.code, t.id::text AS id FROM {stage} s "
            f" JOIN {q(layer.table)} t ON t.code = s.code ORDER BY s.idx LIMIT 1) "
            f"UNION ALL (SELECT 'twice', NULL, code, NULL FROM {stage} GROUP BY code HAVING count(*) > 1 LIMIT 1)"
        )
    ).all()
    taken = [r for r in rows if r.kind == "taken"]
    if taken:
        r = taken[0]
        where = "" if single else f"feature {r.idx}: "
        raise Conflict(f"{where}code {r.code} already belongs to asset {r.id}", {"index": None if single else int(r.idx), "existing_id": r.id})
    if rows:
        raise InvalidInput([FieldProblem("code", f"code {rows[0].code} appears twice in this batch")])


def _insert_stage(conn: Connection, layer: Layer, principal: Principal) -> dict[str, Mapping]:
    """Insert the staged features and their creation history in one statement; return the rows."""
    cols = [a.name for a in layer.writable_attributes] + ["geom"]
    qcols = ", ".join(q(c) for c in cols)
    review = "approved" if principal.is_admin else "received"
    returned = ", ".join(q(c) for c in ["id", *(a.name for a in layer.all_attributes), *SYSTEM_COLUMNS])
    # History as field: [null, value] for every value set, like an edit's old → new.
    fields = ", ".join(f"'{a.name}', to_jsonb(i.{q(a.name)})" for a in layer.writable_attributes)
    changes = (f"(SELECT jsonb_object_agg(e.key, jsonb_build_array(NULL, e.value)) FROM jsonb_each(jsonb_strip_nulls("
               f"jsonb_build_object({fields}, 'geometry', CAST(i.geometry AS jsonb)))) e)")
    try:
        rows = conn.execute(
            text(
                f"""
                WITH i AS (
                    INSERT INTO {q(layer.table)} (id, {qcols}, created_by, updated_by, review_state)
                    SELECT id, {qcols}, :actor, :actor, :review FROM {stage_table(layer)} ORDER BY idx
                    RETURNING {returned}, ST_AsGeoJSON(geom, 9) AS geometry
                ), h AS (
                    INSERT INTO asset_history (layer, asset_id, version, action, actor, changes)
                    SELECT :layer, i.id, i.version, 'create', :actor, {changes} FROM i
                )
                SELECT * FROM i
                """
            ),
            {"actor": principal.actor, "review": review, "layer": layer.name},
        ).mappings().all()
    except IntegrityError as exc:
        raise Conflict(f"another request wrote the same id or code at the same moment; retry ({exc.orig.pgcode})") from None
    return {str(r["id"]): r for r in rows}


def _row_values(layer: Layer, row: Mapping) -> dict:
    vals = {a.name: row[a.name] for a in layer.writable_attributes}
    vals["geometry"] = json.loads(row["geometry"])
    return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in vals.items()}


def _history(conn: Connection, layer: Layer, new: Mapping, old: Mapping | None, action: str, principal: Principal,
             extra: dict | None = None) -> None:
    after = _row_values(layer, new)
    before = _row_values(layer, old) if old is not None else {}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and not (old is None and v is None)}
    changes.update(extra or {})
    conn.execute(
        text("INSERT INTO asset_history (layer, asset_id, version, action, actor, changes) "
             "VALUES (:l, :id, :v, :a, :actor, CAST(:c AS jsonb))"),
        {"l": layer.name, "id": str(new["id"]), "v": new["version"], "a": action, "actor": principal.actor,
         "c": json.dumps(changes, default=str, ensure_ascii=False)},
    )


def _receipt(conn: Connection, key: str, digest: str, layer: Layer, principal: Principal, index: int | None = None):
    row = conn.execute(text("SELECT request_hash, asset_ids FROM write_receipts WHERE key = :k"), {"k": key}).first()
    if row is None:
        return None
    return _replay(conn, row, key, digest, layer, principal, index)


def _replay(conn: Connection, row, key: str, digest: str, layer: Layer, principal: Principal, index: int | None = None):
    """What a retried request gets: the assets it created, or 409 if it is a different request."""
    _check_receipt(row, key, digest, index)
    ids = [str(i) for i in row.asset_ids]
    assets = _assets(conn, layer, ids)
    return [Created(to_feature(layer, assets[i], principal), False) for i in ids if i in assets]


def _check_receipt(row, key: str, digest: str, index: int | None) -> None:
    """A receipt's request hash must match the retried request's, else 409."""
    if row.request_hash != digest:
        what = "Idempotency-Key" if key.startswith("key:") else "id"
        where = "" if index is None else f"feature {index}: "
        raise Conflict(f"{where}this {what} was already used for a different request; use a new one",
                       {"index": index} if index is not None else None)


def _assets(conn: Connection, layer: Layer, ids: list[str]) -> dict[str, Mapping]:
    """Rows of the assets with these ids, by id."""
    rows = conn.execute(text(f"{select_sql(layer)} WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids}).mappings()
    return {str(a["id"]): a for a in rows}


def _write_receipts(conn: Connection, layer: Layer, receipts: list[tuple[str, str, list[str]]], status: int) -> None:
    """Store (key, request hash, asset ids) receipts in one statement."""
    conn.execute(
        text("INSERT INTO write_receipts (key, request_hash, layer, asset_ids, status) "
             "SELECT k, h, :l, CAST(ids AS uuid[]), :s FROM unnest(CAST(:k AS text[]), CAST(:h AS text[]), CAST(:ids AS text[])) AS r(k, h, ids) "
             "ON CONFLICT (key) DO NOTHING"),
        {"k": [r[0] for r in receipts], "h": [r[1] for r in receipts],
         "ids": ["{" + ",".join(r[2]) + "}" for r in receipts], "l": layer.name, "s": status},
    )


def parse_if_match(value: str | None) -> int:
    """The version an ``If-Match`` header names; 428 when missing."""
    if not value:
        raise PreconditionRequired("send If-Match with the ETag you last read, so no one else's change is overwritten")
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise PreconditionFailed(f"If-Match {value!r} is not an ETag of this asset")
    return int(tag[1:])


def patch_feature(
    conn: Connection, layer: Layer, principal: Principal, asset_id: str, if_match: str | None, body: Any,
    options: WriteOptions,
) -> tuple[dict, str]:
    """Apply a JSON Merge Patch (``properties`` and/or ``geometry``) under ``If-Match``."""
    permissions.require_signed_in(principal)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object: {\"properties\": {...}, \"geometry\": {...}}")
    unknown = set(body) - {"type", "properties", "geometry", "id"}
    if unknown:
        raise InvalidInput([FieldProblem(k, "is not a member of a Feature patch") for k in sorted(unknown)])
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidInput([FieldProblem("properties", "must be an object")])
    if "id" in props or ("id" in body and str(body["id"]) != str(asset_id)):
        raise InvalidInput([FieldProblem("id", "an asset's id cannot be changed")])
    version = parse_if_match(if_match)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    if principal.role == "farmer":
        permissions.check_farmer_patch(principal, layer, row, set(props), "geometry" in body)
    team = permissions.check_team_layer(conn, principal, layer) if principal.role == "volunteer" else None
    if row["version"] != version:
        raise PreconditionFailed(
            f"the asset changed since you read it (you sent version {version}, it is at {row['version']}); "
            "read it again and re-apply your change", etag(row["version"]),
        )
    partial = properties_model(layer, partial=True)
    try:
        partial.model_validate(props)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, layer=layer)) from None
    merged = {a.name: row[a.name] for a in layer.writable_attributes}
    merged = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in merged.items()}
    merged.update(props)
    for attr in layer.ref_attributes:
        if props.get(ref_code_field(attr)) is not None and attr.name not in props:
            merged[attr.name] = None  # re-resolve from the code
        if "geometry" in body and attr.name not in props and ref_code_field(attr) not in props and attr.within_ref:
            merged[attr.name] = None  # moved: find the containing one again
    feature = {"type": "Feature", "geometry": body.get("geometry") or json.loads(row["geometry"]),
               "properties": {k: v for k, v in merged.items() if v is not None or k in props}}
    opts = WriteOptions(force=True, confirm_nearby=True, gps_accuracy_max_m=options.gps_accuracy_max_m) if "gps_accuracy_m" not in props else options
    records, geoms, problems = _parse_features(layer, [feature], True, opts, principal)
    if problems:
        raise InvalidInput(problems)
    record = records[0]
    record["id"] = asset_id
    if principal.role == "volunteer":
        moved = (None, shapely.to_wkb(shapely.set_srid(geoms[0], 4326), hex=True, include_srid=True),
                 record.get("province"), record.get("commune"))
        permissions.require_in_team_area(conn, principal, layer, [moved, permissions.area_item(row)], team)
    copy_rows_to_stage(conn, layer, stage_rows(layer, [record], geoms, [0]))
    resolve_references(conn, layer, None)
    cols = [a.name for a in layer.writable_attributes] + ["geom"]
    assignments = ", ".join(f"{q(c)} = s.{q(c)}" for c in cols)
    changed = f"({', '.join('t.' + q(c) for c in cols)}) IS DISTINCT FROM ({', '.join('s.' + q(c) for c in cols)})"
    try:
        updated = conn.execute(
            text(
                f"UPDATE {q(layer.table)} t SET {assignments}, version = t.version + 1, updated_by = :actor, updated_at = now() "
                f"FROM {stage_table(layer)} s WHERE t.id = s.id AND t.version = :v AND {changed} RETURNING t.id"
            ),
            {"actor": principal.actor, "v": version},
        ).first()
    except IntegrityError as exc:
        raise Conflict(f"the change conflicts with another asset ({exc.orig.diag.constraint_name or exc.orig.pgcode})") from None
    new = fetch_row(conn, layer, asset_id, principal)
    if updated is not None:
        _history(conn, layer, new, row, "update", principal)
    return to_feature(layer, new, principal), etag(new["version"])


def delete_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str, if_match: str | None) -> None:
    """Soft-delete an asset (restorable by an administrator)."""
    permissions.require_signed_in(principal)
    version = parse_if_match(if_match)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    if principal.role == "farmer":
        raise Forbidden("farmers cannot delete assets")
    if principal.role == "volunteer":
        permissions.require_in_team_area(conn, principal, layer, [permissions.area_item(row)])
    if row["version"] != version:
        raise PreconditionFailed(f"the asset changed since you read it (it is at version {row['version']})", etag(row["version"]))
    from geomap.layers.registry import LAYERS

    for other in LAYERS:
        for attr in other.ref_attributes:
            if attr.ref_layer == layer.name:
                n = conn.execute(
                    text(f"SELECT count(*) FROM {q(other.table)} WHERE {q(attr.name)} = :id AND deleted_at IS NULL"), {"id": asset_id}
                ).scalar_one()
                if n:
                    raise Conflict(f"{n} {other.name} still belong to this asset; delete or move them first")
    conn.execute(
        text(f"UPDATE {q(layer.table)} SET deleted_at = now(), version = version + 1, updated_by = :a, updated_at = now() WHERE id = :id"),
        {"a": principal.actor, "id": asset_id},
    )
    new = fetch_row(conn, layer, asset_id, principal, include_deleted=True) if principal.is_admin else {**row, "version": row["version"] + 1}
    _history(conn, layer, new, row, "delete", principal, {"deleted": [False, True]})


def restore_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str) -> tuple[dict, str]:
    """Undo a soft delete (administrators)."""
    if not principal.is_admin:
        permissions.require_signed_in(principal)
        raise Forbidden("only administrators can restore deleted assets")
    row = fetch_row(conn, layer, asset_id, principal, for_update=True, include_deleted=True)
    if row["deleted_at"] is None:
        raise Conflict("this asset is not deleted")
    conn.execute(
        text(f"UPDATE {q(layer.table)} SET deleted_at = NULL, version = version + 1, updated_by = :a, updated_at = now() WHERE id = :id"),
        {"a": principal.actor, "id": asset_id},
    )
    new = fetch_row(conn, layer, asset_id, principal)
    _history(conn, layer, new, row, "restore", principal, {"deleted": [True, False]})
    return to_feature(layer, new, principal), etag(new["version"])


def review_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str, body: Any) -> tuple[dict, str]:
    """Set the review state (received / has_issues / approved / rejected) with an optional comment."""
    permissions.require_signed_in(principal)
    if not principal.is_admin:
        raise Forbidden("only administrators review assets")
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object: {\"state\": ..., \"comment\": ...}")
    state, comment = body.get("state"), body.get("comment")
    allowed = [c.value for c in REVIEW_STATES]
    problems = [FieldProblem(k, "is not a review field") for k in sorted(set(body) - {"state", "comment"})]
    if state not in allowed:
        problems.append(FieldProblem("state", f"must be one of {', '.join(allowed)}"))
    if comment is not None and not isinstance(comment, str):
        problems.append(FieldProblem("comment", "must be text"))
    if state == "has_issues" and not (isinstance(comment, str) and comment.strip()):
        problems.append(FieldProblem("comment", "say what the issues are"))
    if problems:
        raise InvalidInput(problems)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    conn.execute(
        text(f"UPDATE {q(layer.table)} SET review_state = :s, review_comment = :c, version = version + 1, "
             "updated_by = :a, updated_at = now() WHERE id = :id"),
        {"s": state, "c": comment, "a": principal.actor, "id": asset_id},
    )
    new = fetch_row(conn, layer, asset_id, principal)
    _history(conn, layer, new, row, "review", principal,
             {"review_state": [row["review_state"], state], "review_comment": [row["review_comment"], comment]})
    return to_feature(layer, new, principal), etag(new["version"])
