"""The watch service: many sources at once, a worker pool sized to the machine, per-camera state.

Threads, not processes: ONNX Runtime and OpenCV release the GIL, so K workers with one-thread sessions use K
cores. Each camera has a reader thread (decoding, reconnecting with back-off) that feeds its worker's inbox;
a camera belongs to exactly one worker, so its tracker/behaviour state is never shared. Live sources keep only
the newest `queue_frames` frames (older ones are dropped, which bounds latency); with `once` every frame is
analysed (the reader waits). A source that fails raises a "camera down" alert and is retried with back-off;
the other cameras go on.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from relaytrack.config import Config
from relaytrack.errors import SourceError
from relaytrack.pipeline.session import CameraSession, Stages, insert_described, register_source
from relaytrack.records import CLASS_ID, PERSON, Frame, Tracklet
from relaytrack.watch.alerts import Alert, AlertBook, insert_alert, set_camera_status, update_alert
from relaytrack.watch.config import WatchConfig, pipeline_for_watch
from relaytrack.watch.signals import CameraWatch, RouteMemory, appearance_hist
from relaytrack.watch.spot import zone_crop
from relaytrack.watch.zones import Zone

if TYPE_CHECKING:
    from relaytrack.store import Store

log = logging.getLogger(__name__)
PHONE = CLASS_ID["cell phone"]
_END = object()


@dataclass
class CameraSpec:
    """One watched source: where the frames come from, the camera id and its hiding-spot zones."""

    uri: str
    camera: str
    zones: list[Zone] = field(default_factory=list)
    start_wall: float | None = None  # wall time of the first frame (files); None = file time / now
    start_index: int = 1  # first frame (1-based) of a file/sequence to analyse (evaluation on a frame range)


@dataclass
class CameraReport:
    camera: str
    uri: str
    state: str = "starting"
    frames: int = 0
    bad_frames: int = 0
    dropped: int = 0
    reconnects: int = 0
    error: str | None = None
    pose_runs: int = 0
    alerts: int = 0
    suppressed: int = 0
    max_score: float = 0.0
    sightings: int = 0
    busy_s: float = 0.0
    duration_s: float = 0.0


@dataclass
class WatchResult:
    alerts: list[Alert]
    cameras: dict[str, CameraReport]
    operator_alerts: list[Alert]  # camera down / failed
    workers: int
    wall_s: float

    def latencies(self) -> list[float]:
        return [a.latency_s for a in self.alerts if a.latency_s is not None]


class _Inbox:
    """Frames waiting for one worker, per camera; blocking (once) or dropping the oldest (live)."""

    def __init__(self, maxlen: int) -> None:
        self.cond = threading.Condition()
        self.queues: dict[str, deque] = {}
        self.maxlen = maxlen
        self._rr = 0

    def add_camera(self, camera: str) -> None:
        self.queues[camera] = deque()

    def put(self, camera: str, item, *, drop_oldest: bool, stop: threading.Event) -> int:
        dropped = 0
        with self.cond:
            q = self.queues[camera]
            while item is not _END and len(q) >= self.maxlen and not drop_oldest and not stop.is_set():
                self.cond.wait(0.2)
            while item is not _END and len(q) >= self.maxlen:
                q.popleft()
                dropped += 1
            q.append(item)
            self.cond.notify_all()
        return dropped

    def get(self, stop: threading.Event, timeout: float = 0.5):
        with self.cond:
            while not stop.is_set():
                cams = list(self.queues)
                for k in range(len(cams)):
                    cam = cams[(self._rr + k) % len(cams)]
                    if self.queues[cam]:
                        self._rr = (self._rr + k + 1) % len(cams)
                        item = self.queues[cam].popleft()
                        self.cond.notify_all()
                        return cam, item
                self.cond.wait(timeout)
        return None


def _relative(path: str | None, base: Path | None) -> str | None:
    """`path` relative to `base` when it lies inside it (else as it is)."""
    if not path or base is None:
        return path
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return path


class _Sink:
    """Thread-safe persistence of alerts and camera status into the store (or only memory without one)."""

    def __init__(self, store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.base = Path(store.path).parent if store is not None else None

    def persist(self, a: Alert, new: bool) -> None:
        if self.store is None:
            if new and a.id is None:
                with self.lock:
                    _Sink._n = getattr(_Sink, "_n", 0) + 1
                    a.id = _Sink._n
            return
        # The row names the clip and key frames relative to the store's folder, so a store copied or moved with
        # its clips/ still plays them; the alert itself (`watch --json`) keeps the paths as written.
        row = replace(
            a, clip=_relative(a.clip, self.base), keyframes=[_relative(k, self.base) for k in a.keyframes]
        )
        with self.lock, self.store.tx() as conn:
            if new and a.id is None:
                a.id = insert_alert(conn, row)
            else:
                update_alert(conn, row)

    def status(self, rep: CameraReport, state: str) -> None:
        rep.state = state
        if self.store is None:
            return
        with self.lock, self.store.tx() as conn:
            set_camera_status(
                conn, rep.camera, rep.uri, state, frames=rep.frames, bad_frames=rep.bad_frames,
                reconnects=rep.reconnects, error=rep.error, last_frame_wall=time.time(),
            )  # fmt: skip


@dataclass
class _Run:
    """What every reader and worker thread of one watch shares: settings, the store, the shared alert list and
    the callbacks. The threads take this and their own cameras, not a long list of arguments."""

    cfg: Config
    wcfg: WatchConfig
    once: bool
    pace: bool  # keep a file to its own clock, as if live
    store: Store | None
    sink: _Sink
    clips: Path | None
    route: RouteMemory
    reports: dict[str, CameraReport]
    alerts: list[Alert]
    stop: threading.Event
    camera_down: Callable[[CameraSpec, str], None]
    on_alert: Callable[[Alert], None] | None = None
    progress: Callable[[str, int], None] | None = None
    with_sightings: bool = False  # store the watched footage's sightings too


def default_workers(n_cameras: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_cameras))


ONCE_RECONNECTS = 4


def watch_sources(
    sources: list[CameraSpec] | list[tuple],
    db_path: str | Path | None = None,
    cfg: Config | None = None,
    wcfg: WatchConfig | None = None,
    *,
    once: bool = True,
    clips_dir: str | Path | None = None,
    on_alert: Callable[[Alert], None] | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[str, int], None] | None = None,
    store_sightings: bool = True,
    pace: bool | None = None,
) -> WatchResult:
    """Watch sources; with once=True runs files/sequences to their end and returns every alert raised.

    sources: CameraSpec or (uri, camera, zones) tuples. db_path: store for alerts, camera status and (with
    store_sightings) the sightings of the watched footage; clips go to `<db folder>/clips` unless clips_dir.
    """
    from relaytrack.config import Config as _Config

    cfg = (cfg or _Config()).model_copy(deep=True)
    wcfg = wcfg or WatchConfig()
    specs = [s if isinstance(s, CameraSpec) else CameraSpec(*s) for s in sources]
    cams = [s.camera for s in specs]
    if len(set(cams)) != len(cams):
        from relaytrack.errors import InputError

        raise InputError(f"watch: duplicate camera ids {sorted({c for c in cams if cams.count(c) > 1})}")
    cfg = pipeline_for_watch(cfg, wcfg)
    if once and wcfg.run.reconnect_tries == 0:
        # --once promises an end: a live stream that stays down is given up after a few back-offs
        # (reported as a failed camera) instead of being retried forever.
        wcfg = wcfg.model_copy(deep=True)
        wcfg.run.reconnect_tries = ONCE_RECONNECTS
    cfg.source.reconnect_tries = wcfg.run.reconnect_tries
    cfg.source.reconnect_max_s = wcfg.run.reconnect_max_s
    # One intra-op thread per session: the pool, not the sessions, uses the cores.
    cfg.detect.threads = 1
    cfg.describe.threads = 1
    store = None
    if db_path is not None:
        from relaytrack.store import Store

        store = Store(db_path)
    if clips_dir is None and store is not None:
        clips_dir = Path(store.path).parent / "clips"
    clips = Path(clips_dir) if clips_dir is not None else None
    stop = stop or threading.Event()
    sink = _Sink(store)
    route = RouteMemory(wcfg.signals.route_window_s)
    n_workers = wcfg.run.workers or default_workers(len(specs))
    n_workers = max(1, min(n_workers, len(specs)))
    inboxes = [_Inbox(wcfg.run.queue_frames) for _ in range(n_workers)]
    reports = {s.camera: CameraReport(s.camera, s.uri) for s in specs}
    operator: list[Alert] = []
    op_lock = threading.Lock()
    alerts: list[Alert] = []

    def camera_down(spec: CameraSpec, msg: str) -> None:
        a = Alert(camera=spec.camera, start=0.0, end=0.0, score=1.0, reasons=[f"camera down: {msg}"],
                  kind="camera_down", explanation=f"camera {spec.camera} down: {msg}", source_uri=spec.uri,
                  wall_decided=time.time(), decided=0.0)  # fmt: skip
        sink.persist(a, True)
        with op_lock:
            operator.append(a)
        if on_alert:
            on_alert(a)

    run = _Run(
        cfg, wcfg, once, (not once) if pace is None else pace, store, sink, clips, route, reports, alerts, stop,
        camera_down, on_alert, progress, store_sightings and store is not None,
    )  # fmt: skip
    t_start = time.time()
    readers = []
    for i, spec in enumerate(specs):
        box = inboxes[i % n_workers]
        box.add_camera(spec.camera)
        th = threading.Thread(
            target=_reader, args=(run, spec, box), name=f"watch-read-{spec.camera}", daemon=True
        )
        readers.append(th)
    workers = []
    for k in range(n_workers):
        mine = [s for i, s in enumerate(specs) if i % n_workers == k]
        th = threading.Thread(
            target=_worker, args=(run, mine, inboxes[k]), name=f"watch-work-{k}", daemon=True
        )
        workers.append(th)
    for th in workers + readers:
        th.start()
    try:
        for th in workers:
            while th.is_alive():
                th.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        for th in workers:
            th.join(10)
    stop.set()
    for th in readers:
        th.join(2)
    if store is not None:
        store.close()
    alerts.sort(key=lambda a: (a.camera, a.start))
    return WatchResult(alerts, reports, operator, n_workers, time.time() - t_start)


def _reader(run: _Run, spec: CameraSpec, box: _Inbox) -> None:
    """Decode one source into its worker's inbox; reconnect with back-off; never raises."""
    from relaytrack.source import open_source, probe
    from relaytrack.source.open import is_stream

    cfg, wcfg, sink, stop, pace = run.cfg, run.wcfg, run.sink, run.stop, run.pace
    rep, camera_down = run.reports[spec.camera], run.camera_down
    tries, delay, down = 0, 0.5, False
    live = is_stream(spec.uri)
    try:
        while not stop.is_set():
            try:
                info = probe(spec.uri)

                def bad(_i: int, _m: str) -> None:
                    rep.bad_frames += 1

                frames = open_source(
                    spec.uri, spec.camera, cfg.source, spec.start_wall, info=info, on_bad_frame=bad,
                    start_index=spec.start_index,
                )  # fmt: skip
                t_wall0 = None
                for frame in frames:
                    if stop.is_set():
                        break
                    if down or rep.state != "up":
                        down = False
                        tries, delay = 0, 0.5
                        sink.status(rep, "up")
                    if pace and not live:
                        # A file played as live: keep to its own clock.
                        if t_wall0 is None:
                            t_wall0 = time.time() - frame.t
                        wait = t_wall0 + frame.t - time.time()
                        if wait > 0:
                            time.sleep(wait)
                    rep.dropped += box.put(
                        spec.camera, (frame, time.time()), drop_oldest=pace or live, stop=stop
                    )
                if not live or stop.is_set():
                    sink.status(rep, "ended" if not stop.is_set() else rep.state)
                    return
                raise SourceError(f"{spec.uri}: stream ended")
            except SourceError as err:
                rep.error = str(err)
                tries += 1
                rep.reconnects += 1 if tries > 1 else 0
                if not down:
                    down = True
                    sink.status(rep, "down")
                    camera_down(spec, str(err))
                if not live:
                    sink.status(rep, "failed")
                    return
                limit = wcfg.run.reconnect_tries
                if limit and tries > limit:
                    sink.status(rep, "failed")
                    return
                stop.wait(delay)
                delay = min(wcfg.run.reconnect_max_s, delay * 2)
            except Exception as err:  # garbage from a decoder must not kill the watch
                log.exception("reader %s", spec.camera)
                rep.error = f"{type(err).__name__}: {err}"
                if not down:
                    down = True
                    sink.status(rep, "down")
                    camera_down(spec, rep.error)
                if not live:
                    sink.status(rep, "failed")
                    return
                stop.wait(delay)
                delay = min(wcfg.run.reconnect_max_s, delay * 2)
    finally:
        box.put(spec.camera, _END, drop_oldest=True, stop=stop)


@dataclass
class _Live:
    """A camera's pipeline session and alert book, made at its first frame (which gives size and start)."""

    session: CameraSession
    book: AlertBook


@dataclass
class _Cam:
    """One camera on its worker: its behaviour state, and its session and alerts once frames arrive."""

    spec: CameraSpec
    watch: CameraWatch
    live: _Live | None = None  # from the camera's first frame on
    pending: list[tuple[int, int]] = field(default_factory=list)  # (track id, sighting id) to link to alerts
    last_wall: float = 0.0
    ended: bool = False


def _worker(run: _Run, specs: list[CameraSpec], box: _Inbox) -> None:
    """Analyse the frames of `specs` (this worker's cameras) from `box` until every one has ended."""
    from relaytrack.watch.pose import PoseEstimator

    wcfg, reports, sink = run.wcfg, run.reports, run.sink
    stages = Stages.load(run.cfg, embed=run.with_sightings)
    pose = PoseEstimator(wcfg.pose.model, wcfg.pose.long_side, threads=1) if wcfg.pose.enabled else None
    cams = {s.camera: _Cam(s, CameraWatch(s.camera, s.zones, wcfg, run.route)) for s in specs}
    stall = wcfg.run.stall_s
    while not run.stop.is_set() and not all(c.ended for c in cams.values()):
        got = box.get(run.stop, timeout=min(1.0, stall / 2))
        now = time.time()
        for c in cams.values():
            rep = reports[c.spec.camera]
            if not c.ended and c.last_wall and now - c.last_wall > stall and rep.state == "up":
                sink.status(rep, "stalled")
        if got is None:
            continue
        camera, item = got
        c = cams[camera]
        rep = reports[camera]
        if item is _END:
            _end_camera(run, c, rep)
            continue
        frame, capture_wall = item
        c.last_wall = capture_wall
        t0 = time.perf_counter()
        try:
            _analyse(run, c, stages, pose, frame, capture_wall)
            rep.frames += 1
            rep.pose_runs = c.watch.pose_runs
            rep.duration_s = frame.t
        except Exception as err:  # one camera's bad frame must not stop the worker's other cameras
            log.exception("worker %s frame %s", camera, frame.index)
            rep.error = f"{type(err).__name__}: {err}"
        rep.busy_s += time.perf_counter() - t0
        if run.progress:
            run.progress(camera, rep.frames)
    for c in cams.values():
        if not c.ended:
            _end_camera(run, c, reports[c.spec.camera])


def _analyse(run: _Run, c: _Cam, stages: Stages, pose, frame: Frame, capture_wall: float) -> None:
    """One frame of one camera: detect and track, behaviour signals, alerts, finished tracklets."""
    from relaytrack.watch.pose import posture

    live = c.live or _start_camera(run, c, frame, stages)
    image = frame.image
    step = live.session.step(frame)
    dets = step.detections
    persons = step.tracks.of_class(PERSON).boxes_by_id()
    phones = dets.xyxy[dets.class_id == PHONE] if len(dets) else np.zeros((0, 4), np.float32)

    def pose_fn(_tid, xyxy, _img=image):
        kp = pose.estimate(_img, xyxy) if pose is not None else None
        return posture(kp, run.wcfg.signals.kp_min_score) if kp is not None else None

    assessed = c.watch.step(
        frame.index, frame.t, frame.wall, list(persons.items()), phones, pose_fn if pose is not None else None,
        lambda xyxy, _img=image: appearance_hist(_img, xyxy),
        lambda zone, _img=image: zone_crop(_img, zone, run.wcfg.spot.pad),
    )  # fmt: skip
    raised = live.book.on_frame(frame.index, frame.t, image, assessed, persons, capture_wall)
    for a in raised:
        run.alerts.append(a)
        if not run.once and len(run.alerts) > 10000:  # a 24/7 watch returns only the recent ones
            del run.alerts[:1000]
        if run.on_alert:
            run.on_alert(a)
    _finished(run, c, live, step.finished, frame.wall)


def _start_camera(run: _Run, c: _Cam, frame: Frame, stages: Stages) -> _Live:
    start_wall = frame.wall - frame.t
    source_id = None
    if run.with_sightings:
        from relaytrack.source import probe

        try:
            info = probe(c.spec.uri)
            with run.sink.lock:
                source_id = register_source(run.store, c.spec.camera, info, start_wall, run.cfg).id
        except SourceError:
            source_id = None
    session = CameraSession(
        stages, c.spec.camera, frame.size, source_id=source_id, start_wall=start_wall,
        collect_crops=run.with_sightings,
    )  # fmt: skip
    book = AlertBook(
        c.spec.camera, run.wcfg.alert, run.clips, run.sink.persist, source_uri=c.spec.uri, source_id=source_id,
        start_wall=start_wall,
    )  # fmt: skip
    watch = c.watch
    book.history_fn = lambda tid: list(watch.tracks[tid].boxes) if tid in watch.tracks else []
    c.live = _Live(session, book)
    return c.live


def _finished(run: _Run, c: _Cam, live: _Live, tracklets: list[Tracklet], wall: float) -> None:
    """Tracklets the tracker ended: their behaviour state goes; with sightings on they are stored and linked
    to the alerts raised on them."""
    finals = [a for a in (c.watch.end_track(tl.track_id, wall) for tl in tracklets) if a is not None]
    # Tracks waiting for a departure that the tracker ended are decided now, before their sightings are
    # stored, so that the alert links to its sighting.
    for a in live.book.decide_pending([tl.track_id for tl in tracklets], finals):
        run.alerts.append(a)
        if run.on_alert:
            run.on_alert(a)
    session = live.session
    if not run.with_sightings or run.store is None or session.source_id is None or not tracklets:
        return
    rows = session.describe(tracklets)
    with run.sink.lock, run.store.tx() as conn:
        for d in rows:
            c.pending.append((d.tracklet.track_id, insert_described(conn, d)))
    for tid, sid in c.pending:
        live.book.link_sighting(tid, sid)
    c.pending.clear()
    session.prune()  # crops of tracks that ended too short to become tracklets


def _end_camera(run: _Run, c: _Cam, rep: CameraReport) -> None:
    if c.ended:
        return
    c.ended = True
    live = c.live
    if live is not None:
        _finished(run, c, live, live.session.finish(), live.session.start_wall + rep.duration_s)
        for a in live.book.finish_all():  # decided at the end of the source (still at a spot)
            run.alerts.append(a)
            if run.on_alert:
                run.on_alert(a)
        rep.alerts = live.book.n_emitted
        rep.suppressed = live.book.suppressed
        rep.max_score = round(live.book.max_score, 3)
        if run.with_sightings and run.store is not None and live.session.source_id is not None:
            with run.sink.lock, run.store.tx() as conn:
                conn.execute("UPDATE sources SET status='complete' WHERE id=?", (live.session.source_id,))


def sources_from_network(path: str | Path, zones_file: str | Path | None = None) -> list[CameraSpec]:
    """Cameras of a camera network YAML as watch sources: `source` (relative to the file) else `stream_url`,
    `start_time` as the first frame's wall time, `zones` (or those of a separate zones file)."""
    from relaytrack.errors import InputError
    from relaytrack.relay.network import read_network
    from relaytrack.source.open import parse_time
    from relaytrack.watch.zones import load_zones, zones_for_camera, zones_from_list

    net = read_network(path)
    table = load_zones(zones_file) if zones_file else None
    out = []
    for e in net.cameras:
        uri = e.extra.get("source_path") or e.camera.stream_url
        if not uri:
            continue
        zones = (
            zones_for_camera(table, e.camera.id)
            if table is not None
            else zones_from_list(e.extra.get("zones") or [], f"{e.where} zones")
        )
        out.append(CameraSpec(str(uri), e.camera.id, zones, parse_time(e.extra.get("start_time"))))
    if not out:
        raise InputError(f"{path}: no camera has a source or stream_url to watch")
    return out
