"""A single field create makes few round trips: the id lock and the spacing-cell locks are one
statement, sent with the read of the id's receipt; the rows are staged in the round trip that
checks their references; the code and spacing checks are one statement, and the id receipt is
stored by the insert statement itself. The behaviour those statements guard is tested in test_codes_and_retries
and test_features; here the statements themselves are counted."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from geomap import prepared
from tests.api.test_codes_and_retries import WIFI, _wifi
from tests.world import World


@pytest.fixture
def settings(settings):
    """No webhook worker: its polls check connections out of the pool, so the create counted could
    get a connection other than the one the first create warmed (the pool hands out the last one
    checked in), and run the statements that one has not prepared yet in separate round trips."""
    return settings.model_copy(update={"webhooks_enabled": False})


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
    # The first create prepares the statements on the pooled connection, which the pool hands
    # out again (last in, first out) to the second; that one is counted.
    first = world.client.post(WIFI, json={**_wifi("NB-WIFI-WARM", lon=106.0441), "id": str(uuid.uuid4())}, headers=world.auth("other_volunteer"))
    assert first.status_code == 201, first.text
    body = {**_wifi("NB-WIFI-TRIPS"), "id": str(uuid.uuid4())}
    seen, r = _statements_of(world, world.client.post, WIFI, json=body, headers=world.auth("other_volunteer"))
    assert r.status_code == 201, r.text
    locks = [s for s in seen if "pg_advisory_xact_lock" in s]
    assert len(locks) == 1 and "LEFT JOIN write_receipts" in locks[0], locks
    assert locks[0].index("pg_advisory_xact_lock") < locks[0].index("LEFT JOIN write_receipts")
    inserts = [s for s in seen if "INSERT INTO write_receipts" in s]
    assert len(inserts) == 1 and 'INSERT INTO "wifi_points"' in inserts[0], inserts
    checks = [s for s in seen if "asset_codes" in s and "ST_DWithin" in s]
    assert len(checks) == 1, [s[:80] for s in seen]
    # The caller and their team are looked up in one statement on the write's own connection, and
    # the rows are staged in the statement that prepares the staging table: caller, locks and
    # receipts, working area, staging, codes and spacing, insert.
    assert sum("secret_hash" in s for s in seen) == 1 and not any(s.startswith("COPY") for s in seen)
    assert not any(s.startswith("SELECT code, provinces") for s in seen), "the team is read with the caller"
    assert len([s for s in seen if "webhook" not in s]) == 6, [s[:80] for s in seen]
    # The receipt stored by the insert makes a retry a replay: 200, the same asset, nothing new.
    again = world.client.post(WIFI, json=body, headers=world.auth("other_volunteer"))
    assert again.status_code == 200, again.text
    assert again.json()["id"] == body["id"] == r.json()["id"]
    assert world.count("SELECT count(*) FROM wifi_points WHERE code = 'NB-WIFI-TRIPS'") == 1
    assert world.count(f"SELECT count(*) FROM write_receipts WHERE key = 'id:wifi_points:{body['id']}'") == 1
