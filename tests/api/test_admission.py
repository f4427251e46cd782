"""Field writes take their turn (geomap/api/admission.py): at most N single-asset writes of a layer
inside the app at once, the rest in arrival order; a slow sender never holds a place; reads,
batches and other layers go straight through. Driven as plain ASGI, so the order is exact."""

from __future__ import annotations

import asyncio
import json

import pytest

from geomap.api.admission import WriteAdmission, gated_layer
from geomap.api.app import create_app
from geomap.api.limits import BodySizeLimit, MiB
from geomap.settings import Settings


class Recorder:
    """An ASGI app that notes when each request enters and what body it saw, and finishes only
    when the test releases it."""

    def __init__(self) -> None:
        self.inside: list[str] = []
        self.entered: list[str] = []
        self.bodies: dict[str, bytes] = {}
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, scope, receive, send):
        name = scope["name"]
        self.entered.append(name)
        self.inside.append(name)
        message = await receive()
        self.bodies[name] = message["body"]
        await self.release.setdefault(name, asyncio.Event()).wait()
        self.inside.remove(name)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _scope(name: str, method: str = "POST", path: str = "/api/v1/layers/durian_trees/features") -> dict:
    return {"type": "http", "method": method, "path": path, "name": name, "headers": []}


def _sender(chunks: list[bytes], gate: asyncio.Event | None = None):
    """A client's ``receive``: the body in ``chunks``, the last one only after ``gate`` opens."""
    queue = list(chunks)

    async def receive():
        if not queue:
            await asyncio.Event().wait()  # nothing more: a client waiting for its answer
        if len(queue) == 1 and gate is not None:
            await gate.wait()
        body = queue.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    return receive


async def _noop_send(message):
    pass


async def _done(*tasks):
    """The tasks' results, failing (not hanging) if a request never gets through the gate."""
    return await asyncio.wait_for(asyncio.gather(*tasks), 5)


class Answers:
    """An ASGI ``send`` that keeps what it was sent."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def __call__(self, message):
        self.messages.append(message)

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.messages if m["type"] == "http.response.start"), None)


async def _settle():
    for _ in range(20):
        await asyncio.sleep(0)


def test_which_requests_join_a_line():
    assert gated_layer("POST", "/api/v1/layers/durian_trees/features") == "durian_trees"
    assert gated_layer("PATCH", "/api/v1/layers/wifi_points/features/8d3c") == "wifi_points"
    assert gated_layer("DELETE", "/api/v1/layers/farms/features/8d3c") == "farms"
    assert gated_layer("POST", "/api/v1/layers/wifi_points/features/8d3c/restore") == "wifi_points"
    assert gated_layer("GET", "/api/v1/layers/wifi_points/features/8d3c") is None
    assert gated_layer("POST", "/api/v1/layers/wifi_points/features/batch") is None
    assert gated_layer("POST", "/api/v1/layers/wifi_points/features/8d3c/photos") is None
    assert gated_layer("POST", "/api/v1/reports") is None
    assert gated_layer("POST", "/api/v1/layers/made_up_layer/features") is None  # 404s: no line kept for it
    assert gated_layer("POST", "/api/v1/layers/durian_trees/features\n") is None


def test_the_app_puts_writes_in_line_with_its_setting():
    app = create_app(Settings(write_concurrency=3))  # builds the stack only; the database opens in the lifespan
    gates = [m for m in app.user_middleware if m.cls is WriteAdmission]
    assert len(gates) == 1 and gates[0].kwargs["concurrency"] == 3


def test_at_most_n_inside_and_the_rest_in_arrival_order():
    async def run():
        app = Recorder()
        gate = WriteAdmission(app, concurrency=2)
        tasks = []
        for name in "abcde":
            tasks.append(asyncio.create_task(gate(_scope(name), _sender([name.encode()]), _noop_send)))
            await _settle()
        assert app.inside == ["a", "b"]
        for name in "abcde":
            app.release.setdefault(name, asyncio.Event()).set()
            await _settle()
            assert len(app.inside) <= 2
        await _done(*tasks)
        assert app.entered == list("abcde")
        assert app.bodies == {n: n.encode() for n in "abcde"}

    asyncio.run(run())


def test_a_slow_sender_holds_no_place_and_its_body_arrives_whole():
    async def run():
        app = Recorder()
        gate = WriteAdmission(app, concurrency=1)
        trickle = asyncio.Event()
        slow = asyncio.create_task(gate(_scope("slow"), _sender([b"{\"type\":", b"\"Feature\"}"], trickle), _noop_send))
        await _settle()
        fast = asyncio.create_task(gate(_scope("fast"), _sender([b"fast"]), _noop_send))
        await _settle()
        assert app.inside == ["fast"]  # the slow phone is still sending: not in the line yet
        trickle.set()
        await _settle()
        assert app.inside == ["fast"]  # now in line behind the one inside
        app.release["fast"].set()
        await _settle()
        assert app.inside == ["slow"]
        app.release["slow"].set()
        await _done(slow, fast)
        assert app.bodies["slow"] == b"{\"type\":\"Feature\"}"

    asyncio.run(run())


def test_other_layers_reads_and_batches_go_straight_through():
    async def run():
        app = Recorder()
        gate = WriteAdmission(app, concurrency=1)
        trees = "/api/v1/layers/durian_trees/features"
        requests = [_scope("t1"), _scope("t2"), _scope("wifi", path="/api/v1/layers/wifi_points/features"),
                    _scope("read", "GET", trees), _scope("batch", path=trees + "/batch")]
        tasks = [asyncio.create_task(gate(s, _sender([b"x"]), _noop_send)) for s in requests]
        await _settle()
        assert sorted(app.inside) == ["batch", "read", "t1", "wifi"]  # t2 waits behind t1 only
        for name in ("t1", "t2", "wifi", "read", "batch"):
            app.release.setdefault(name, asyncio.Event()).set()
        await _done(*tasks)
        assert "t2" in app.entered

    asyncio.run(run())


@pytest.mark.parametrize("concurrency", [0, 1])
def test_a_client_gone_while_sending_is_not_answered_and_off_means_off(concurrency):
    async def run():
        app = Recorder()
        gate = WriteAdmission(app, concurrency=concurrency)
        messages = [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        task = asyncio.create_task(gate(_scope("gone"), receive, _noop_send))
        await _settle()
        if concurrency == 0:  # no line: the app reads the body itself
            assert app.inside == ["gone"] and app.bodies["gone"] == b"{"
            app.release["gone"].set()
        await task
        if concurrency:
            assert app.entered == []

    asyncio.run(run())


def test_a_write_that_waits_too_long_is_told_to_come_back_and_the_line_moves_on():
    async def run():
        app = Recorder()
        gate = WriteAdmission(app, concurrency=1, wait_limit_s=0.05)
        first = asyncio.create_task(gate(_scope("first"), _sender([b"1"]), _noop_send))
        await _settle()
        answers = Answers()
        await asyncio.wait_for(gate(_scope("late"), _sender([b"2"]), answers), 5)  # "first" never finishes in time
        assert answers.status == 503
        headers = dict(answers.messages[0]["headers"])
        assert headers[b"retry-after"] == b"5" and headers[b"content-type"] == b"application/problem+json"
        assert "durian_trees" in json.loads(answers.messages[1]["body"])["detail"]
        assert app.entered == ["first"]
        app.release["first"].set()
        await _done(first)
        after = asyncio.create_task(gate(_scope("after"), _sender([b"3"]), _noop_send))
        await _settle()
        assert app.inside == ["after"]  # the place "late" gave up was not lost
        app.release["after"].set()
        await _done(after)

    asyncio.run(run())


def test_a_streamed_body_over_the_limit_is_refused_before_it_joins_the_line():
    async def run():
        app = Recorder()
        stack = BodySizeLimit(WriteAdmission(app, concurrency=1))
        answers = Answers()
        chunk = b"x" * (256 * 1024)  # no Content-Length: only counting the stream finds it too large
        await asyncio.wait_for(stack(_scope("big"), _sender([chunk] * (2 * MiB // len(chunk))), answers), 5)  # 2 MiB
        assert answers.status == 413
        assert app.entered == []

    asyncio.run(run())
