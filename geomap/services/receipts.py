"""Idempotency receipts: what makes a retried write safe (``write_receipts``).

A client-chosen asset id and an ``Idempotency-Key`` each leave a receipt holding a hash of the
request and the ids it created. A retry with the same content gets the same assets back (200);
the same id or key with different content — or on another layer — is 409. A retry that arrives
while the original is still in flight waits for it (a transaction-level advisory lock on the key)
and then replays its answer, instead of racing it into a 409.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from sqlalchemy import Connection, text

from geomap import prepared
from geomap.errors import Conflict
from geomap.layers.base import Layer
from geomap.sql import q, select_sql


def request_hash(obj: Any) -> str:
    """Hash of a request's content, to tell a retry from a different request."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def id_key(layer: Layer, asset_id: str) -> str:
    """Receipt key of a client-chosen id."""
    return f"id:{layer.name}:{asset_id}"


def idempotency_key(username: str, key: str) -> str:
    """Receipt key of an ``Idempotency-Key`` header (per user)."""
    return f"key:{username}:{key}"


def wait_for_in_flight(conn: Connection, keys: list[str], then: list[str] | None = None) -> None:
    """Lock ``keys`` for this transaction (in a fixed order, so two batches cannot deadlock), and
    after them the ``then`` keys in their given order (a create's spacing cells), in one statement.

    A request retried while its original is still running waits here until the original commits
    or rolls back; the receipts it reads next (a new statement, a new snapshot) then show the outcome.
    """
    step = in_flight_step(keys, then)
    if step is not None:
        prepared.pipeline(conn, [step])


def in_flight_step(keys: list[str], then: list[str] | None = None) -> prepared.Step | None:
    """The statement of :func:`wait_for_in_flight` (transaction-level advisory locks, taken in
    order), to run ahead of the next one in its round trip (:func:`for_ids`); None when there is
    nothing to lock."""
    ordered = sorted(set(keys)) + list(then or [])
    if not ordered:
        return None
    # Volatile functions run after ORDER BY, so the locks are taken in the array's order.
    return prepared.Step(
        "SELECT count(pg_advisory_xact_lock(hashtext(k.key))) FROM "
        "(SELECT key FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS u(key, n) ORDER BY n) k",
        {"keys": ordered},
    )


def find(conn: Connection, key: str) -> Mapping | None:
    """The receipt stored under ``key``, or None."""
    return conn.execute(text("SELECT request_hash, asset_ids, layer FROM write_receipts WHERE key = :k"), {"k": key}).first()


def check(row, key: str, digest: str, layer: Layer, index: int | None = None) -> None:
    """A receipt must be for the same request (same content, same layer), else 409."""
    what = "Idempotency-Key" if key.startswith("key:") else "id"
    where = "" if index is None else f"feature {index}: "
    details = {"index": index} if index is not None else None
    if row.layer != layer.name:
        raise Conflict(f"{where}this {what} was already used for a request on layer {row.layer}; use a new one", details)
    if row.request_hash != digest:
        raise Conflict(f"{where}this {what} was already used for a different request; use a new one", details)


def for_ids(conn: Connection, layer: Layer, ids: list[str],
            after: prepared.Step | None = None) -> tuple[dict, set[str]]:
    """For client-chosen ids, in one query: their receipts (id → row) and which are already assets.
    ``after``: a statement to run first in the same round trip (the locks of :func:`in_flight_step`;
    the query reads on a snapshot taken once they are held)."""
    if not ids:
        return {}, set()
    rows = prepared.pipeline(conn, [*([after] if after else []), prepared.Step(
        f"SELECT k.id, r.request_hash, r.asset_ids, r.layer, "
        f"EXISTS (SELECT 1 FROM {q(layer.table)} t WHERE t.id = CAST(k.id AS uuid)) AS taken "
        f"FROM unnest(CAST(:ids AS text[])) AS k(id) LEFT JOIN write_receipts r ON r.key = CAST(:prefix AS text) || k.id",
        {"ids": ids, "prefix": id_key(layer, "")},
        generic=True,
    )]).all()
    return {r.id: r for r in rows if r.request_hash is not None}, {r.id for r in rows if r.taken}


def assets(conn: Connection, layer: Layer, ids: list[str]) -> dict[str, Mapping]:
    """Rows of the assets with these ids, by id (what a replay answers)."""
    rows = conn.execute(text(f"{select_sql(layer)} WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids}).mappings()
    return {str(a["id"]): a for a in rows}


STORE_SQL = ("INSERT INTO write_receipts (key, request_hash, layer, asset_ids, status) "
             "SELECT k, h, CAST(:rl AS text), CAST(ids AS uuid[]), CAST(:rs AS int) "
             "FROM unnest(CAST(:rk AS text[]), CAST(:rh AS text[]), CAST(:rids AS text[])) AS r(k, h, ids) "
             "ON CONFLICT (key) DO NOTHING")


def store_params(layer: Layer, receipts: list[tuple[str, str, list[str]]], status: int) -> dict:
    """Parameters of :data:`STORE_SQL` for (key, request hash, asset ids) receipts (a create
    runs it as part of its insert statement)."""
    return {"rk": [r[0] for r in receipts], "rh": [r[1] for r in receipts],
            "rids": ["{" + ",".join(r[2]) + "}" for r in receipts], "rl": layer.name, "rs": status}


def store(conn: Connection, layer: Layer, receipts: list[tuple[str, str, list[str]]], status: int) -> None:
    """Store (key, request hash, asset ids) receipts in one statement."""
    conn.execute(text(STORE_SQL), store_params(layer, receipts, status))
