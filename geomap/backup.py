"""``geomap backup`` / ``geomap restore``: pg_dump/pg_restore of the database plus the photos.

A backup is one ``.tar`` file holding ``database.dump`` (pg_dump custom format) and ``photos/``.
It holds personal data and secrets' hashes (see "What a backup contains" in docs/SECURITY.md), so
it is created with mode 0600 and appears under its name only once complete. The database password
reaches pg_dump and pg_restore through a temporary password file (mode 0600, ``PGPASSFILE``), never
on their command line, where any local user could read it with ``ps``.

Restoring replaces the target database's geomap objects (``pg_restore --clean --if-exists``) and
puts the photos back under ``$GEOMAP_HOME/photos``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import URL, make_url

from geomap.errors import GeomapError
from geomap.pg_programs import EmbeddedError, find_binaries

PRIVATE = 0o600


def _tool(name: str) -> str:
    try:
        return find_binaries().tool(name)
    except EmbeddedError:
        found = shutil.which(name)
        if not found:
            raise GeomapError(f"{name} not found: install postgresql-client") from None
        return found


def _passfile_line(password: str) -> str:
    """A ``.pgpass`` line matching any server, with ``:`` and ``\\`` escaped as libpq wants."""
    return "*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n"


def libpq_target(url: str, folder: Path) -> tuple[str, dict[str, str]]:
    """The ``--dbname`` connection string for ``url`` without its password, and the environment
    for the child: ``PGPASSFILE`` naming a file written in ``folder`` with mode 0600."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if parsed.password is not None:
        passfile = Path(folder) / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        with os.fdopen(fd, "w") as fh:
            fh.write(_passfile_line(str(parsed.password)))
        env["PGPASSFILE"] = str(passfile)
    target = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                        database=parsed.database, query=parsed.query)  # everything but the password
    return target.render_as_string(hide_password=False), env


def dump_command(target: str, dump: Path) -> list[str]:
    """pg_dump's command line (no password on it)."""
    return [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", f"--dbname={target}"]


def restore_command(target: str, dump: Path) -> list[str]:
    """pg_restore's command line (no password on it)."""
    return [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--exit-on-error", f"--dbname={target}", str(dump)]


@contextmanager
def _private_tmp() -> Iterator[Path]:
    """A temporary folder only this user can enter (mode 0700), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="geomap-backup-") as tmp:
        os.chmod(tmp, 0o700)
        yield Path(tmp)


def _extract(tar: tarfile.TarFile, dest: Path, archive: Path) -> None:
    """Unpack ``tar`` into ``dest``, refusing anything but plain files and folders inside ``dest``
    (Python before 3.11.4, Debian 12's included, has no ``filter="data"`` to do it for us)."""
    inside = dest.resolve()
    for member in tar.getmembers():
        if not (member.isfile() or member.isdir()) or not (inside / member.name).resolve().is_relative_to(inside):
            raise GeomapError(f"{archive} is not a geomap backup (unsafe entry {member.name!r})")
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
    else:
        tar.extractall(dest)  # every entry checked above


def backup(url: str, home: Path, out: Path) -> Path:
    """Write a backup of the database at ``url`` and the photos under ``home`` to ``out`` (mode 0600)."""
    out = Path(out).resolve()
    with _private_tmp() as tmp:
        dump = tmp / "database.dump"
        target, env = libpq_target(url, tmp)
        proc = subprocess.run(dump_command(target, dump), capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise GeomapError(f"pg_dump failed: {proc.stderr.strip()}")
        fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w") as tar:
                tar.add(dump, arcname="database.dump")
                photos = Path(home) / "photos"
                if photos.exists():
                    tar.add(photos, arcname="photos")
            os.chmod(partial, PRIVATE)
            os.replace(partial, out)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return out


def restore(url: str, home: Path, archive: Path) -> None:
    """Restore a backup made by :func:`backup` into the database at ``url`` and ``home``."""
    with _private_tmp() as tmp, tarfile.open(archive) as tar:
        if "database.dump" not in tar.getnames():
            raise GeomapError(f"{archive} is not a geomap backup (no database.dump)")
        _extract(tar, tmp / "backup", archive)
        target, env = libpq_target(url, tmp)
        proc = subprocess.run(restore_command(target, tmp / "backup" / "database.dump"),
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise GeomapError(f"pg_restore failed: {proc.stderr.strip()[:2000]}")
        src = tmp / "backup" / "photos"
        if src.exists():
            dest = Path(home) / "photos"
            dest.mkdir(parents=True, exist_ok=True)
            for f in src.iterdir():
                shutil.copy2(f, dest / f.name)
