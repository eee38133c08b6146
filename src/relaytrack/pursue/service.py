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
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relaytrack.config import Config
from relaytrack.pursue.control import Heartbeat, stop_requested_by
from relaytrack.pursue.events import (
    EventLog,
    PursuitEvent,
    abandon_pursuit,
    finish_pursuit,
    start_pursuit,
    take_verdicts,
)
from relaytrack.pursue.feed import FeedSpec, LiveFeed, merged_feed
from relaytrack.pursue.run import Pursuit, PursuitConfig, drive
from relaytrack.records import Sighting
from relaytrack.source.open import is_stream


@dataclass
class PursuitResult:
    pursuit_id: int
    state: str  # lost | ended | stopped
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
    pursuit_id: int | None = None,
) -> PursuitResult:
    """Follow the suspect from sighting `origin_id` until lost, the sources end, or `stop` is set (or a stop
    is requested in the store, `control.request_stop`, which the heartbeat turns into `stop`).

    `pursuit_id`: a row the caller already created (`start_pursuit`), so that it could answer with the id
    before the models load (the console); else the row is created once they have loaded. From the row on the
    pursuit beats (`control.Heartbeat`) and always ends with an `ended` event: a start that fails (models,
    cameras) ends it saying why, and the error is raised."""
    stop = stop or threading.Event()
    with ExitStack() as beating:
        if pursuit_id is not None:
            beating.enter_context(Heartbeat(store.url, pursuit_id, stop))
        try:
            prep = _prepare(store, origin_id, cameras_file, cfg, pcfg or PursuitConfig())
        except BaseException as err:
            if pursuit_id is not None:
                said = str(err).strip().splitlines()
                abandon_pursuit(
                    store, pursuit_id, f"could not start: {said[0] if said else type(err).__name__}"
                )
            raise
        if pursuit_id is None:
            with store.tx() as conn:
                pursuit_id = start_pursuit(
                    conn, case=case, user=user, origin=origin_id, cameras_file=str(cameras_file)
                )
            beating.enter_context(Heartbeat(store.url, pursuit_id, stop))
        return _run(store, prep, pursuit_id, stop, json_path=json_path, realtime=realtime, user=user,
                    on_event=on_event)  # fmt: skip


@dataclass
class _Prepared:
    """What a pursuit needs before its first frame: the origin, the feeds, the loaded models, the network."""

    origin: Sighting
    specs: list[FeedSpec]
    cfg: Config
    pcfg: PursuitConfig
    stages: Any
    links: Callable[[str], list]


def _prepare(
    store, origin_id: int, cameras_file: str | Path, cfg: Config | None, pcfg: PursuitConfig
) -> _Prepared:
    from relaytrack.pipeline.session import Stages
    from relaytrack.relay.network import links_from
    from relaytrack.store.sightings import get_sighting
    from relaytrack.watch.service import sources_from_network

    cfg = (cfg or Config()).model_copy(deep=True)
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

    return _Prepared(origin, specs, cfg, pcfg, stages, links)


def _run(store, prep: _Prepared, pid: int, stop: threading.Event, *, json_path: Path | None, realtime: bool,
         user: str | None, on_event: Callable[[PursuitEvent], None] | None) -> PursuitResult:  # fmt: skip
    from relaytrack.pursue.analyse import SessionAnalyser
    from relaytrack.pursue.handoff import Reidentifier
    from relaytrack.store import vectors

    origin, specs, pcfg = prep.origin, prep.specs, prep.pcfg
    log = EventLog(json_path, store, pid)
    if on_event:
        log.listeners.append(on_event)
    reid = Reidentifier(origin, vectors.background(store.conn, origin.kind), pcfg.handoff)
    analysers = {
        s.camera: SessionAnalyser(prep.stages, s.camera, store, origin.kind, min_track_s=pcfg.handoff.min_track_s,
                                  rescore_s=pcfg.handoff.rescore_s)
        for s in specs
    }  # fmt: skip
    pursuit = Pursuit(
        origin, [s.camera for s in specs], prep.links, reid, analysers, log, pcfg,
        verdicts=lambda: take_verdicts(store, pid),
    )  # fmt: skip
    halted = False

    def halt(by: str | None = None) -> None:
        # Asked to stop: the `ended` event names who asked (the store's request; the CLI's own user on
        # Ctrl-C), before the feed's end would make it "sources ended". No asker: the service shut down.
        nonlocal halted
        halted = True
        who = by or stop_requested_by(store.conn, pid)
        pursuit.end("stopped by the operator" if who else "stopped", who)

    t0 = time.time()
    live = realtime or any(is_stream(s.uri) for s in specs)
    feed = None
    play_t0 = None
    try:
        if live:
            feed = LiveFeed(specs, prep.cfg.source, origin.wall_start)
            play_t0 = feed.t_real0
            wall0 = origin.wall_start
            # The live feed yields at least every half second, so a stop is seen within that.
            drive(pursuit, _until(feed, stop, halt), clock=lambda: wall0 + (time.time() - feed.t_real0))
        else:
            drive(pursuit, _until(merged_feed(specs, prep.cfg.source, origin.wall_start), stop, halt))
    except KeyboardInterrupt:
        halt(user)
    finally:
        if feed is not None:
            feed.stop()
        if pursuit.state == "running":
            pursuit.end("stopped")
        log.close()
        lost = any(e.type == "lost" for e in log.events)
        state = "lost" if lost else "stopped" if halted else "ended"
        finish_pursuit(store, pid, state, pursuit.anchor.id)
    return PursuitResult(
        pid, state, list(log.events), dict(pursuit.stats.analysed),
        pursuit.stats.analysed_fps(), time.time() - t0, play_t0, origin.wall_start,
        (pursuit.stats.last_wall or 0.0) - (pursuit.stats.first_wall or 0.0),
    )  # fmt: skip


def _until(items, stop: threading.Event, on_stop: Callable[[], None]):
    """The feed's items until `stop` is set; then `on_stop()` (the pursuit ends as stopped, not as a feed
    that ran out)."""
    for it in items:
        if stop.is_set():
            break
        yield it
    if stop.is_set():
        on_stop()
