"""Live alerts: one poller reads new rows of the watch stage's alert table and fans them out to every
subscribed console (server-sent events). One query per poll however many subscribers there are; the watch
needs no knowledge of the service (it only writes its table)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.concurrency import run_in_threadpool

from relaytrack.service import queries

QUEUE_MAX = 500


class AlertHub:
    def __init__(self, pool: Any, poll_s: float = 1.0) -> None:
        self.pool = pool
        self.poll_s = poll_s
        self.subscribers: set[asyncio.Queue] = set()
        self.last_id: int | None = None
        self._task: asyncio.Task | None = None

    def _read_new(self) -> list[dict[str, Any]]:
        with self.pool.lend() as store:
            rows = queries.list_alerts(store.conn, after=self.last_id or 0, limit=500)
        if rows:
            self.last_id = max(int(r["id"]) for r in rows)
        return rows

    async def _run(self) -> None:
        while True:
            try:
                rows = await run_in_threadpool(self._read_new)
            except Exception:  # noqa: BLE001 - a locked or migrating store: try again next poll
                rows = []
            for row in rows:
                for q in list(self.subscribers):
                    if q.full():  # a stalled console loses its oldest alert, never blocks the others
                        with contextlib.suppress(asyncio.QueueEmpty):
                            q.get_nowait()
                    q.put_nowait(row)
            await asyncio.sleep(self.poll_s)

    def _max_id(self) -> int:
        with self.pool.lend() as store:
            return queries.max_alert_id(store.conn)

    async def subscribe(self) -> asyncio.Queue:
        if self.last_id is None:
            # Everything stored before the first subscriber is history (GET /api/alerts, or ?after=); the
            # poller starts from here, before this subscriber is told it is connected.
            self.last_id = await run_in_threadpool(self._max_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        q: asyncio.Queue = asyncio.Queue(QUEUE_MAX)
        self.subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.subscribers.discard(q)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
