"""A single field create makes few round trips: the id lock and the spacing-cell locks are one
statement, the code and spacing checks are one statement, and the id receipt is stored by the
insert statement itself. The behaviour those statements guard is tested in test_codes_and_retries
and test_features; here the statements themselves are counted."""

from __future__ import annotations

import uuid

from sqlalchemy import event
from sqlalchemy.engine import Engine

from geomap import prepared
from tests.api.test_codes_and_retries import WIFI, _wifi
from tests.world import World


def _statements_of(world: World, method, url: str, **kwargs) -> tuple[list[str], object]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        # A prepared statement runs as ``EXECUTE geomap_<digest>(…)``: read back what it runs.
        seen.append(" ".join(prepared.readable(statement).split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = method(url, **kwargs)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return seen, response


def test_a_single_create_locks_checks_and_stores_its_receipt_in_few_statements(world: World):
    body = {**_wifi("NB-WIFI-TRIPS"), "id": str(uuid.uuid4())}
    seen, r = _statements_of(world, world.client.post, WIFI, json=body, headers=world.auth("other_volunteer"))
    assert r.status_code == 201, r.text
    locks = [s for s in seen if "pg_advisory_xact_lock" in s]
    assert len(locks) == 1, locks
    inserts = [s for s in seen if "INSERT INTO write_receipts" in s]
    assert len(inserts) == 1 and 'INSERT INTO "wifi_points"' in inserts[0], inserts
    checks = [s for s in seen if "asset_codes" in s and "ST_DWithin" in s]
    assert len(checks) == 1, [s[:80] for s in seen]
    # The caller is looked up on the write's own connection, and the rows are staged in the
    # statement that prepares the staging table: ten statements at most (ANALYZE the first time).
    assert sum("secret_hash" in s for s in seen) == 1 and not any(s.startswith("COPY") for s in seen)
    assert len(seen) <= 10, [s[:80] for s in seen]
    # The receipt stored by the insert makes a retry a replay: 200, the same asset, nothing new.
    again = world.client.post(WIFI, json=body, headers=world.auth("other_volunteer"))
    assert again.status_code == 200, again.text
    assert again.json()["id"] == body["id"] == r.json()["id"]
    assert world.count("SELECT count(*) FROM wifi_points WHERE code = 'NB-WIFI-TRIPS'") == 1
    assert world.count(f"SELECT count(*) FROM write_receipts WHERE key = 'id:wifi_points:{body['id']}'") == 1
