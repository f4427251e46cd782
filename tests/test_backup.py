"""Backup and restore: everything comes back, photos included, into an empty database."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import geomap.backup
from geomap.errors import GeomapError
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
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # owners' phones and password hashes: owner only

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


def _spy_on_children(monkeypatch) -> list[dict]:
    """Record what each child program of geomap.backup is started with (then really run it)."""
    seen: list[dict] = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        env = kwargs.get("env") or os.environ
        passfile = Path(env["PGPASSFILE"]) if "PGPASSFILE" in env else None
        seen.append({"argv": list(args), "PGPASSWORD": env.get("PGPASSWORD"), "passfile": passfile,
                     "mode": stat.S_IMODE(passfile.stat().st_mode) if passfile else None,
                     "line": passfile.read_text() if passfile else None})
        return real_run(args, **kwargs)

    monkeypatch.setattr(geomap.backup.subprocess, "run", spy)
    return seen


def test_backup_keeps_the_password_off_command_lines_and_the_archive_private(engine, db_url, server_url, tmp_path,
                                                                              monkeypatch):
    # A role whose password holds the characters a password file must escape (: and \).
    password = "p:a\\ss@w/rd-" + uuid.uuid4().hex[:8]
    role = f"backup_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE pg_read_all_data PASSWORD :pw"), {"pw": password})
    url = make_url(db_url).set(username=role, password=password).render_as_string(hide_password=False)
    out = tmp_path / "geomap.tar"
    out.write_bytes(b"an older world-readable file of that name")
    out.chmod(0o644)
    seen = _spy_on_children(monkeypatch)
    try:
        backup(url, tmp_path / "home", out)
        restored = _recreate(server_url, "geomap_restore_argv_test")
        restore(restored, tmp_path / "restored-home", out)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP ROLE {role}"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["geomap.tar"]  # no partial or temporary files left
    assert [Path(child["argv"][0]).name for child in seen] == ["pg_dump", "pg_restore"]
    server_password = make_url(restored).password
    for child, secret in zip(seen, (password, server_password)):
        for form in (secret, quote(secret, safe=""), quote(secret)):  # `ps` shows no password, raw or URL-encoded
            assert not any(form in part for part in child["argv"]), child["argv"][-2:]
        assert child["PGPASSWORD"] is None and child["mode"] == 0o600
        assert child["line"].startswith("*:*:*:*:") and not child["passfile"].exists()  # removed afterwards
    assert seen[0]["line"] == "*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n"
    check = create_engine(restored)
    try:
        with check.connect() as conn:  # pg_dump really connected with the escaped password, and restore worked
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        check.dispose()


@pytest.mark.parametrize("python_has_data_filter", [True, False])
def test_restore_refuses_an_archive_that_writes_outside_its_folder(python_has_data_filter, db_url, tmp_path, monkeypatch):
    if not python_has_data_filter:  # as on Debian 12's Python 3.11.2
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile data filter")
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as tar:
        payload = b"not a dump"
        for name in ("database.dump", "../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(GeomapError, match="unsafe entry '../escaped.txt'"):
        restore(db_url, tmp_path / "home", hostile)
    assert not (tmp_path / "home").exists()  # nothing restored
