"""The webhook worker: sends queued deliveries (``webhook_deliveries``), signs them, retries
failures with exponential backoff and keeps the log.

Started and stopped by the app's lifespan (nothing runs at import). Each process may run one;
rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so several workers never send the
same attempt twice at once. A 2xx answer delivers; anything else (an error status, a refused
connection, a timeout) is retried after ``backoff · 2^(attempt-1)`` seconds, until
``max_attempts``, then the delivery is marked ``failed``. Redirects are not followed.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, text

from geomap.reports.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("geomap.webhooks")
BATCH = 20


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the worker sends: poll interval, first retry delay, attempts, timeout (seconds)."""

    poll_s: float = 5.0
    backoff_s: float = 30.0
    max_attempts: int = 8
    timeout_s: float = 10.0

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return self.backoff_s * (2 ** max(0, attempts - 1))


def body_of(payload: dict) -> bytes:
    """The exact bytes sent (and signed) for ``payload``."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _claim(engine: Engine, policy: DeliveryPolicy) -> list:
    lease = policy.timeout_s * 2 + 5
    with engine.begin() as conn:
        return conn.execute(text(
            "UPDATE webhook_deliveries d SET attempts = d.attempts + 1, "
            "next_attempt_at = now() + make_interval(secs => :lease) FROM team_report_settings s "
            "WHERE s.team_code = d.team_code AND d.id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' "
            "AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT :n FOR UPDATE SKIP LOCKED) "
            "RETURNING d.id, d.event, d.payload, d.attempts, s.webhook_url, s.webhook_secret"),
            {"lease": lease, "n": BATCH}).all()


def _send(client: httpx.Client, row) -> tuple[int | None, str | None]:
    if not row.webhook_url:
        return None, "the team has no webhook any more"
    body = body_of(row.payload)
    headers = {"Content-Type": "application/json", EVENT_HEADER: row.event, DELIVERY_HEADER: str(row.id),
               SIGNATURE_HEADER: sign(row.webhook_secret or "", body), "User-Agent": "geomap-webhooks"}
    try:
        response = client.post(row.webhook_url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _record(engine: Engine, row, status_code: int | None, error: str | None, policy: DeliveryPolicy) -> None:
    if error is None:
        sql = ("UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status_code = :code, "
               "last_error = NULL WHERE id = :id")
    elif row.attempts >= policy.max_attempts:
        sql = "UPDATE webhook_deliveries SET status = 'failed', last_status_code = :code, last_error = :err WHERE id = :id"
    else:
        sql = ("UPDATE webhook_deliveries SET last_status_code = :code, last_error = :err, "
               "next_attempt_at = now() + make_interval(secs => :delay) WHERE id = :id")
    with engine.begin() as conn:
        conn.execute(text(sql), {"id": row.id, "code": status_code, "err": error,
                                 "delay": policy.retry_delay(row.attempts)})


def deliver_due(engine: Engine, policy: DeliveryPolicy, client: httpx.Client) -> int:
    """Send every delivery that is due now, once; return how many were attempted."""
    done = 0
    while True:
        rows = _claim(engine, policy)
        for row in rows:
            status_code, error = _send(client, row)
            if error:
                log.info("webhook delivery %s to team's URL failed (attempt %s): %s", row.id, row.attempts, error)
            _record(engine, row, status_code, error, policy)
        done += len(rows)
        if len(rows) < BATCH:
            return done


class WebhookWorker:
    """A background thread that delivers webhooks; :meth:`wake` after a commit sends at once."""

    def __init__(self, engine: Engine, policy: DeliveryPolicy) -> None:
        self.engine = engine
        self.policy = policy
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, daemon=True, name="webhooks")
        self._thread.start()

    def wake(self) -> None:
        """Look for due deliveries now (a report was just created or changed)."""
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (an attempt under way finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.policy.timeout_s + 5)

    def _run(self) -> None:
        with httpx.Client(timeout=self.policy.timeout_s, follow_redirects=False, trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    deliver_due(self.engine, self.policy, client)
                except Exception as exc:  # the database away for a moment: try again at the next poll
                    log.warning("webhook worker: delivery round failed (%s); trying again at the next poll",
                                type(exc).__name__)
                self._wake.wait(self.policy.poll_s)
                self._wake.clear()
