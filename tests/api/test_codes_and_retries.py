"""A printed code names one asset across all layers; retries — even overlapping ones — never
fail or duplicate; an Idempotency-Key is bound to its layer."""

from __future__ import annotations

import threading
import uuid

import httpx
import psycopg2
import pytest
from sqlalchemy import text

from geomap.migrate import upgrade
from tests.api.test_features import BASE, problem
from tests.conftest import _plain, _recreate
from tests.world import World

WIFI = "/api/v1/layers/wifi_points/features"


def _wifi(code: str, lon: float = 106.0431, lat: float = 20.0702) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "name": "Wifi nhà văn hóa xóm 7", "venue": "Nhà văn hóa xóm 7",
                           "province": "Ninh Bình", "commune": "xã Đồng Hướng", "gps_accuracy_m": 5}}


@pytest.mark.parametrize("code", ["NB-NONNUOC", "nb-nonnuoc"])
def test_a_heritage_sites_code_cannot_be_taken_by_another_layer(world: World, code: str):
    r = world.client.post(WIFI, json=_wifi(code), headers=world.auth("other_volunteer"))
    body = problem(r, 409, field="code")
    assert body["existing_layer"] == "heritage_sites" and "NB-NONNUOC" in body["detail"]
    assert world.count("SELECT count(*) FROM wifi_points WHERE lower(code) = 'nb-nonnuoc'") == 0


def test_renaming_into_another_layers_code_is_refused(world: World):
    created = world.client.post(WIFI, json=_wifi("NB-WIFI-NEW"), headers=world.auth("other_volunteer"))
    assert created.status_code == 201, created.text
    r = world.client.patch(f"{WIFI}/{created.json()['id']}", json={"properties": {"code": "nb-truonghansieu"}},
                           headers={**world.auth("other_volunteer"), "If-Match": created.headers["etag"]})
    assert r.status_code == 409, r.text
    assert "NB-TRUONGHANSIEU" in r.json()["detail"].upper()
    with world.engine.connect() as conn:
        holder = conn.execute(text("SELECT layer FROM asset_codes WHERE code_key = 'nb-truonghansieu'")).scalar_one()
        mine = conn.execute(text("SELECT code FROM asset_codes WHERE asset_id = :i"), {"i": created.json()["id"]}).scalar_one()
    assert (holder, mine) == ("heritage_sites", "NB-WIFI-NEW")


def test_the_migration_refuses_existing_clashes_and_changes_nothing(server_url):
    url = _recreate(server_url, "geomap_code_clash_test")
    upgrade(url, "0004")
    conn = psycopg2.connect(_plain(url))
    conn.autocommit = True
    with conn.cursor() as cur:
        for table, extra_cols, extra_vals in (("heritage_sites", ", kind", ", 'danh_thang'"), ("wifi_points", ", venue", ", 'Nhà văn hóa'")):
            cur.execute(f"INSERT INTO {table} (code, name, province, commune{extra_cols}, geom) "
                        f"VALUES (%s, 'x', 'Ninh Bình', 'xã Đồng Hướng'{extra_vals}, ST_SetSRID(ST_Point(106.05, 20.06), 4326))",
                        ("NB-NONNUOC" if table == "heritage_sites" else "nb-NonNuoc",))
    with pytest.raises(RuntimeError) as refused:
        upgrade(url)
    assert "nb-nonnuoc" in str(refused.value) and "heritage_sites NB-NONNUOC" in str(refused.value)
    assert "wifi_points nb-NonNuoc" in str(refused.value)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('asset_codes'), (SELECT version_num FROM alembic_version)")
        assert cur.fetchone() == (None, "0004")
    conn.close()


def test_an_idempotency_key_reused_on_another_layer_is_a_conflict(world: World):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = world.client.post(BASE, json=world.tree_in(code="T-KEY-LAYER"), headers={**world.auth("admin"), **key})
    assert first.status_code == 201, first.text
    r = world.client.post(WIFI, json=_wifi("NB-WIFI-KEY"), headers={**world.auth("admin"), **key})
    problem(r, 409, contains="durian_trees")
    assert world.count("SELECT count(*) FROM wifi_points WHERE code = 'NB-WIFI-KEY'") == 0


@pytest.mark.parametrize("by", ["id", "idempotency-key"])
def test_identical_retries_in_flight_get_the_original_answer(live, world: World, by: str):
    tree = world.tree_in(code=f"T-INFLIGHT-{by}")
    headers = world.auth("volunteer")
    if by == "id":
        tree["id"] = str(uuid.uuid4())
    else:
        headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    n = 12
    barrier = threading.Barrier(n)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        with httpx.Client(base_url=live, timeout=60) as c:
            barrier.wait()
            r = c.post(BASE, json=tree, headers=headers)
            answers.append((r.status_code, r.json().get("id", r.text)))

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in answers)
    assert statuses == [200] * (n - 1) + [201], answers
    assert len({i for _, i in answers}) == 1
    assert world.count(f"SELECT count(*) FROM durian_trees WHERE code = 'T-INFLIGHT-{by}'") == 1


def _claims(conn, layer: str) -> set[tuple[str, str, str]]:
    rows = conn.execute(text("SELECT code_key, code, asset_id::text FROM asset_codes WHERE layer = :l"), {"l": layer})
    return {tuple(r) for r in rows}


def _codes(conn, table: str) -> set[tuple[str, str, str]]:
    return {(r.code.lower(), r.code, r.id) for r in conn.execute(text(f"SELECT id::text, code FROM {table}"))}


def test_set_based_claims_follow_every_statement(loaded):
    """The statement-level triggers keep asset_codes equal to the layer's codes through a multi-row
    update (a new code, a case-only change), an update of other fields, a delete and an insert of
    many rows at once."""
    with loaded.begin() as conn:
        a, b = conn.execute(text("SELECT id::text, code FROM durian_trees ORDER BY code LIMIT 2")).all()
        conn.execute(text("UPDATE durian_trees SET code = CASE WHEN id = :a THEN code || '-X' ELSE lower(code) END "
                          "WHERE id IN (:a, :b)"), {"a": a.id, "b": b.id})
        conn.execute(text("UPDATE durian_trees SET health = 'chet' WHERE code LIKE '%T0002'"))  # codes untouched
        conn.execute(text("DELETE FROM durian_trees WHERE code LIKE '%T0003'"))
        conn.execute(text("INSERT INTO durian_trees (id, code, name, status, province, commune, farm_id, variety, geom, created_by, "
                          "updated_by) SELECT gen_random_uuid(), code || '-COPY', name, status, province, commune, farm_id, variety, "
                          "geom, 'test', 'test' FROM durian_trees WHERE code LIKE '%T0004'"))
        assert _claims(conn, "durian_trees") == _codes(conn, "durian_trees")
        assert conn.execute(text("SELECT code FROM asset_codes WHERE asset_id = :a"), {"a": a.id}).scalar_one() == a.code + "-X"
        assert conn.execute(text("SELECT code FROM asset_codes WHERE asset_id = :b"), {"b": b.id}).scalar_one() == b.code.lower()
        copies = conn.execute(text("SELECT count(*) FROM asset_codes WHERE code LIKE '%-COPY'")).scalar_one()
        assert copies > 1
    with pytest.raises(Exception, match="pk_asset_codes"), loaded.begin() as conn:  # one namespace, still
        conn.execute(text("UPDATE wifi_points SET code = (SELECT code FROM heritage_sites LIMIT 1) "
                          "WHERE id = (SELECT id FROM wifi_points LIMIT 1)"))
