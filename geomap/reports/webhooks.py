"""Team webhooks: which team gets what, how it is signed, and the delivery log.

Each new or changed report adds one row per owning team with a webhook to ``webhook_deliveries``
in the same transaction as the change (so a delivery is never lost, nor sent for a change that
was rolled back). :mod:`geomap.reports.delivery` sends them in the background.

A delivery is an HTTP POST of JSON with these headers:

* ``X-Geomap-Event``: ``report.created`` or ``report.updated``;
* ``X-Geomap-Delivery``: the delivery's id (the same on every retry of it);
* ``X-Geomap-Signature``: ``sha256=`` + the hex HMAC-SHA256 of the raw body under the team's
  secret. A receiver recomputes it and compares in constant time (``hmac.compare_digest``).

The body is the report's public view plus ``visible`` and ``team_codes`` — never the reporter's
contact (a chat bot or an IOC system may show what it receives).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Mapping
from urllib.parse import urlsplit

from sqlalchemy import Connection, text

from geomap.errors import FieldProblem, InvalidInput, NotFound
from geomap.reports.views import load

SIGNATURE_HEADER = "X-Geomap-Signature"
EVENT_HEADER = "X-Geomap-Event"
DELIVERY_HEADER = "X-Geomap-Delivery"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is the right one for ``body`` (what a receiver does)."""
    return bool(signature) and hmac.compare_digest(sign(secret, body), signature or "")


def enqueue(conn: Connection, row: Mapping, event: str) -> int:
    """Queue ``event`` about the report ``row`` (selected with views.COLUMNS) for each owning team
    that has a webhook; return how many deliveries were queued."""
    if not row["team_codes"] or conn.execute(text(
            "SELECT 1 FROM team_report_settings WHERE team_code = ANY(:teams) AND webhook_url IS NOT NULL LIMIT 1"),
            {"teams": list(row["team_codes"])}).first() is None:
        return 0
    payload = {"event": event, "report": load(conn, row) | {"visible": row["visible"], "team_codes": list(row["team_codes"])}}
    result = conn.execute(text(
        "INSERT INTO webhook_deliveries (team_code, report_id, event, payload) "
        "SELECT s.team_code, :r, :e, CAST(:p AS jsonb) FROM team_report_settings s "
        "WHERE s.team_code = ANY(:teams) AND s.webhook_url IS NOT NULL"),
        {"r": row["id"], "e": event, "p": json.dumps(payload, ensure_ascii=False), "teams": list(row["team_codes"])})
    return result.rowcount


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput([FieldProblem("webhook_url", "must be an http:// or https:// URL")])


def configure_team(conn: Connection, team_code: str, *, webhook_url: str | None = None, secret: str | None = None,
                   auto_publish: bool | None = None, clear_webhook: bool = False) -> dict:
    """Set a team's report settings: its webhook (URL and secret; a secret is generated when none
    is given) and whether its reports are public without a check. Returns the settings, the
    secret included (shown once by the CLI)."""
    if conn.execute(text("SELECT 1 FROM teams WHERE code = :c"), {"c": team_code}).first() is None:
        raise NotFound(f"no team has code {team_code}")
    if webhook_url is not None:
        _check_url(webhook_url)
        secret = secret or secrets.token_urlsafe(32)
    conn.execute(text(
        "INSERT INTO team_report_settings (team_code) VALUES (:c) ON CONFLICT (team_code) DO NOTHING"), {"c": team_code})
    conn.execute(text(
        "UPDATE team_report_settings SET "
        "webhook_url = CASE WHEN :clear THEN NULL ELSE coalesce(:url, webhook_url) END, "
        "webhook_secret = CASE WHEN :clear THEN NULL ELSE coalesce(:secret, webhook_secret) END, "
        "auto_publish = coalesce(:auto, auto_publish), updated_at = now() WHERE team_code = :c"),
        {"c": team_code, "url": webhook_url, "secret": secret, "auto": auto_publish, "clear": clear_webhook})
    row = conn.execute(text("SELECT team_code, webhook_url, webhook_secret, auto_publish FROM team_report_settings "
                            "WHERE team_code = :c"), {"c": team_code}).mappings().one()
    return dict(row)


def deliveries(conn: Connection, team_code: str | None = None, report_id: str | None = None, limit: int = 100) -> list[dict]:
    """The delivery log, newest first (for the team page, the CLI and tests)."""
    rows = conn.execute(text(
        "SELECT id, team_code, report_id::text AS report_id, event, status, attempts, last_status_code, last_error, "
        "created_at, next_attempt_at, delivered_at FROM webhook_deliveries "
        "WHERE (CAST(:t AS text) IS NULL OR team_code = :t) AND (CAST(:r AS text) IS NULL OR report_id = CAST(:r AS uuid)) "
        "ORDER BY id DESC LIMIT :n"), {"t": team_code, "r": report_id, "n": limit}).mappings().all()
    return [dict(r) for r in rows]
