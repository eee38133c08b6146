"""Frames of every camera of a pursuit, read concurrently, in one stream ordered by footage time.

Two feeds share one item type (`FeedItem`: a frame, or a camera's status change):
- `merged_feed`: files and image folders decoded one after another and merged by footage wall time, as fast
  as the analysis goes (deterministic: tests and benchmarks that need not wait);
- `LiveFeed`: a reader thread per camera, files kept to their own clock (`--realtime`: all cameras start
  together at the pursuit's start time, as in the watch's paced replay), streams read as they come with
  reconnect and back-off; each camera keeps only its newest frames, so a slow analysis drops frames instead
  of falling behind. A camera that fails is reported (`status="down"`) and retried; the others go on.
Both start every file at the footage time `from_wall` (the sighting the pursuit starts from).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from relaytrack.config import SourceConfig
from relaytrack.errors import SourceError
from relaytrack.records import Frame
from relaytrack.source import open_source, probe
from relaytrack.source.open import is_stream


@dataclass(frozen=True)
class FeedSpec:
    camera: str
    uri: str
    start_wall: float | None  # wall time of the file's first frame (None: a stream, or the file's own time)


@dataclass(frozen=True)
class FeedItem:
    camera: str
    frame: Frame | None = None
    status: str | None = None  # up | down | ended
    message: str = ""


def _open_from(spec: FeedSpec, cfg: SourceConfig, from_wall: float | None) -> Iterator[Frame]:
    info = probe(spec.uri)
    start_index = 1
    if info.kind != "stream" and spec.start_wall is not None and from_wall is not None:
        # Skip the footage before the pursuit starts: grab() without decoding is cheap.
        start_index = max(1, int((from_wall - spec.start_wall) * info.fps) + 1)
    return open_source(spec.uri, spec.camera, cfg, spec.start_wall, info=info, start_index=start_index)


def merged_feed(specs: list[FeedSpec], cfg: SourceConfig, from_wall: float | None) -> Iterator[FeedItem]:
    """Every camera's frames in footage-time order, unpaced."""
    heap: list[tuple[float, int, Frame, Iterator[Frame]]] = []
    for k, spec in enumerate(specs):
        try:
            it = _open_from(spec, cfg, from_wall)
            first = next(it, None)
        except SourceError as err:
            yield FeedItem(spec.camera, status="down", message=str(err))
            continue
        if first is None:
            yield FeedItem(spec.camera, status="ended", message="no frames after the start time")
            continue
        yield FeedItem(spec.camera, status="up")
        heapq.heappush(heap, (first.wall, k, first, it))
    while heap:
        _, k, frame, it = heapq.heappop(heap)
        yield FeedItem(frame.camera, frame)
        try:
            nxt = next(it, None)
        except SourceError as err:
            yield FeedItem(specs[k].camera, status="down", message=str(err))
            continue
        if nxt is None:
            yield FeedItem(specs[k].camera, status="ended")
        else:
            heapq.heappush(heap, (nxt.wall, k, nxt, it))


class LiveFeed:
    """Concurrent readers, paced files, newest frames only. Iterate to get items; `stop()` ends it."""

    def __init__(self, specs: list[FeedSpec], cfg: SourceConfig, from_wall: float | None, *,
                 keep: int = 2, retry_max_s: float = 8.0) -> None:  # fmt: skip
        self.specs, self.cfg, self.from_wall = specs, cfg, from_wall
        self.cond = threading.Condition()
        self.frames: dict[str, deque] = {s.camera: deque(maxlen=keep) for s in specs}
        self.status: deque[FeedItem] = deque()
        self.done: set[str] = set()
        self.halt = threading.Event()
        self.retry_max_s = retry_max_s
        self.t_real0 = time.time()
        self.threads = [
            threading.Thread(target=self._read, args=(s,), name=f"pursue-read-{s.camera}", daemon=True)
            for s in specs
        ]
        for th in self.threads:
            th.start()

    def _say(self, item: FeedItem) -> None:
        with self.cond:
            self.status.append(item)
            if item.status in ("ended", "failed"):
                self.done.add(item.camera)
            self.cond.notify_all()

    def _read(self, spec: FeedSpec) -> None:
        live, delay, down = is_stream(spec.uri), 0.5, False
        while not self.halt.is_set():
            try:
                t_frame0 = None
                for frame in _open_from(spec, self.cfg, self.from_wall):
                    if self.halt.is_set():
                        return
                    if down or t_frame0 is None:
                        self._say(FeedItem(spec.camera, status="up"))
                        down, delay = False, 0.5
                    if not live:
                        # One clock for every file: footage time from_wall is the moment the pursuit began.
                        if t_frame0 is None:
                            t_frame0 = self.from_wall if self.from_wall is not None else frame.wall
                        wait = self.t_real0 + (frame.wall - t_frame0) - time.time()
                        if wait > 0 and self.halt.wait(wait):
                            return
                    else:
                        t_frame0 = frame.wall
                    with self.cond:
                        self.frames[spec.camera].append(frame)
                        self.cond.notify_all()
                if not live:
                    self._say(FeedItem(spec.camera, status="ended"))
                    return
                raise SourceError(f"{spec.uri}: stream ended")
            except SourceError as err:
                if not down:
                    down = True
                    self._say(FeedItem(spec.camera, status="down", message=str(err)))
                if not live:
                    self._say(FeedItem(spec.camera, status="failed", message=str(err)))
                    return
                if self.halt.wait(delay):
                    return
                delay = min(self.retry_max_s, delay * 2)

    def __iter__(self) -> Iterator[FeedItem | None]:
        """Items oldest footage first; None every half second without one (the pursuit's clock ticks)."""
        while not self.halt.is_set():
            with self.cond:
                if self.status:
                    yield_item = self.status.popleft()
                else:
                    heads = [(q[0].wall, c) for c, q in self.frames.items() if q]
                    if heads:
                        _, cam = min(heads)
                        yield_item = FeedItem(cam, self.frames[cam].popleft())
                    elif len(self.done) == len(self.specs):
                        return
                    else:
                        self.cond.wait(0.5)
                        yield_item = None
            yield yield_item

    def stop(self) -> None:
        self.halt.set()
        for th in self.threads:
            th.join(2)
