"""Handling a report: state changes with a public reason, publishing, and the asset's status.

States: open → acknowledged → in_progress → fixed / closed / rejected (a report may skip ahead;
fixed, closed and rejected are final). Closing and rejecting need a public reason. Only the
owning teams (``team_codes``, fixed when the report was made) and administrators may act.
Acknowledging (or starting work on) a report publishes it — the team has checked it — and, when
its category says so, sets the asset's status (a wifi point to ``hong``); a final state gives the
asset its old value back unless another active report still holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, text

from geomap import history as asset_history
from geomap.auth import Principal
from geomap.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from geomap.layers.registry import get_layer
from geomap.reports import webhooks
from geomap.reports.categories import find_category
from geomap.reports.submission import is_uuid, clean_text
from geomap.reports.views import ACTIVE_STATES, COLUMNS, FINAL_STATES, PRIVATE_COLUMNS, STATE_LABELS, load
from geomap.services.permissions import require_signed_in
from geomap.sql import q, select_sql

NEXT = {"open": {"acknowledged", "in_progress", "fixed", "closed", "rejected"},
        "acknowledged": {"in_progress", "fixed", "closed", "rejected"},
        "in_progress": {"fixed", "closed", "rejected"}}
NEEDS_REASON = {"closed", "rejected"}
CONFIRMED = {"acknowledged", "in_progress"}
MAX_REASON = 1000


@dataclass(frozen=True)
class Handled:
    """A report after a change (the team's view), and the layer whose asset changed, if one did
    (routes forget that layer's cached tiles)."""

    report: dict
    changed_layer: str | None = None


def locked_report(conn: Connection, report_id: str, principal: Principal) -> Mapping:
    """The report, locked for a change, if ``principal`` may handle it (else NotFound/Forbidden)."""
    require_signed_in(principal)
    row = conn.execute(text(
        f"SELECT {COLUMNS}, {PRIVATE_COLUMNS}, r.asset_value_before, r.asset_value_set FROM reports r "
        "WHERE r.id = CAST(:id AS uuid) FOR UPDATE"), {"id": report_id}).mappings().first() if is_uuid(report_id) else None
    if row is None:
        raise NotFound(f"no report has id {report_id}")
    if not may_handle(principal, row["team_codes"]):
        raise Forbidden("only the team that owns the asset, or an administrator, may handle this report")
    return row


def may_handle(principal: Principal, team_codes) -> bool:
    """Whether ``principal`` is an administrator or a volunteer of one of the owning teams."""
    return principal.is_admin or (principal.role == "volunteer" and principal.team_code in (team_codes or ()))


def _set_asset(conn: Connection, row: Mapping, value: str | None, actor: str) -> str | None:
    """Set the asset's field the category names to ``value``; return the old value."""
    found = find_category(f"{row['layer']}.{row['category']}")
    layer = get_layer(row["layer"])
    field = found.category.sets_field
    old = conn.execute(text(f"{select_sql(layer)} WHERE id = :id FOR UPDATE"), {"id": row["asset_id"]}).mappings().first()
    if old is None or old["deleted_at"] is not None:
        return None
    conn.execute(text(f"UPDATE {q(layer.table)} SET {q(field)} = :v, version = version + 1, updated_by = :a, "
                      "updated_at = now() WHERE id = :id"), {"v": value, "a": actor, "id": row["asset_id"]})
    new = conn.execute(text(f"{select_sql(layer)} WHERE id = :id"), {"id": row["asset_id"]}).mappings().one()
    asset_history.record(conn, layer, new, old, "update", actor, extra={"report": [None, row["id"]]})
    return old[field]


def _asset_effect(conn: Connection, row: Mapping, new_state: str, actor: str) -> str | None:
    found = find_category(f"{row['layer']}.{row['category']}")
    if found is None or not found.category.sets_value or not row["asset_id"]:
        return None
    cat = found.category
    if new_state in CONFIRMED and not row["asset_value_set"]:
        before = _set_asset(conn, row, cat.sets_value, actor)
        conn.execute(text("UPDATE reports SET asset_value_set = true, asset_value_before = :b WHERE id = :id"),
                     {"b": before, "id": row["id"]})
        return row["layer"]
    if new_state in FINAL_STATES and row["asset_value_set"]:
        conn.execute(text("UPDATE reports SET asset_value_set = false WHERE id = :id"), {"id": row["id"]})
        others = conn.execute(text("SELECT 1 FROM reports WHERE asset_id = :a AND id <> :id AND asset_value_set "
                                   "AND state = ANY(:active)"),
                              {"a": row["asset_id"], "id": row["id"], "active": list(ACTIVE_STATES)}).first()
        current = conn.execute(text(f"SELECT {q(cat.sets_field)} FROM {q(get_layer(row['layer']).table)} WHERE id = :a"),
                               {"a": row["asset_id"]}).scalar()
        if others is None and current == cat.sets_value:
            _set_asset(conn, row, row["asset_value_before"], actor)
            return row["layer"]
    return None


def transition(conn: Connection, report_id: str, new_state: str, actor: Principal,
               public_reason: str | None = None) -> Handled:
    """Move a report to ``new_state`` as ``actor``; ``public_reason`` is shown to everyone (required
    to close or reject). Records who and when, queues the teams' webhooks, sets or restores the
    asset's status. InvalidInput (state, public_reason), Conflict (not allowed from the current
    state), Forbidden, NotFound."""
    if new_state not in STATE_LABELS:
        raise InvalidInput([FieldProblem("state", f"must be one of {', '.join(STATE_LABELS)}")])
    problems: list[FieldProblem] = []
    reason = clean_text(public_reason, "public_reason", MAX_REASON, problems)
    if new_state in NEEDS_REASON and not reason and not problems:
        problems.append(FieldProblem("public_reason", f"is required to mark a report {new_state}: say why, publicly"))
    if problems:
        raise InvalidInput(problems)
    row = locked_report(conn, report_id, actor)
    if new_state not in NEXT.get(row["state"], set()):
        raise Conflict(f"a report that is {row['state']} cannot become {new_state}",
                       {"errors": [{"field": "state", "reason": f"not allowed from {row['state']}"}]})
    conn.execute(text(
        "UPDATE reports SET state = :s, public_reason = coalesce(:why, public_reason), updated_at = now(), "
        "visible = visible OR :publish WHERE id = :id"),
        {"s": new_state, "why": reason, "publish": new_state in CONFIRMED, "id": row["id"]})
    conn.execute(text("INSERT INTO report_history (report_id, action, from_state, to_state, actor, public_reason) "
                      "VALUES (:id, 'transition', :f, :t, :a, :why)"),
                 {"id": row["id"], "f": row["state"], "t": new_state, "a": actor.actor, "why": reason})
    changed = _asset_effect(conn, row, new_state, actor.actor)
    return Handled(_reload_and_notify(conn, row["id"]), changed)


def set_visible(conn: Connection, report_id: str, visible: bool, actor: Principal) -> Handled:
    """Publish (the light check passed) or hide a report."""
    row = locked_report(conn, report_id, actor)
    if row["visible"] != visible:
        conn.execute(text("UPDATE reports SET visible = :v, updated_at = now() WHERE id = :id"), {"v": visible, "id": row["id"]})
        conn.execute(text("INSERT INTO report_history (report_id, action, actor) VALUES (:id, :a, :who)"),
                     {"id": row["id"], "a": "publish" if visible else "hide", "who": actor.actor})
    return Handled(_reload_and_notify(conn, row["id"]))


def _reload_and_notify(conn: Connection, report_id: str) -> dict:
    row = conn.execute(text(f"SELECT {COLUMNS}, {PRIVATE_COLUMNS} FROM reports r WHERE r.id = :id"),
                       {"id": report_id}).mappings().one()
    webhooks.enqueue(conn, row, "report.updated")
    return load(conn, row, team=True)
