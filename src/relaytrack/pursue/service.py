"""Wiring a pursuit to a store, the models and the cameras' streams: `run_pursuit`.

The cameras come from a network file the way the watch reads them (`watch.service.sources_from_network`:
`source` relative to the file, else `stream_url`; `start_time` as the first frame's wall time). The network
(links, travel times) is the store's, as the relay uses it. The embedder is the store's
(`Stages.bind`), so an arrival's look is comparable with the stored origin's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from relaytrack.config import Config
from relaytrack.pursue.events import EventLog, PursuitEvent, finish_pursuit, start_pursuit, take_verdicts
from relaytrack.pursue.feed import FeedSpec, LiveFeed, merged_feed
from relaytrack.pursue.run import Pursuit, PursuitConfig, drive
from relaytrack.source.open import is_stream


@dataclass
class PursuitResult:
    pursuit_id: int
    state: str  # lost | ended
    events: list[PursuitEvent]
    analysed: dict[str, int]
    analysed_fps: float
    wall_s: float
    # Live play only: the real epoch at which footage time `from_wall` (the origin's start) was played, so an
    # event's computation moment can be put on the footage clock (hand-off latency as an operator sees it).
    play_t0: float | None = None
    from_wall: float | None = None
    footage_s: float = 0.0  # footage seconds between the first and the last frame the feed delivered


def run_pursuit(
    store,
    origin_id: int,
    cameras_file: str | Path,
    *,
    cfg: Config | None = None,
    pcfg: PursuitConfig | None = None,
    json_path: Path | None = None,
    realtime: bool = False,
    user: str | None = None,
    case: str | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[PursuitEvent], None] | None = None,
) -> PursuitResult:
    from relaytrack.pipeline.session import Stages
    from relaytrack.pursue.analyse import SessionAnalyser
    from relaytrack.pursue.handoff import Reidentifier
    from relaytrack.relay.network import links_from
    from relaytrack.store import vectors
    from relaytrack.store.sightings import get_sighting
    from relaytrack.watch.service import sources_from_network

    cfg = (cfg or Config()).model_copy(deep=True)
    pcfg = pcfg or PursuitConfig()
    origin = get_sighting(store.conn, origin_id)  # NotFound: a one-line error
    specs = [FeedSpec(s.camera, s.uri, s.start_wall) for s in sources_from_network(cameras_file)]
    # The feed delivers up to the busiest camera's rate; the pursuit's budget picks among those frames.
    cfg.source.analyse_fps = pcfg.budget.max_fps
    cfg.source.reconnect_tries = 0
    stages = Stages.load(cfg, embed=True)
    stages.bind(store)
    mode = "walk" if origin.kind == "person" else "drive"
    link_cache: dict[str, list] = {}

    def links(cam: str):
        if cam not in link_cache:
            got = links_from(store.conn, cam, mode) or links_from(store.conn, cam)
            link_cache[cam] = got
        return link_cache[cam]

    with store.tx() as conn:
        pid = start_pursuit(conn, case=case, user=user, origin=origin_id, cameras_file=str(cameras_file))
    log = EventLog(json_path, store, pid)
    if on_event:
        log.listeners.append(on_event)
    reid = Reidentifier(origin, vectors.background(store.conn, origin.kind), pcfg.handoff)
    analysers = {
        s.camera: SessionAnalyser(stages, s.camera, store, origin.kind, min_track_s=pcfg.handoff.min_track_s,
                                  rescore_s=pcfg.handoff.rescore_s)
        for s in specs
    }  # fmt: skip
    pursuit = Pursuit(
        origin, [s.camera for s in specs], links, reid, analysers, log, pcfg,
        verdicts=lambda: take_verdicts(store, pid),
    )  # fmt: skip
    t0 = time.time()
    live = realtime or any(is_stream(s.uri) for s in specs)
    feed = None
    play_t0 = None
    try:
        if live:
            feed = LiveFeed(specs, cfg.source, origin.wall_start)
            play_t0 = feed.t_real0
            if stop is not None:
                threading.Thread(target=lambda: (stop.wait(), feed.stop()), daemon=True).start()
            wall0 = origin.wall_start
            drive(pursuit, feed, clock=lambda: wall0 + (time.time() - feed.t_real0))
        else:
            drive(pursuit, _until(merged_feed(specs, cfg.source, origin.wall_start), stop))
        if stop is not None and stop.is_set():
            pursuit.end("stopped by the operator")
    except KeyboardInterrupt:
        pursuit.end("stopped by the operator")
    finally:
        if feed is not None:
            feed.stop()
        if pursuit.state == "running":
            pursuit.end("stopped")
        log.close()
        lost = any(e.type == "lost" for e in log.events)
        finish_pursuit(store, pid, "lost" if lost else "ended", pursuit.anchor.id)
    return PursuitResult(
        pid, "lost" if lost else "ended", list(log.events), dict(pursuit.stats.analysed),
        pursuit.stats.analysed_fps(), time.time() - t0, play_t0, origin.wall_start,
        (pursuit.stats.last_wall or 0.0) - (pursuit.stats.first_wall or 0.0),
    )  # fmt: skip


def _until(items, stop: threading.Event | None):
    for it in items:
        if stop is not None and stop.is_set():
            return
        yield it
