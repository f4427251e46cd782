"""Read replicas: reads go to PostgreSQL streaming replicas, writes to the primary.

Read-your-own-writes uses WAL positions (LSNs), the way GitLab's load balancer does:

* after a write commits, the primary's ``pg_current_wal_lsn()`` is the *fence* of that writer:
  it is kept per user in the primary's unlogged table ``read_fences`` (so every worker knows it
  at the credential lookup it does anyway), and is also sent back as the ``Geomap-Read-After``
  header and a short-lived cookie of the same name (so a browser's tile requests carry it with
  no database lookup);
* a read with a fence goes to a replica whose ``pg_last_wal_replay_lsn()`` has reached it, else
  to the primary; a read without one goes to the next healthy replica (round robin);
* each worker polls its replicas' replay positions every ``GEOMAP_REPLICA_POLL_S`` seconds; a
  replica that does not answer is left out until it answers again, so reads fall back to the
  primary instead of failing.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from geomap.database import make_engine

log = logging.getLogger("geomap.replicas")

FENCE_HEADER = "Geomap-Read-After"
FENCE_COOKIE = "geomap_read_after"
FENCE_COOKIE_MAX_AGE = 300


def lsn_value(lsn: str | None) -> int | None:
    """``'16/B374D848'`` as an integer (None for None or anything that is not an LSN)."""
    if not lsn:
        return None
    high, sep, low = lsn.strip().partition("/")
    if not sep or not (0 < len(high) <= 8 and 0 < len(low) <= 8):
        return None
    try:
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        return None


def newest_fence(*lsns: str | None) -> int | None:
    """The highest of several optional LSNs (unparseable ones are ignored)."""
    values = [v for v in map(lsn_value, lsns) if v is not None]
    return max(values) if values else None


def record_fence(conn: Connection, user_id: str) -> str:
    """After a committed write: remember the primary's WAL position for ``user_id``; return it."""
    return conn.execute(
        text(
            "INSERT INTO read_fences (user_id, lsn) VALUES (:u, pg_current_wal_lsn()::text) "
            "ON CONFLICT (user_id) DO UPDATE SET lsn = EXCLUDED.lsn, at = now() RETURNING lsn"
        ),
        {"u": user_id},
    ).scalar_one()


@dataclass
class Replica:
    """One replica: its engine and what the last poll saw."""

    name: str
    engine: Engine
    healthy: bool = False
    replay_lsn: int | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self) -> None:
        """Ask the replica how far it has replayed; mark it unhealthy if it does not answer."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    text("SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn")
                ).one()
        except Exception as exc:  # any failure means: do not send reads there
            with self.lock:
                if self.healthy:
                    log.warning("replica %s unavailable: %s", self.name, exc.__class__.__name__)
                self.healthy, self.error = False, str(exc).splitlines()[0][:200]
            return
        with self.lock:
            if not row.standby:
                # A promoted replica is a primary of its own: its data diverges from ours.
                self.healthy, self.error = False, "not a standby (promoted?)"
                return
            self.healthy, self.error, self.replay_lsn = True, None, lsn_value(row.lsn)

    def has_replayed(self, fence: int | None) -> bool:
        """Healthy, and (with a fence) caught up to it according to the last poll."""
        with self.lock:
            if not self.healthy:
                return False
            return fence is None or (self.replay_lsn is not None and self.replay_lsn >= fence)


class ReadRouter:
    """Chooses the engine for a read: a replica that satisfies the caller's fence, else the primary."""

    def __init__(self, primary: Engine, replica_urls: list[str], poll_s: float = 1.0) -> None:
        self.primary = primary
        self.replicas = [
            Replica(name=f"replica-{i + 1}", engine=make_engine(url, pool_size=10, max_overflow=20,
                                                                connect_args={"connect_timeout": 3}))
            for i, url in enumerate(replica_urls)
        ]
        self.poll_s = poll_s
        self._next = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether any replica is configured (writes then record fences)."""
        return bool(self.replicas)

    def start(self) -> None:
        """First poll now, then keep polling in a daemon thread."""
        if not self.replicas:
            return
        self.poll_all()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="replica-poll")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll_all()

    def poll_all(self) -> None:
        """Refresh every replica's health and replay position."""
        for replica in self.replicas:
            replica.poll()

    def choose(self, fence: int | None) -> tuple[Engine, str]:
        """``(engine, name)`` for a read needing at least WAL position ``fence`` (None: any)."""
        if not self.replicas:
            return self.primary, "primary"
        start = next(self._next)
        ordered = [self.replicas[(start + i) % len(self.replicas)] for i in range(len(self.replicas))]
        for replica in ordered:
            if replica.has_replayed(fence):
                return replica.engine, replica.name
        if fence is not None:
            # The last poll may be a second old; replication on a LAN is milliseconds. Ask again.
            for replica in ordered:
                if replica.healthy:
                    replica.poll()
                    if replica.has_replayed(fence):
                        return replica.engine, replica.name
        return self.primary, "primary"

    def status(self) -> list[dict]:
        """For /health: each replica's health and how far behind the primary it is, in bytes."""
        if not self.replicas:
            return []
        self.poll_all()
        with self.primary.connect() as conn:
            current = lsn_value(conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one())
        report = []
        for replica in self.replicas:
            url = replica.engine.url
            entry = {"name": replica.name, "host": url.host, "port": url.port, "healthy": replica.healthy}
            if replica.healthy and replica.replay_lsn is not None and current is not None:
                entry["lag_bytes"] = max(0, current - replica.replay_lsn)
            if replica.error:
                entry["error"] = replica.error
            report.append(entry)
        return report

    def close(self) -> None:
        """Stop polling and close the replicas' pools."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for replica in self.replicas:
            replica.engine.dispose()
