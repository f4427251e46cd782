"""Team webhooks against a real local HTTP receiver: signed, retried with backoff after failures, logged."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from geomap.reports import webhooks
from geomap.reports.delivery import DeliveryPolicy
from tests.reports.helpers import EMAIL, PHONE, REPORTS, post_report
from tests.world import World

SECRET = "bí-mật-của-tổ-NB"


class Receiver:
    """A real HTTP server on loopback that records what it gets and fails the first ``fail`` requests."""

    def __init__(self, fail: int = 0, status: int = 500) -> None:
        self.fail, self.status, self.received = fail, status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                code = outer.status if len(outer.received) <= outer.fail else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kw) -> Receiver:
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _configure(world: World, url: str) -> None:
    with world.engine.begin() as conn:
        webhooks.configure_team(conn, "NB-DOANTN-01", webhook_url=url, secret=SECRET)


def _log(world: World) -> list[dict]:
    with world.engine.connect() as conn:
        return webhooks.deliveries(conn, "NB-DOANTN-01")


def _await(condition, attempts: int = 300):
    """Poll ``condition`` a bounded number of times (waking the worker each time)."""
    for _ in range(attempts):
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met")


def test_signed_delivery_on_create_and_change(world: World, receiver):
    hook = receiver()
    _configure(world, hook.url)
    out = post_report(world).json()
    _await(lambda: len(hook.received) >= 1)
    headers, body = hook.received[0]
    assert headers["X-Geomap-Event"] == "report.created"
    assert webhooks.verify(SECRET, body, headers["X-Geomap-Signature"])
    assert not webhooks.verify("another secret", body, headers["X-Geomap-Signature"])
    payload = json.loads(body)
    assert payload["report"]["id"] == out["report"]["id"] and payload["report"]["team_codes"] == ["NB-DOANTN-01"]
    assert PHONE not in body.decode() and EMAIL not in body.decode()  # contacts never leave in a webhook
    world.client.post(f"{REPORTS}/{out['report']['id']}/transition", json={"state": "acknowledged"},
                      headers=world.auth("other_volunteer"))
    _await(lambda: len(hook.received) >= 2)
    assert hook.received[1][0]["X-Geomap-Event"] == "report.updated"
    assert json.loads(hook.received[1][1])["report"]["state"] == "acknowledged"
    log = _await(lambda: [d for d in _log(world) if d["status"] == "delivered"] if len(
        [d for d in _log(world) if d["status"] == "delivered"]) == 2 else None)
    assert {d["event"] for d in log} == {"report.created", "report.updated"}
    assert all(d["attempts"] == 1 and d["last_status_code"] == 204 for d in log)


def test_failures_are_retried_then_delivered(world: World, receiver):
    hook = receiver(fail=2, status=503)
    _configure(world, hook.url)
    post_report(world)
    delivered = _await(lambda: [d for d in _log(world) if d["status"] == "delivered"])
    assert delivered[0]["attempts"] == 3 and len(hook.received) == 3
    ids = {h["X-Geomap-Delivery"] for h, _ in hook.received}
    assert ids == {str(delivered[0]["id"])}  # the same delivery, retried


def test_unreachable_receiver_ends_failed_after_max_attempts(world: World, receiver):
    hook = receiver()
    url = hook.url
    hook.close()  # nothing listens there any more: connection refused
    _configure(world, url)
    world.client.app.state.webhooks.policy = DeliveryPolicy(0.05, 0.1, 3, 2.0)
    post_report(world)
    failed = _await(lambda: [d for d in _log(world) if d["status"] == "failed"])
    assert failed[0]["attempts"] == 3 and failed[0]["last_error"] == "ConnectError"


def test_backoff_doubles():
    policy = DeliveryPolicy(backoff_s=30)
    assert [policy.retry_delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_no_webhook_no_delivery_and_bad_url_refused(world: World):
    post_report(world)
    assert world.count("SELECT count(*) FROM webhook_deliveries") == 0
    from geomap.errors import InvalidInput

    with world.engine.begin() as conn, pytest.raises(InvalidInput):
        webhooks.configure_team(conn, "NB-DOANTN-01", webhook_url="file:///etc/passwd")
