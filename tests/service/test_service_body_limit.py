"""Finding 6 of issue 18: a chunked body (no Content-Length) larger than the limit is refused with 413 (or 401)
and never read into memory; a declared oversize length is refused before a byte is read."""

import asyncio

import pytest

from relaytrack.service.limits import BodyLimit

LIMIT = 8 * 1024 * 1024


def _chunks(total_mb: int, counter: list[int]):
    block = b"x" * (1024 * 1024)
    for _ in range(total_mb):
        counter[0] += 1
        yield block


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/search/photo", "/api/cases"])
def test_chunked_oversize_body_refused(client, path):
    counter = [0]
    r = client.post(path, content=_chunks(40, counter), headers={"Content-Type": "application/json"})
    assert r.status_code in (401, 413), (r.status_code, r.text[:200])


def test_declared_oversize_length_refused(client):
    r = client.post("/api/auth/login", content=b"{}", headers={"Content-Length": str(300 * 1024 * 1024)})
    assert r.status_code == 413


def test_middleware_stops_reading_past_the_limit():
    """Driven at the ASGI level: the app reads the whole body (as a JSON route does); the guard cuts it off
    one chunk past the limit and answers 413 without the app ever seeing the rest."""
    pulled = [0]
    sent: list[dict] = []

    async def app(scope, receive, send):
        while True:
            msg = await receive()
            if not msg.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    async def receive():
        pulled[0] += 1
        return {"type": "http.request", "body": b"x" * (1024 * 1024), "more_body": pulled[0] < 300}

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(BodyLimit(app, LIMIT)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert pulled[0] <= LIMIT // (1024 * 1024) + 1  # 9 of the 300 MiB offered
