"""The staging table of a field write (geomap/io/staging.py): its rows arrive as sent, and its
statistics always describe the rows it holds (the planner joins it to million-row layers)."""

from __future__ import annotations

import uuid

import shapely
from sqlalchemy import Engine, text

from geomap import prepared
from geomap.io.staging import rows_step, stage_rows, stage_table
from geomap.layers.registry import get_layer


def _records(n: int) -> tuple[list[dict], list]:
    records = [{"id": uuid.uuid4(), "code": f"STAGE-{i}", "name": f"Wifi 50% \"{i}\" ấp", "province": "Ninh Bình",
                "commune": None, "gps_accuracy_m": 4.5} for i in range(n)]
    return records, [shapely.Point(106.04 + i / 1000, 20.07) for i in range(n)]


def test_a_field_writes_stage_holds_its_rows_and_statistics_for_them(engine: Engine):
    layer = get_layer("wifi_points")
    stage = stage_table(layer)
    with engine.connect() as conn:
        for n in (1, 3, 3, 1):
            with conn.begin():
                records, geoms = _records(n)
                prepared.pipeline(conn, [rows_step(layer, stage_rows(layer, records, geoms, list(range(n))))])
                rows = conn.execute(text(f"SELECT idx, id, name, commune, ST_X(geom) AS x, ST_Y(geom) AS y FROM {stage} ORDER BY idx")).all()
                assert [(r.idx, r.id, r.name, r.commune) for r in rows] == [
                    (i, rec["id"], rec["name"], None) for i, rec in enumerate(records)]
                assert [(r.x, r.y) for r in rows] == [(g.x, g.y) for g in geoms]
                reltuples = conn.execute(text(f"SELECT reltuples FROM pg_class WHERE oid = 'pg_temp.{stage}'::regclass")).scalar_one()
                assert reltuples == n, (n, reltuples)
            with conn.begin():  # emptied at commit, ready for the next write on this connection
                assert conn.execute(text(f"SELECT count(*) FROM {stage}")).scalar_one() == 0
