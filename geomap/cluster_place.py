"""Where an embedded cluster lives on disk.

geomap's own bookkeeping for a cluster (the password and port in ``server.json``, the registered
clients, the lock) always lives in ``$GEOMAP_HOME/pg``. The server's files (``data/`` and the
log) live there too, unless the server's user cannot reach that folder: a clone under ``/root``
run as root, where ``postgres`` may not enter ``/root``. Then they move to
``/var/lib/geomap/clusters/<hash of the home>``, and a ``geomap-home`` file there names the home
they belong to, so such a folder can always be traced back (and removed with its home).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from geomap.pg_programs import ServerUser

FALLBACK_ROOT = Path("/var/lib/geomap/clusters")
OWNER_FILE = "geomap-home"


@dataclass(frozen=True)
class ClusterPlace:
    """The folders of one embedded cluster."""

    root: Path  # $GEOMAP_HOME/pg: state, clients, lock
    server_dir: Path  # the server's files: ``root``, or a folder under FALLBACK_ROOT

    @classmethod
    def for_home(cls, home: Path, user: ServerUser, fallback_root: Path = FALLBACK_ROOT) -> "ClusterPlace":
        """The place of the cluster of ``home``: in it when ``user`` can reach it, else under ``fallback_root``."""
        root = Path(home).expanduser().resolve() / "pg"
        if user.can_reach(root.parent):
            return cls(root, root)
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:12]
        return cls(root, fallback_root / digest)

    @property
    def relocated(self) -> bool:
        """Whether the server's files live outside the home."""
        return self.server_dir != self.root

    @property
    def data(self) -> Path:
        """The PostgreSQL data directory."""
        return self.server_dir / "data"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.server_dir / "postgresql.log"

    @property
    def state_file(self) -> Path:
        """Password, port and major version of the cluster (mode 0600)."""
        return self.root / "server.json"

    @property
    def clients(self) -> Path:
        """One empty file per geomap process that uses the server, named by its pid."""
        return self.root / "clients"

    @property
    def lock_file(self) -> Path:
        """Held (flock) while a process sets up, starts, stops or removes the cluster."""
        return self.root / "lock"

    def prepare_server_dir(self, user: ServerUser) -> None:
        """Create the server's folder for ``user``; a relocated one names its home."""
        self.server_dir.mkdir(parents=True, exist_ok=True)
        user.give(self.server_dir)
        if self.relocated:
            (self.server_dir / OWNER_FILE).write_text(str(self.root.parent) + "\n")

    def remove_files(self) -> None:
        """Delete the server's files and the bookkeeping (the server must be stopped)."""
        shutil.rmtree(self.server_dir, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def relocated_homes(fallback_root: Path = FALLBACK_ROOT) -> dict[Path, Path]:
    """Every relocated cluster folder under ``fallback_root`` with the home it names."""
    found: dict[Path, Path] = {}
    for owner in sorted(Path(fallback_root).glob(f"*/{OWNER_FILE}")):
        try:
            found[owner.parent] = Path(owner.read_text().strip())
        except OSError:
            continue
    return found
