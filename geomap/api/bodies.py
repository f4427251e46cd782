"""Reading a request's body ahead of the app in ASGI middleware, and handing it on unchanged."""

from __future__ import annotations


async def read_body(receive, limit: int | None = None) -> tuple[bytes, bool]:
    """The whole body and True; or what was read and False when the client went away first or
    the body passed ``limit`` (the body-size limit outside refuses that with a 413)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if limit is not None and size > limit:
            return b"".join(chunks), False
        if not message.get("more_body"):
            return b"".join(chunks), True


def replay(body: bytes, receive):
    """A ``receive`` that hands the app ``body`` (already read), then listens to the client again."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
