"""Request-body limit at the ASGI layer: counts the bytes actually received, whatever the encoding.

A Content-Length header over the limit is refused before anything is read. A body without one (chunked
transfer encoding) is counted as it arrives: once past the limit the request ends with 413 and the rest is
never read, so a client cannot stream hundreds of megabytes into the server's memory. Routes that take no
body never read it at all; routes that do read it before their dependencies (authentication) run, so an
oversized body is answered 413 before any token or password work.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.limit} bytes refused"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        over = refused = started = False

        async def counted() -> Message:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    # Tell the app the client went away: it stops reading; whatever it answers is replaced.
                    over = True
                    return {"type": "http.disconnect"}
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started, refused
            if over:
                if not started and not refused:
                    refused = True
                    await self._refuse(send)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            # After the cut-off the app may fail on the "disconnect" it was told of (ClientDisconnect while
            # parsing); that is the refused request ending, not a server error. Any other failure propagates.
            if not over:
                raise
        if over and not started and not refused:
            await self._refuse(send)
