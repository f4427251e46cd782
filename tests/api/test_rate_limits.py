"""Rate limits that a client cannot step around: one token is one bucket however the header is
spelled, forwarded headers count only from trusted proxies, sign-in slows down guessing."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from geomap.api.app import create_app
from geomap.api.signin import username_of
from geomap.api.throttle import Backoff
from tests.api.test_features import problem
from tests.world import PASSWORD, World, serve

BASE = "/api/v1/layers/durian_trees/features"
LOGIN = "/api/v1/auth/login"


def _statuses(send, n: int) -> list[int]:
    out = []
    for i in range(n):
        out.append(send(i).status_code)
        if out[-1] == 429:
            break
    return out


def test_spellings_of_bearer_share_one_bucket(world: World, settings):
    strict = settings.model_copy(update={"write_rate_per_token": 30, "write_rate_per_ip": 10_000})
    token = world.tokens["volunteer"]
    spellings = [f"Bearer {token}", f"bearer {token}", f"BEARER {token}", f"Bearer   {token}  ", f"bEaReR {token}"]
    with TestClient(create_app(strict)) as client:
        def send(i):
            headers = [("Authorization", spellings[i % len(spellings)]), ("Authorization", f"Bearer junk-{i}")]
            return client.post(BASE, json=world.tree_in(code=f"T-SP-{i}", variety="nope"), headers=headers)

        statuses = _statuses(send, 30)
        # Every spelling authenticates as the same volunteer (422 = the body was checked), and
        # the burst of 10 is shared: the eleventh write waits, whatever the spelling.
        assert statuses == [422] * 10 + [429], statuses


def test_forwarded_for_from_an_untrusted_peer_is_ignored(world: World, settings):
    """As `geomap serve` runs it: a client on loopback rotating X-Forwarded-For stays one address."""
    for base in serve(settings, write_rate_per_ip=30, write_rate_per_token=1_000_000):
        with httpx.Client(base_url=base) as client:
            statuses = _statuses(lambda i: client.post(BASE, json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"}), 30)
    assert statuses == [422] * 10 + [429], statuses


def test_forwarded_for_from_a_trusted_proxy_names_the_client(world: World, settings):
    strict = settings.model_copy(update={"write_rate_per_ip": 30, "write_rate_per_token": 1_000_000,
                                         "trusted_proxies": ["10.0.0.0/8"]})
    with TestClient(create_app(strict), client=("10.0.0.5", 4000)) as proxy:
        # The client writes its own X-Forwarded-For; the proxy appends what it saw (198.51.100.7).
        spoofed = _statuses(lambda i: proxy.post(BASE, json={}, headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7"}), 30)
        assert spoofed == [422] * 10 + [429], spoofed
        # Another client behind the same proxy has its own bucket (the proxy's address is not the key).
        assert proxy.post(BASE, json={}, headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 422
        # Chains of trusted proxies are skipped from the right.
        assert proxy.post(BASE, json={}, headers={"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}).status_code == 429


def test_hsts_only_over_https(world: World, settings):
    trusting = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    with TestClient(create_app(trusting), base_url="https://testserver") as tls:
        r = tls.get("/api/v1/layers")
        assert r.status_code == 200 and r.headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(create_app(trusting), client=("10.0.0.5", 4000)) as proxy:
        assert "max-age=" in proxy.get("/", headers={"X-Forwarded-Proto": "https"}).headers["strict-transport-security"]
        assert "strict-transport-security" not in proxy.get("/", headers={"X-Forwarded-Proto": "http"}).headers
    # Plain HTTP, and a client that is not a trusted proxy claiming HTTPS: no HSTS.
    assert "strict-transport-security" not in world.client.get("/").headers
    assert "strict-transport-security" not in world.client.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_sign_in_waits_after_failures_per_account(world: World):
    c = world.client
    for _ in range(5):
        problem(c.post(LOGIN, json={"username": "farmer", "password": "đoán-sai"}), 401)
    # Now even the right password is not looked at until the delay has passed.
    r = c.post(LOGIN, json={"username": "farmer", "password": PASSWORD})
    body = problem(r, 429, contains="sign-ins")
    assert int(r.headers["retry-after"]) >= 1 and "farmer" not in body["detail"]
    assert "geomap_session" not in r.headers.get("set-cookie", "")
    # Other spellings of the name reach the same counter; another account is not delayed.
    problem(c.post(LOGIN, json={"username": " FARMER", "password": "x"}), 429)
    assert c.post(LOGIN, json={"username": "admin", "password": PASSWORD}).status_code == 200
    # The sign-in form of the pages is the same door: a friendly page, not a 401 that checked the password.
    page = c.post("/login", data={"username": "farmer", "password": PASSWORD})
    assert page.status_code == 429 and "thử lại sau" in page.text and page.headers["content-type"].startswith("text/html")


def test_a_success_clears_the_account_and_bad_bodies_are_not_guesses(world: World):
    c = world.client
    for _ in range(4):
        problem(c.post(LOGIN, json={"username": "farmer", "password": "sai"}), 401)
    assert c.post(LOGIN, json={"username": "farmer", "password": PASSWORD}).status_code == 200
    for _ in range(4):
        problem(c.post(LOGIN, json={"username": "farmer", "password": "sai"}), 401)
        problem(c.post(LOGIN, json={"username": "farmer", "password": ""}), 422)
    assert c.post(LOGIN, json={"username": "farmer", "password": PASSWORD}).status_code == 200


def test_sign_in_waits_per_address_across_accounts(world: World, settings):
    strict = settings.model_copy(update={"sign_in_free_failures_per_ip": 8})
    with TestClient(create_app(strict)) as client:
        statuses = _statuses(lambda i: client.post(LOGIN, json={"username": f"user{i}", "password": "x"}), 20)
        assert statuses == [401] * 8 + [429], statuses


def test_delays_grow_and_are_capped():
    now = [1000.0]
    backoff = Backoff(free=3, max_delay=60, clock=lambda: now[0])
    waits = []
    for _ in range(10):
        assert backoff.wait("k") == 0
        backoff.fail("k")
        waits.append(backoff.wait("k"))
        now[0] += waits[-1]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset("k")
    assert backoff.wait("k") == 0
    # Failures are forgotten a day after the last one.
    for _ in range(4):
        backoff.fail("j")
    assert backoff.wait("j") > 0
    now[0] += 86_401
    assert backoff.wait("j") == 0


@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"username": "a", "username": "farmer", "password": "x"}'),
    ("application/x-www-form-urlencoded", b"username=a&username=farmer&password=x"),
])
def test_guard_reads_the_username_the_route_reads(content_type, body):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    scope = {"type": "http", "method": "POST", "path": LOGIN, "headers": [(b"content-type", content_type.encode())]}
    # In a thread of its own: a browser test's Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, username_of(scope, body)).result() == "farmer"


def test_padding_the_body_does_not_escape_the_account_counter(world: World):
    c = world.client
    padded = b" " * (64 * 1024) + b'{"username": "farmer", "password": "sai"}'
    for _ in range(5):
        problem(c.post(LOGIN, content=padded, headers={"content-type": "application/json"}), 401)
    problem(c.post(LOGIN, json={"username": "farmer", "password": PASSWORD}), 429)
