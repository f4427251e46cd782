"""The embedded PostGIS: a private PostgreSQL cluster under ``GEOMAP_HOME``.

When ``GEOMAP_DATABASE_URL`` is unset, geomap runs its own server:

* on first use it runs ``initdb`` into ``$GEOMAP_HOME/pg/data`` (password auth, loopback only,
  no Unix socket), as an unprivileged system user when geomap itself runs as root;
* it starts the server on a free loopback port and creates the database and ``postgis``;
* every geomap process that uses the server registers its pid under ``pg/clients``; a second
  process finds the running server (``postmaster.pid``) and reuses it;
* on exit a process deregisters, and the last one out stops the server (``pg_ctl stop -m fast``).

All of this happens under an exclusive ``flock`` so two processes never initialise or start the
same cluster at once. A server killed uncleanly is recovered by PostgreSQL's own crash recovery
at the next start.
"""

from __future__ import annotations

import fcntl
import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

PG_MAJOR_MIN = 15
SUPERUSER = "geomap"


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
    candidates = sorted(Path(lib_root).glob("*/bin/initdb"), reverse=True)
    found: list[PgBinaries] = []
    for initdb in candidates:
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
        control = Path(share_root) / str(binaries.major) / "extension" / "postgis.control"
        if control.exists():
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


FALLBACK_ROOT = Path("/var/lib/geomap/clusters")


def _reachable(path: Path, user: str) -> bool:
    """Whether ``user`` can enter every existing folder from / down to ``path``."""
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return True  # reported later, with a clearer message
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {pw.pw_gid}
    for folder in [*reversed(path.parents), path]:
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedPostgres:
    """One embedded PostGIS cluster in ``home/pg``; see the module docstring for its life cycle."""

    def __init__(self, home: Path, run_as: str = "postgres", dbname: str = "geomap") -> None:
        self.root = Path(home).expanduser().resolve() / "pg"
        self.state_file = self.root / "server.json"
        self.clients = self.root / "clients"
        self.dbname = dbname
        self.as_root = os.geteuid() == 0
        self.run_as = run_as if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        # The server's own files must be reachable by the user that runs it. As root, with a
        # home under a folder that user cannot enter (say /root), they go to /var/lib/geomap.
        server_dir = self.root
        if self.as_root and not _reachable(self.root.parent, self.run_as):
            digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
            server_dir = FALLBACK_ROOT / digest
        self.server_dir = server_dir
        self.data = server_dir / "data"
        self.log = server_dir / "postgresql.log"
        self._registered = False

    # -- helpers -------------------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        if not self.as_root:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", self.run_as, "--", *args]

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and proc.returncode != 0:
            raise EmbeddedError(
                f"{Path(args[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                f"\nServer log: {self.log}"
            )
        return proc

    def _chown(self, path: Path) -> None:
        if self.as_root:
            pw = pwd.getpwnam(self.run_as)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def running_port(self) -> int | None:
        """Port of the running server, or None when it is not running."""
        pidfile = self.data / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not _pid_alive(pid):
            return None
        return port

    def url(self, dbname: str | None = None) -> str:
        """SQLAlchemy URL of the running server's database."""
        port = self.running_port()
        if port is None:
            raise EmbeddedError("the embedded PostGIS is not running")
        password = quote(self._state()["password"], safe="")
        return f"postgresql+psycopg2://{SUPERUSER}:{password}@127.0.0.1:{port}/{dbname or self.dbname}"

    # -- life cycle ----------------------------------------------------------------------
    def _initdb(self, binaries: PgBinaries) -> None:
        try:
            pwd.getpwnam(self.run_as)
        except KeyError as exc:
            raise EmbeddedError(
                f"geomap runs as root, and PostgreSQL refuses to; it needs the unprivileged user "
                f"'{self.run_as}' (created by the postgresql package, or set GEOMAP_PG_USER)."
            ) from exc
        self.server_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.server_dir)
        if self.as_root and self._run("test", "-w", str(self.server_dir), check=False).returncode != 0:
            raise EmbeddedError(
                f"user '{self.run_as}' cannot write {self.server_dir}: every parent folder must be "
                f"searchable by it (chmod o+x), or set GEOMAP_HOME to a folder it can reach."
            )
        password = secrets.token_urlsafe(24)
        pwfile = self.server_dir / "initdb.pw"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        self._chown(pwfile)
        try:
            self._run(
                binaries.tool("initdb"),
                "-D", str(self.data),
                "-U", SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# geomap embedded server\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "shared_buffers = 256MB\n"
                "max_connections = 200\n"
                "logging_collector = off\n"
            )
        self.state_file.write_text(json.dumps({"password": password, "major": binaries.major}))
        os.chmod(self.state_file, 0o600)

    def _start(self, binaries: PgBinaries) -> None:
        if not self.log.exists():
            self.log.touch()
        self._chown(self.log)
        state = self._state()
        port = free_port(state.get("port"))  # the same port as last time when it is free: URLs stay valid
        self._run(
            binaries.tool("pg_ctl"), "start", "-w", "-t", "90",
            "-D", str(self.data), "-l", str(self.log), "-o", f"-p {port}",
        )
        for _ in range(100):
            if self.running_port() is not None:
                self.state_file.write_text(json.dumps({**state, "port": port}))
                return
            time.sleep(0.1)
        raise EmbeddedError(f"PostgreSQL did not come up; see {self.log}")

    def _ensure_database(self) -> None:
        admin_url = self.url("postgres").replace("postgresql+psycopg2://", "postgresql://")
        conn = psycopg2.connect(admin_url)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        finally:
            conn.close()
        conn = psycopg2.connect(self.url().replace("postgresql+psycopg2://", "postgresql://"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            conn.close()

    def acquire(self) -> str:
        """Start (or reuse) the server, register this process as a client, return the DB URL."""
        with self._locked():
            binaries = find_binaries()
            if (self.data / "PG_VERSION").exists() and not self.state_file.exists():
                # A cluster whose password file is gone (GEOMAP_HOME was wiped): unusable, start over.
                self.stop_now()
                shutil.rmtree(self.data)
            if not (self.data / "PG_VERSION").exists():
                self._initdb(binaries)
            if self.running_port() is None:
                self._start(binaries)
            self.clients.mkdir(exist_ok=True)
            (self.clients / str(os.getpid())).touch()
            self._registered = True
            self._ensure_database()
            return self.url()

    def live_clients(self) -> list[int]:
        """Pids of live processes registered as clients (stale entries are removed)."""
        pids: list[int] = []
        if not self.clients.exists():
            return pids
        for entry in self.clients.iterdir():
            try:
                pid = int(entry.name)
            except ValueError:
                continue
            if _pid_alive(pid):
                pids.append(pid)
            else:
                entry.unlink(missing_ok=True)
        return pids

    def release(self) -> bool:
        """Deregister this process; stop the server when no client is left. True if it stopped."""
        if not self._registered:
            return False
        with self._locked():
            (self.clients / str(os.getpid())).unlink(missing_ok=True)
            self._registered = False
            if self.live_clients() or self.running_port() is None:
                return False
            self.stop_now()
            return True

    def release_registration(self) -> None:
        """Deregister this process without stopping the server (it keeps running for others)."""
        if self._registered:
            with self._locked():
                (self.clients / str(os.getpid())).unlink(missing_ok=True)
                self._registered = False

    def stop_now(self) -> None:
        """Stop the server at once (fast shutdown), whoever uses it."""
        binaries = find_binaries()
        self._run(binaries.tool("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data), check=False)

    def status(self) -> dict:
        """A small report for ``geomap db status``."""
        port = self.running_port()
        return {
            "data_directory": str(self.data),
            "initialised": (self.data / "PG_VERSION").exists(),
            "running": port is not None,
            "port": port,
            "clients": self.live_clients(),
        }


class EmbeddedReplica(EmbeddedPostgres):
    """A hot-standby streaming replica of a running embedded primary, in ``home/pg``.

    Made with ``pg_basebackup -R`` (WAL streamed during the copy, ``standby.signal`` and
    ``primary_conninfo`` written), then started on its own loopback port. It serves reads only;
    ``acquire``/``release`` work as for the primary. For trying replicas on one machine and for
    the replica tests; a production replica is made the same way on its own host.
    """

    def __init__(self, home: Path, primary: EmbeddedPostgres, run_as: str = "postgres") -> None:
        super().__init__(home, run_as=run_as, dbname=primary.dbname)
        self.primary = primary

    def _initdb(self, binaries: PgBinaries) -> None:
        port = self.primary.running_port()
        if port is None:
            raise EmbeddedError("start the primary before making a replica of it")
        password = self.primary._state()["password"]
        if self.data.exists():
            shutil.rmtree(self.data)
        self.server_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.server_dir)
        conninfo = (f"host=127.0.0.1 port={port} user={SUPERUSER} password={password} "
                    f"application_name=geomap_{hashlib.sha1(str(self.root).encode()).hexdigest()[:8]}")
        self._run(binaries.tool("pg_basebackup"), "-D", str(self.data), "-R", "-X", "stream",
                  "-c", "fast", "-d", conninfo, timeout=600)
        self.state_file.write_text(json.dumps({"password": password, "major": binaries.major, "replica_of": port}))
        os.chmod(self.state_file, 0o600)

    def _ensure_database(self) -> None:
        """A standby is read-only: the database and PostGIS come from the primary."""

    def rebuild(self) -> None:
        """Throw the replica's files away (stopping it first); the next ``acquire`` copies the primary afresh."""
        with self._locked():
            if self.running_port() is not None:
                self.stop_now()
            if self.data.exists():
                shutil.rmtree(self.data)
            self.state_file.unlink(missing_ok=True)
