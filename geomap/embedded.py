"""The embedded PostGIS: a private PostgreSQL cluster for ``GEOMAP_HOME``.

When ``GEOMAP_DATABASE_URL`` is unset, geomap runs its own server:

* on first use it runs ``initdb`` (password auth, loopback only, no Unix socket), as an
  unprivileged system user when geomap itself runs as root (:mod:`geomap.pg_programs`), into a
  folder that user can reach (:mod:`geomap.cluster_place`);
* it starts the server on a free loopback port and creates the database and ``postgis``;
* every geomap process that uses the server registers its pid under ``pg/clients``; a second
  process finds the running server (``postmaster.pid``) and reuses it;
* on exit a process deregisters, and the last one out stops the server (``pg_ctl stop -m fast``);
* a server that died (killed, out of memory) is told apart from one that was stopped: its
  ``postmaster.pid`` stays behind. :meth:`EmbeddedPostgres.recover` restarts it on its old port,
  and PostgreSQL's own crash recovery replays the WAL.

All of this happens under an exclusive ``flock`` so two processes never initialise, start or
remove the same cluster at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

from geomap.cluster_place import FALLBACK_ROOT, ClusterPlace
from geomap.pg_programs import EmbeddedError, PgBinaries, ServerUser, find_binaries, free_port, pid_alive

__all__ = ["FALLBACK_ROOT", "SUPERUSER", "EmbeddedError", "EmbeddedPostgres", "EmbeddedReplica", "find_binaries"]

SUPERUSER = "geomap"
SERVER_CONF = (
    "\n# geomap embedded server\n"
    "listen_addresses = '127.0.0.1'\n"
    "unix_socket_directories = ''\n"
    "shared_buffers = 256MB\n"
    "max_connections = 200\n"
    "logging_collector = off\n"
)

#: Given on every start, so clusters made by older versions get them too. A million-tree load
#: writes gigabytes of WAL: with the default 1 GB ``max_wal_size`` it forces checkpoints (and full
#: page images after each) every few seconds; lz4 shrinks those images; sorts and hashes of a
#: large load's staging table stay in memory instead of spilling to disk.
START_OPTIONS = "-c max_wal_size=4GB -c wal_compression=lz4 -c work_mem=32MB"


class EmbeddedPostgres:
    """One embedded PostGIS cluster of ``home``; see the module docstring for its life cycle."""

    def __init__(self, home: Path, run_as: str = "postgres", dbname: str = "geomap") -> None:
        self.user = ServerUser.for_this_process(run_as)
        self.place = ClusterPlace.for_home(home, self.user)
        self.dbname = dbname
        self.root, self.server_dir = self.place.root, self.place.server_dir
        self.data, self.log = self.place.data, self.place.log
        self.state_file, self.clients = self.place.state_file, self.place.clients
        self._registered = False

    # -- what is there -------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.place.lock_file, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def _write_state(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state))
        os.chmod(self.state_file, 0o600)

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) from ``postmaster.pid``, or None when there is no such file."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None

    def running_port(self) -> int | None:
        """Port of the running server, or None when it is not running."""
        found = self._postmaster()
        if found is None or not pid_alive(found[0]):
            return None
        return found[1]

    def crashed(self) -> bool:
        """Whether the server died without stopping: its ``postmaster.pid`` is left, its process is gone.

        A clean stop (``pg_ctl stop``, the last client leaving, ``geomap db stop``) removes the file.
        """
        found = self._postmaster()
        return found is not None and not pid_alive(found[0])

    def url(self, dbname: str | None = None) -> str:
        """SQLAlchemy URL of the running server's database."""
        port = self.running_port()
        if port is None:
            raise EmbeddedError("the embedded PostGIS is not running")
        password = quote(self._state()["password"], safe="")
        return f"postgresql+psycopg2://{SUPERUSER}:{password}@127.0.0.1:{port}/{dbname or self.dbname}"

    # -- setting up and starting ------------------------------------------------------------
    def _secret_file(self, name: str, text: str) -> Path:
        """``text`` in a file of the server folder that only the server's user can read (mode 0600),
        so a password reaches a server program without appearing on its command line."""
        path = self.server_dir / name
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        self.user.give(path)
        return path

    def _initdb(self, binaries: PgBinaries) -> None:
        self.user.require()
        self.place.prepare_server_dir(self.user)
        if self.user.as_root and self.user.run("test", "-w", str(self.server_dir), check=False).returncode != 0:
            raise EmbeddedError(
                f"user '{self.user.name}' cannot write {self.server_dir}: every parent folder must be "
                f"searchable by it (chmod o+x), or set GEOMAP_HOME to a folder it can reach."
            )
        password = secrets.token_urlsafe(24)
        pwfile = self._secret_file("initdb.pw", password + "\n")
        try:
            self.user.run(
                binaries.tool("initdb"), "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
                log=self.log,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONF)
        self._write_state({"password": password, "major": binaries.major})

    def _start(self, binaries: PgBinaries) -> None:
        if not self.log.exists():
            self.log.touch()
        self.user.give(self.log)
        state = self._state()
        port = free_port(state.get("port"))  # the same port as last time when it is free: URLs stay valid
        self.user.run(
            binaries.tool("pg_ctl"), "start", "-w", "-t", "90",
            "-D", str(self.data), "-l", str(self.log), "-o", f"-p {port} {START_OPTIONS}", log=self.log,
        )
        for _ in range(100):
            if self.running_port() is not None:
                self._write_state({**state, "port": port})
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

    # -- life cycle ---------------------------------------------------------------------------
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

    def recover(self) -> bool:
        """Restart a server that died (see :meth:`crashed`) on its old port when it is free.

        Returns True when this call restarted it. A server stopped on purpose is left stopped.
        """
        if not self.crashed():
            return False
        with self._locked():
            if not self.crashed():
                return False  # another process got there first
            self._start(find_binaries())
            return True

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
            if pid_alive(pid):
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
        if not (self.data / "PG_VERSION").exists():
            return
        self.user.run(find_binaries().tool("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data), check=False)

    def remove(self) -> bool:
        """Stop the server and delete the whole cluster, data included, wherever its files live.

        Refuses (returns False) while another live process is registered as a client.
        """
        with self._locked():
            if [pid for pid in self.live_clients() if pid != os.getpid()]:
                return False
            if self.running_port() is not None:
                self.stop_now()
            self._registered = False
            self.place.remove_files()
            return True

    def status(self) -> dict:
        """A small report for ``geomap db status``."""
        port = self.running_port()
        return {
            "data_directory": str(self.data),
            "initialised": (self.data / "PG_VERSION").exists(),
            "running": port is not None,
            "crashed": self.crashed(),
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
        self.place.prepare_server_dir(self.user)
        # The password lives in a 0600 password file that the connection string names, never on
        # pg_basebackup's command line (visible to every user in `ps`); `-R` copies the reference
        # into the standby's primary_conninfo, so the file stays for the standby's own connections.
        passfile = self._secret_file("primary.pgpass", f"*:*:*:{SUPERUSER}:{password}\n")
        conninfo = (f"host=127.0.0.1 port={port} user={SUPERUSER} passfile={passfile} "
                    f"application_name=geomap_{hashlib.sha1(str(self.root).encode()).hexdigest()[:8]}")
        self.user.run(binaries.tool("pg_basebackup"), "-D", str(self.data), "-R", "-X", "stream",
                      "-c", "fast", "-d", conninfo, timeout=600, log=self.log)
        self._write_state({"password": password, "major": binaries.major, "replica_of": port})

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
