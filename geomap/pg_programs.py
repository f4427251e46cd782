"""The PostgreSQL server programs geomap runs, and the system user that runs them.

PostgreSQL refuses to run as root. When geomap runs as root, every server program runs as an
unprivileged system user (``GEOMAP_PG_USER``, ``postgres`` by default) through ``runuser``, and
the files the server touches are handed to that user; otherwise geomap runs them as itself.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_MAJOR_MIN = 15


class EmbeddedError(RuntimeError):
    """The embedded server cannot be set up; the message says what to install or fix."""


@dataclass(frozen=True)
class PgBinaries:
    """Where the PostgreSQL server programs and the PostGIS extension live."""

    bindir: Path
    major: int

    def tool(self, name: str) -> str:
        """Absolute path of one server program (``initdb``, ``pg_ctl``...)."""
        return str(self.bindir / name)


def find_binaries(lib_root: Path = Path("/usr/lib/postgresql"), share_root: Path = Path("/usr/share/postgresql")) -> PgBinaries:
    """Find the newest PostgreSQL >= 15 server with PostGIS installed, or explain what is missing."""
    found: list[PgBinaries] = []
    for initdb in sorted(Path(lib_root).glob("*/bin/initdb"), reverse=True):
        try:
            major = int(initdb.parent.parent.name)
        except ValueError:
            continue
        if major >= PG_MAJOR_MIN and (initdb.parent / "pg_ctl").exists():
            found.append(PgBinaries(initdb.parent, major))
    if not found:
        raise EmbeddedError(
            "PostgreSQL server programs (initdb, pg_ctl) were not found under /usr/lib/postgresql. "
            "Install them with: apt-get install postgresql-15 postgresql-15-postgis-3 "
            "(or set GEOMAP_DATABASE_URL to an existing PostGIS)."
        )
    for binaries in sorted(found, key=lambda b: b.major, reverse=True):
        if (Path(share_root) / str(binaries.major) / "extension" / "postgis.control").exists():
            return binaries
    majors = ", ".join(str(b.major) for b in found)
    raise EmbeddedError(
        f"PostgreSQL {majors} is installed but PostGIS is not. Install it with: "
        f"apt-get install postgresql-{found[0].major}-postgis-3"
    )


def free_port(preferred: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (``preferred`` if it is free)."""
    for port in ((preferred, 0) if preferred else (0,)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL does: TIME_WAIT is no obstacle
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise EmbeddedError("no free TCP port on 127.0.0.1")


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reachable_by(path: Path, user: str) -> bool:
    """Whether ``user`` can enter every existing folder from / down to ``path``."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return True  # reported later, with a clearer message
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {pw.pw_gid}
    for folder in [*reversed(Path(path).parents), Path(path)]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            return True  # created by us below this point
        if st.st_uid == pw.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


@dataclass(frozen=True)
class ServerUser:
    """The system user the server programs run as: ``name``, reached through ``runuser`` when geomap is root."""

    name: str
    as_root: bool

    @classmethod
    def for_this_process(cls, wanted: str) -> "ServerUser":
        """``wanted`` when this process is root (PostgreSQL will not run as root), else this process's user."""
        if os.geteuid() == 0:
            return cls(wanted, True)
        return cls(pwd.getpwuid(os.geteuid()).pw_name, False)

    def require(self) -> None:
        """Fail with a clear message when the user does not exist."""
        try:
            pwd.getpwnam(self.name)
        except KeyError as exc:
            raise EmbeddedError(
                f"geomap runs as root, and PostgreSQL refuses to; it needs the unprivileged user "
                f"'{self.name}' (created by the postgresql package, or set GEOMAP_PG_USER)."
            ) from exc

    def can_reach(self, path: Path) -> bool:
        """Whether the server, run as this user, can enter ``path``."""
        return not self.as_root or reachable_by(path, self.name)

    def command(self, *args: str) -> list[str]:
        """``args`` as a command that runs as this user."""
        if not self.as_root:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", self.name, "--", *args]

    def run(self, *args: str, check: bool = True, timeout: float = 120, log: Path | None = None) -> subprocess.CompletedProcess:
        """Run a server program as this user; on failure, an error naming the program and its message."""
        proc = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and proc.returncode != 0:
            where = f"\nServer log: {log}" if log else ""
            raise EmbeddedError(
                f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}{where}"
            )
        return proc

    def give(self, path: Path) -> None:
        """Hand ``path`` to this user (when geomap runs as root)."""
        if self.as_root:
            pw = pwd.getpwnam(self.name)
            os.chown(path, pw.pw_uid, pw.pw_gid)
