"""``geomap backup`` / ``geomap restore``: pg_dump/pg_restore of the database plus the photos.

A backup is one ``.tar`` file holding ``database.dump`` (pg_dump custom format) and ``photos/``.
Restoring replaces the target database's geomap objects (``pg_restore --clean --if-exists``) and
puts the photos back under ``$GEOMAP_HOME/photos``.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from geomap.errors import GeomapError


def _tool(name: str) -> str:
    try:
        from geomap.embedded import find_binaries

        return find_binaries().tool(name)
    except Exception:
        found = shutil.which(name)
        if not found:
            raise GeomapError(f"{name} not found: install postgresql-client") from None
        return found


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, home: Path, out: Path) -> Path:
    """Write a backup of the database at ``url`` and the photos under ``home`` to ``out``."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database.dump"
        proc = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                               f"--file={dump}", f"--dbname={_libpq(url)}"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise GeomapError(f"pg_dump failed: {proc.stderr.strip()}")
        with tarfile.open(out, "w") as tar:
            tar.add(dump, arcname="database.dump")
            photos = Path(home) / "photos"
            if photos.exists():
                tar.add(photos, arcname="photos")
    return out


def restore(url: str, home: Path, archive: Path) -> None:
    """Restore a backup made by :func:`backup` into the database at ``url`` and ``home``."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar:
        names = tar.getnames()
        if "database.dump" not in names:
            raise GeomapError(f"{archive} is not a geomap backup (no database.dump)")
        tar.extractall(tmp, filter="data")
        proc = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                               "--single-transaction", "--exit-on-error", f"--dbname={_libpq(url)}",
                               str(Path(tmp) / "database.dump")], capture_output=True, text=True)
        if proc.returncode != 0:
            raise GeomapError(f"pg_restore failed: {proc.stderr.strip()[:2000]}")
        src = Path(tmp) / "photos"
        if src.exists():
            dest = Path(home) / "photos"
            dest.mkdir(parents=True, exist_ok=True)
            for f in src.iterdir():
                shutil.copy2(f, dest / f.name)
