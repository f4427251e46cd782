"""Migrations build the whole schema from an empty database and match the registry exactly."""

from __future__ import annotations

import psycopg2
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, text

from geomap.layers.registry import LAYERS
from geomap.migrate import current, head, upgrade
from geomap.tables import build_metadata
from tests.conftest import _plain, _recreate


def test_migrations_from_empty(server_url):
    url = _recreate(server_url, "geomap_migrations_test")
    upgrade(url)  # creates the postgis extension itself
    assert current(url) == head()
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        assert {layer.table for layer in LAYERS} | {"asset_history"} <= set(insp.get_table_names())
        with engine.connect() as conn:
            for layer in LAYERS:
                gist = conn.execute(
                    text("SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef ILIKE '%USING gist (geom)%'"),
                    {"t": layer.table},
                ).scalar_one()
                assert gist == 1, layer.name
                uniques = [u["column_names"] for u in insp.get_unique_constraints(layer.table)]
                assert ["code"] in uniques
            srid = conn.execute(text("SELECT Find_SRID('public', 'durian_trees', 'geom')")).scalar_one()
            assert srid == 4326
            ctx = MigrationContext.configure(
                conn, opts={"include_object": alembic_helpers.include_object, "compare_type": False}
            )
            diff = [d for d in compare_metadata(ctx, build_metadata()) if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
        assert diff == []
    finally:
        engine.dispose()
        conn = psycopg2.connect(_plain(server_url))
        conn.autocommit = True
        conn.cursor().execute("DROP DATABASE geomap_migrations_test WITH (FORCE)")
        conn.close()


def test_the_search_fold_gives_what_normalising_every_text_gave(engine):
    """Migration 0009 lets ``geomap_fold`` skip ``normalize()`` for text already in NFC; for every
    kind of text it folds exactly as the full normalisation did (so the search indexes built on it
    stay valid), and NFD and NFC fold alike."""
    import unicodedata

    texts = ["Đồng Hướng", unicodedata.normalize("NFD", "Đồng Hướng"), "Ca\u0300y SẦU RIÊNG", "DL-EAKLY-0001-T0001",
             "Ωμέγα ΣΊΣΥΦΟΣ", "e\u0301\u0323 q\u0307", "", "  xã  Ea Kly ", "Ｆｕｌｌ ｗｉｄｔｈ ﬁ", "\u1e0a\u0323"]
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT t, geomap_fold(t), lower(public.unaccent('public.unaccent'::regdictionary, normalize(t, NFC))) "
            "FROM unnest(CAST(:texts AS text[])) t"), {"texts": texts}).all()
        body = conn.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'geomap_fold'")).scalar_one()
    assert [r[1] for r in rows] == [r[2] for r in rows]
    assert rows[0][1] == rows[1][1] == "dong huong"
    assert "IS NFC NORMALIZED" in body
