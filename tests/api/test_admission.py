"""Field writes take their turn (geomap/api/admission.py): at most N single-asset writes of a layer
inside the app at once, the rest in arrival order; a slow sender never holds a place; reads,
batches and other layers go straight through. Driven as plain ASGI, so the order is exact."""

from __future__ import annotations

import asyncio

import pytest

from geomap.api.admission import WriteAdmission, gated_layer


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
        await asyncio.gather(*tasks)
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
        await asyncio.gather(slow, fast)
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
        await asyncio.gather(*tasks)
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
