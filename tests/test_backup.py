"""Backup and restore: everything comes back, photos included, into an empty database."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import create_engine, text

from geomap.backup import backup, restore
from geomap.layers.registry import LAYERS
from tests.conftest import _recreate
from tests.world import World


def _dump_tables(engine) -> dict:
    out = {}
    with engine.connect() as conn:
        for name in [layer.table for layer in LAYERS] + ["asset_history", "photos", "users", "teams", "credentials"]:
            out[name] = conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1')).all()
    return out


def test_backup_restores_every_layer_and_photo(world: World, settings, server_url, tmp_path):
    tree_id = world.client.get("/api/v1/layers/durian_trees/features?limit=1").json()["features"][0]["id"]
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(buf, format="JPEG")
    photo = world.client.post(f"/api/v1/layers/durian_trees/features/{tree_id}/photos",
                              files={"file": ("p.jpg", buf.getvalue(), "image/jpeg")}, headers=world.auth("admin")).json()
    before = _dump_tables(world.engine)
    archive = backup(str(world.engine.url.render_as_string(hide_password=False)), settings.home_dir, tmp_path / "geomap.tar")
    assert archive.stat().st_size > 100_000

    empty_url = _recreate(server_url, "geomap_restore_test")
    new_home = tmp_path / "restored-home"
    restore(empty_url, new_home, archive)
    engine = create_engine(empty_url)
    try:
        after = _dump_tables(engine)
    finally:
        engine.dispose()
    for name, rows in before.items():
        assert after[name] == rows, name
    assert len(after["durian_trees"]) == 10_000
    assert (new_home / "photos" / f"{photo['id']}.jpg").exists() and (new_home / "photos" / f"{photo['id']}.thumb.jpg").exists()
