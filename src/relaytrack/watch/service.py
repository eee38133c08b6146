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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.config import Config
from relaytrack.errors import SourceError
from relaytrack.records import CLASS_ID, PERSON
from relaytrack.watch.alerts import Alert, AlertBook, insert_alert, set_camera_status, update_alert
from relaytrack.watch.config import WatchConfig, pipeline_for_watch
from relaytrack.watch.signals import CameraWatch, RouteMemory, appearance_hist
from relaytrack.watch.zones import Zone

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


class _Sink:
    """Thread-safe persistence of alerts and camera status into the store (or only memory without one)."""

    def __init__(self, store) -> None:
        self.store = store
        self.lock = threading.Lock()

    def persist(self, a: Alert, new: bool) -> None:
        if self.store is None:
            if new and a.id is None:
                with self.lock:
                    _Sink._n = getattr(_Sink, "_n", 0) + 1
                    a.id = _Sink._n
            return
        with self.lock, self.store.tx() as conn:
            if new and a.id is None:
                insert_alert(conn, a)
            else:
                update_alert(conn, a)

    def status(self, rep: CameraReport, state: str) -> None:
        rep.state = state
        if self.store is None:
            return
        with self.lock, self.store.tx() as conn:
            set_camera_status(
                conn, rep.camera, rep.uri, state, frames=rep.frames, bad_frames=rep.bad_frames,
                reconnects=rep.reconnects, error=rep.error, last_frame_wall=time.time(),
            )  # fmt: skip


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

    t_start = time.time()
    readers = []
    for i, spec in enumerate(specs):
        box = inboxes[i % n_workers]
        box.add_camera(spec.camera)
        th = threading.Thread(
            target=_reader, args=(spec, cfg, wcfg, box, reports[spec.camera], sink, camera_down, once, stop,
                  (not once) if pace is None else pace),
            name=f"watch-read-{spec.camera}", daemon=True,
        )  # fmt: skip
        readers.append(th)
    workers = []
    for k in range(n_workers):
        mine = [s for i, s in enumerate(specs) if i % n_workers == k]
        th = threading.Thread(
            target=_worker,
            args=(mine, inboxes[k], once, cfg, wcfg, store, sink, clips, route, reports, alerts, on_alert, stop,
                  progress, store_sightings and store is not None),
            name=f"watch-work-{k}", daemon=True,
        )  # fmt: skip
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


def _reader(
    spec: CameraSpec, cfg: Config, wcfg: WatchConfig, box: _Inbox, rep: CameraReport, sink: _Sink,
    camera_down, once: bool, stop: threading.Event, pace: bool,
) -> None:  # fmt: skip
    """Decode one source into its worker's inbox; reconnect with back-off; never raises."""
    from relaytrack.source import open_source, probe
    from relaytrack.source.open import is_stream

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
class _Cam:
    spec: CameraSpec
    watch: CameraWatch
    book: AlertBook | None = None
    state: object = None
    size: tuple[int, int] | None = None
    source_id: int | None = None
    start_wall: float = 0.0
    pending: list = field(default_factory=list)
    last_wall: float = 0.0
    ended: bool = False


def _worker(
    specs: list[CameraSpec], box: _Inbox, once: bool, cfg: Config, wcfg: WatchConfig, store, sink: _Sink, clips: Path | None,
    route: RouteMemory, reports: dict[str, CameraReport], alerts: list[Alert], on_alert, stop: threading.Event,
    progress, with_sightings: bool,
) -> None:  # fmt: skip
    from relaytrack.pipeline.ingest import Stages, track_frames
    from relaytrack.watch.pose import PoseEstimator, posture

    stages = Stages.load(cfg, embed=with_sightings)
    pose = PoseEstimator(wcfg.pose.model, wcfg.pose.long_side, threads=1) if wcfg.pose.enabled else None
    cams = {s.camera: _Cam(s, CameraWatch(s.camera, s.zones, wcfg, route)) for s in specs}
    stall = wcfg.run.stall_s
    while not stop.is_set() and not all(c.ended for c in cams.values()):
        got = box.get(stop, timeout=min(1.0, stall / 2))
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
            _end_camera(c, stages, sink, store, rep, with_sightings)
            continue
        frame, capture_wall = item
        c.last_wall = capture_wall
        t0 = time.perf_counter()
        try:
            if c.book is None:
                _start_camera(c, frame, cfg, wcfg, store, sink, clips, with_sightings)
            image = frame.image
            seen: dict = {}

            def on_frame(fr, dets, tracks, _seen=seen) -> None:
                _seen["dets"], _seen["tracks"] = dets, tracks

            for _fr, finished, state in track_frames(
                [frame], stages, c.size, camera, on_frame=on_frame, state=c.state
            ):
                c.state = state
                dets, tracks = seen["dets"], seen["tracks"]
                persons = {
                    tid: tuple(float(v) for v in xyxy) for tid, cls, xyxy, _ in tracks if cls == PERSON
                }
                phones = dets.xyxy[dets.class_id == PHONE] if len(dets) else np.zeros((0, 4), np.float32)

                def pose_fn(_tid, xyxy, _img=image):
                    kp = pose.estimate(_img, xyxy) if pose is not None else None
                    return posture(kp, wcfg.signals.kp_min_score) if kp is not None else None

                assessed = c.watch.step(
                    frame.index, frame.t, frame.wall, list(persons.items()), phones,
                    pose_fn if pose is not None else None, lambda xyxy, _img=image: appearance_hist(_img, xyxy),
                )  # fmt: skip
                raised = c.book.on_frame(frame.index, frame.t, image, assessed, persons, capture_wall)
                for a in raised:
                    alerts.append(a)
                    if not once and len(alerts) > 10000:  # a 24/7 watch returns only the recent ones
                        del alerts[:1000]
                    if on_alert:
                        on_alert(a)
                _finished(c, finished, stages, sink, store, with_sightings, frame.wall)
            rep.frames += 1
            rep.pose_runs = c.watch.pose_runs
            rep.duration_s = frame.t
        except Exception as err:  # one camera's bad frame must not stop the worker's other cameras
            log.exception("worker %s frame %s", camera, frame.index)
            rep.error = f"{type(err).__name__}: {err}"
        rep.busy_s += time.perf_counter() - t0
        if progress:
            progress(camera, rep.frames)
    for c in cams.values():
        if not c.ended:
            _end_camera(c, stages, sink, store, reports[c.spec.camera], with_sightings)


def _start_camera(c: _Cam, frame, cfg, wcfg, store, sink: _Sink, clips, with_sightings: bool) -> None:
    c.size = frame.size
    c.start_wall = frame.wall - frame.t
    if with_sightings:
        from relaytrack.pipeline.ingest import _source_row
        from relaytrack.source import probe

        try:
            info = probe(c.spec.uri)
            with sink.lock:
                c.source_id, _status, _f, _s = _source_row(store, c.spec.camera, info, c.start_wall, cfg)
        except SourceError:
            c.source_id = None
    c.book = AlertBook(
        c.spec.camera, wcfg.alert, clips, sink.persist, source_uri=c.spec.uri, source_id=c.source_id,
        start_wall=c.start_wall,
    )  # fmt: skip
    watch = c.watch
    c.book.history_fn = lambda tid: [
        (i, t, xyxy) for i, t, xyxy in (watch.tracks[tid].boxes if tid in watch.tracks else [])
    ]


def _finished(c: _Cam, tracklets, stages, sink: _Sink, store, with_sightings: bool, wall: float) -> None:
    for tl in tracklets:
        c.watch.end_track(tl.track_id, wall)
    if not with_sightings or c.source_id is None or not tracklets:
        return
    from relaytrack.describe import describe_tracklet
    from relaytrack.pipeline.ingest import tracklet_to_sighting
    from relaytrack.store import sightings as st

    rows = []
    for tl in tracklets:
        desc = describe_tracklet(tl, c.state.bank.pop(tl.track_id), stages.embedder)
        s = tracklet_to_sighting(
            tl, desc, camera=c.spec.camera, source_id=c.source_id, start_wall=c.start_wall
        )
        rows.append((s, tl, desc))
    with sink.lock, store.tx() as conn:
        for s, tl, desc in rows:
            sid = st.insert_sighting(
                conn, s, thumbnail_jpeg=desc.thumbnail_jpeg, best_frame=desc.best_frame,
                boxes=[(b.frame, b.t, b.xyxy[0], b.xyxy[1], b.xyxy[2] - b.xyxy[0], b.xyxy[3] - b.xyxy[1],
                        b.confidence) for b in tl.boxes],
            )  # fmt: skip
            tl_sid = sid if isinstance(sid, int) else getattr(sid, "id", None)
            c.pending.append((tl.track_id, tl_sid))
    for tid, sid in c.pending:
        if sid is not None:
            c.book.link_sighting(tid, sid)
    c.pending.clear()


def _end_camera(c: _Cam, stages, sink: _Sink, store, rep: CameraReport, with_sightings: bool) -> None:
    if c.ended:
        return
    c.ended = True
    if c.state is not None and c.book is not None:
        _finished(
            c, c.state.tracker.flush(), stages, sink, store, with_sightings, c.start_wall + rep.duration_s
        )
        c.book.finish_all()
        rep.alerts = c.book.n_emitted
        rep.suppressed = c.book.suppressed
        rep.max_score = round(c.book.max_score, 3)
        if with_sightings and c.source_id is not None:
            with sink.lock, store.tx() as conn:
                conn.execute("UPDATE sources SET status='complete' WHERE id=?", (c.source_id,))


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
