"""Editing assets: JSON Merge Patch, soft delete and restore, review — each under the version the
client last read (``If-Match``, parsed by the API into an integer), so no one's change is lost.

The row is locked, a stale version is 412 with the current ETag, and every change is recorded
in the history with the fields it changed, old → new.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Mapping

from pydantic import ValidationError
from sqlalchemy import Connection, text

from geomap import history
from geomap.auth import Principal
from geomap.errors import (
    BadRequest, Conflict, FieldProblem, Forbidden, InvalidInput, PreconditionFailed, PreconditionRequired,
)
from geomap.integrity import integrity_errors
from geomap.io.staging import rows_step, stage_rows, stage_table
from geomap.io.write import resolve_references
from geomap.layers.base import Layer
from geomap.layers.common import REVIEW_STATES
from geomap.layers.registry import LAYERS
from geomap.schemas import properties_model, problems_from, ref_code_field
from geomap.services import permissions
from geomap.services.feature_input import WriteOptions, ewkb, parse_features
from geomap.services.features import etag, fetch_row, to_feature
from geomap.sql import differs_sql, q, writable_columns

PATCH_MEMBERS = {"type", "properties", "geometry", "id"}


def _require_version(version: int | None) -> int:
    if version is None:
        raise PreconditionRequired("send If-Match with the ETag you last read, so no one else's change is overwritten")
    return version


def _stale(row: Mapping, version: int) -> None:
    if row["version"] != version:
        raise PreconditionFailed(
            f"the asset changed since you read it (you sent version {version}, it is at {row['version']}); "
            "read it again and re-apply your change", etag(row["version"]),
        )


def _patch_properties(body: Any, asset_id: str) -> dict:
    """The properties of a merge-patch body, checked for shape (not yet for content)."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object: {\"properties\": {...}, \"geometry\": {...}}")
    unknown = set(body) - PATCH_MEMBERS
    if unknown:
        raise InvalidInput([FieldProblem(k, "is not a member of a Feature patch") for k in sorted(unknown)])
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise InvalidInput([FieldProblem("properties", "must be an object")])
    if "id" in props or ("id" in body and str(body["id"]) != str(asset_id)):
        raise InvalidInput([FieldProblem("id", "an asset's id cannot be changed")])
    return props


def _merged_feature(layer: Layer, row: Mapping, props: dict, body: dict) -> dict:
    """The stored asset with the patch applied, as a Feature to validate like a create."""
    merged = {a.name: (str(row[a.name]) if isinstance(row[a.name], uuid.UUID) else row[a.name])
              for a in layer.writable_attributes}
    merged.update(props)
    for attr in layer.ref_attributes:
        if props.get(ref_code_field(attr)) is not None and attr.name not in props:
            merged[attr.name] = None  # re-resolve from the code
        if "geometry" in body and attr.name not in props and ref_code_field(attr) not in props and attr.within_ref:
            merged[attr.name] = None  # moved: find the containing one again
    return {"type": "Feature", "geometry": body.get("geometry") or json.loads(row["geometry"]),
            "properties": {k: v for k, v in merged.items() if v is not None or k in props}}


def patch_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str, *, version: int | None,
                  body: Any, options: WriteOptions) -> tuple[dict, str]:
    """Apply a JSON Merge Patch (``properties`` and/or ``geometry``) to the asset at ``version``."""
    permissions.require_signed_in(principal)
    props = _patch_properties(body, asset_id)
    permissions.check_team_codes(principal, [props])
    version = _require_version(version)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    if principal.role == "farmer":
        permissions.check_farmer_patch(principal, layer, row, set(props), "geometry" in body)
    team = permissions.check_team_layer(conn, principal, layer) if principal.role == "volunteer" else None
    _stale(row, version)
    try:
        properties_model(layer, partial=True).model_validate(props)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, layer=layer)) from None
    if "gps_accuracy_m" not in props:  # an edit that does not re-measure keeps the stored position's rules
        options = WriteOptions(force=True, confirm_nearby=True, gps_accuracy_max_m=options.gps_accuracy_max_m,
                               max_vertices=options.max_vertices)
    parsed = parse_features(layer, [_merged_feature(layer, row, props, body)], True, options, principal)
    if parsed.problems:
        raise InvalidInput(parsed.problems)
    record = parsed.records[0]
    record["id"] = asset_id
    if principal.role == "volunteer":
        moved = (None, ewkb(parsed.geoms[0]), record.get("province"), record.get("commune"))
        permissions.require_in_team_area(conn, principal, layer, [moved, permissions.area_item(row)], team)
    resolve_references(conn, layer, None, first=[rows_step(layer, stage_rows(layer, [record], parsed.geoms, [0]))])
    if _update_from_stage(conn, layer, principal, version):
        new = fetch_row(conn, layer, asset_id, principal)
        history.record(conn, layer, new, row, "update", principal.actor)
    else:
        new = row
    return to_feature(layer, new, principal), etag(new["version"])


def _update_from_stage(conn: Connection, layer: Layer, principal: Principal, version: int) -> bool:
    """Apply the staged row to its asset if anything changed; whether it did."""
    cols = writable_columns(layer)
    assignments = ", ".join(f"{q(c)} = s.{q(c)}" for c in cols)
    changed = differs_sql(layer, "t", "s")
    with integrity_errors(layer):
        updated = conn.execute(
            text(f"UPDATE {q(layer.table)} t SET {assignments}, version = t.version + 1, updated_by = :actor, "
                 f"updated_at = now() FROM {stage_table(layer)} s WHERE t.id = s.id AND t.version = :v AND {changed} "
                 "RETURNING t.id"),
            {"actor": principal.actor, "v": version},
        ).first()
    return updated is not None


def _dependants(conn: Connection, layer: Layer, asset_id: str) -> None:
    """Refuse to delete an asset that live assets of another layer still reference."""
    for other in LAYERS:
        for attr in other.ref_attributes:
            if attr.ref_layer != layer.name:
                continue
            n = conn.execute(
                text(f"SELECT count(*) FROM {q(other.table)} WHERE {q(attr.name)} = :id AND deleted_at IS NULL"),
                {"id": asset_id},
            ).scalar_one()
            if n:
                raise Conflict(f"{n} {other.name} still belong to this asset; delete or move them first")


def _set_deleted(conn: Connection, layer: Layer, principal: Principal, asset_id: str, deleted: bool) -> None:
    conn.execute(
        text(f"UPDATE {q(layer.table)} SET deleted_at = {'now()' if deleted else 'NULL'}, version = version + 1, "
             "updated_by = :a, updated_at = now() WHERE id = :id"),
        {"a": principal.actor, "id": asset_id},
    )


def delete_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str, *, version: int | None) -> None:
    """Soft-delete an asset at ``version`` (restorable by an administrator)."""
    permissions.require_signed_in(principal)
    version = _require_version(version)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    if principal.role == "farmer":
        raise Forbidden("farmers cannot delete assets")
    if principal.role == "volunteer":
        permissions.require_in_team_area(conn, principal, layer, [permissions.area_item(row)])
    _stale(row, version)
    _dependants(conn, layer, asset_id)
    _set_deleted(conn, layer, principal, asset_id, True)
    new = fetch_row(conn, layer, asset_id, principal, include_deleted=True) if principal.is_admin else {**row, "version": row["version"] + 1}
    history.record(conn, layer, new, row, "delete", principal.actor, {"deleted": [False, True]})


def restore_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str) -> tuple[dict, str]:
    """Undo a soft delete (administrators)."""
    if not principal.is_admin:
        permissions.require_signed_in(principal)
        raise Forbidden("only administrators can restore deleted assets")
    row = fetch_row(conn, layer, asset_id, principal, for_update=True, include_deleted=True)
    if row["deleted_at"] is None:
        raise Conflict("this asset is not deleted")
    _set_deleted(conn, layer, principal, asset_id, False)
    new = fetch_row(conn, layer, asset_id, principal)
    history.record(conn, layer, new, row, "restore", principal.actor, {"deleted": [True, False]})
    return to_feature(layer, new, principal), etag(new["version"])


def _review_input(body: Any) -> tuple[str, str | None]:
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
    return state, comment


def review_feature(conn: Connection, layer: Layer, principal: Principal, asset_id: str, body: Any) -> tuple[dict, str]:
    """Set the review state (received / has_issues / approved / rejected) with an optional comment."""
    permissions.require_signed_in(principal)
    if not principal.is_admin:
        raise Forbidden("only administrators review assets")
    state, comment = _review_input(body)
    row = fetch_row(conn, layer, asset_id, principal, for_update=True)
    conn.execute(
        text(f"UPDATE {q(layer.table)} SET review_state = :s, review_comment = :c, version = version + 1, "
             "updated_by = :a, updated_at = now() WHERE id = :id"),
        {"s": state, "c": comment, "a": principal.actor, "id": asset_id},
    )
    new = fetch_row(conn, layer, asset_id, principal)
    history.record(conn, layer, new, row, "review", principal.actor,
                   {"review_state": [row["review_state"], state], "review_comment": [row["review_comment"], comment]})
    return to_feature(layer, new, principal), etag(new["version"])
