"""One camera's footage -> stored sightings, resumable after a crash.

Every `commit_every` analysed frames, one transaction stores the tracklets that finished since the last
commit together with a checkpoint: the frame reached and the pickled running state (tracker and crop bank).
A kill -9 loses at most the work since the last commit; a rerun loads the checkpoint and carries on from the
next frame. A source already complete is recognised by its content fingerprint and not ingested twice.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.config import Config
from relaytrack.describe import CropBank, Embedder, describe_tracklet
from relaytrack.detect import Detector
from relaytrack.errors import SourceError
from relaytrack.records import TRACKED_CLASSES, VEHICLE_CLASSES, Detections, Frame, Sighting, Tracklet
from relaytrack.source import SourceInfo, open_source, probe
from relaytrack.source.open import is_stream, parse_time
from relaytrack.store import Store
from relaytrack.store import sightings as st
from relaytrack.track import Tracker


@dataclass
class Stages:
    """The models of one pipeline, loaded once and shared by every source of a run."""

    cfg: Config
    detector: Detector
    embedder: Embedder | None

    @classmethod
    def load(cls, cfg: Config, *, embed: bool = True) -> Stages:
        return cls(cfg, Detector(cfg.detect), Embedder(cfg.describe) if embed else None)


@dataclass
class IngestResult:
    uri: str
    camera: str
    source_id: int | None = None
    status: str = "complete"  # complete | skipped | failed
    sightings: int = 0
    frames: int = 0
    resumed_from: int = 0
    bad_frames: list[str] = field(default_factory=list)
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _State:
    tracker: Tracker
    bank: CropBank
    frame: int = 0


def tracklet_to_sighting(
    tl: Tracklet, desc, *, camera: str, source_id: int | None, start_wall: float
) -> Sighting:
    box = desc.best_box
    if box is None:
        b = tl.boxes[len(tl.boxes) // 2].xyxy
        box = (b[0], b[1], b[2] - b[0], b[3] - b[1])
    return Sighting(
        id=0,
        camera=camera,
        source_id=source_id,
        track_id=tl.track_id,
        kind="vehicle" if tl.class_name in VEHICLE_CLASSES else "person",
        class_name=tl.class_name,
        start=tl.first.t,
        end=tl.last.t,
        first_frame=tl.first.frame,
        last_frame=tl.last.frame,
        wall_start=start_wall + tl.first.t,
        wall_end=start_wall + tl.last.t,
        box=tuple(box),
        entry_edge=tl.entry_edge,
        exit_edge=tl.exit_edge,
        heading_deg=tl.heading_deg,
        speed_px_s=tl.speed_px_s,
        upper_color=desc.upper_color,
        upper_conf=desc.upper_conf,
        lower_color=desc.lower_color,
        lower_conf=desc.lower_conf,
        items=desc.items,
        vehicle_type=desc.vehicle_type,
        vehicle_color=desc.vehicle_color,
        plate=desc.plate,
        embedding=desc.embedding,
    )


def track_frames(
    frames,
    stages: Stages,
    frame_size: tuple[int, int],
    camera: str,
    on_frame: Callable[[Frame, Detections, list], None] | None = None,
    state: _State | None = None,
    timings: dict[str, float] | None = None,
):
    """Detect and track a stream of frames; yields (frame, finished tracklets, state) per analysed frame."""
    cfg = stages.cfg
    state = state or _State(
        Tracker(cfg.track, frame_size, camera, classes=TRACKED_CLASSES), CropBank(cfg.describe.best_crops)
    )
    timings = timings if timings is not None else {}
    for frame in frames:
        t0 = time.perf_counter()
        dets = stages.detector.detect(frame.image)
        t1 = time.perf_counter()
        tracks = state.tracker.update(dets, frame.index, frame.t)
        t2 = time.perf_counter()
        state.bank.add_frame(frame.image, frame.index, tracks, dets)
        t3 = time.perf_counter()
        timings["detect"] = timings.get("detect", 0.0) + t1 - t0
        timings["track"] = timings.get("track", 0.0) + t2 - t1
        timings["describe"] = timings.get("describe", 0.0) + t3 - t2
        state.frame = frame.index
        if on_frame is not None:
            on_frame(frame, dets, tracks)
        yield frame, state.tracker.pop_finished(), state


def _source_row(
    store: Store, camera: str, info: SourceInfo, start_wall: float, cfg: Config
) -> tuple[int, str, int, bytes | None]:
    with store.tx() as conn:
        st.ensure_camera(conn, camera)
        row = conn.execute(
            "SELECT id, status, checkpoint_frame, checkpoint_state FROM sources"
            " WHERE camera_id=? AND fingerprint=?",
            (camera, info.fingerprint),
        ).fetchone()
        if row is not None:
            return int(row[0]), row[1], int(row[2]), row[3]
        cur = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, analysed_fps, width, height,"
            " frames_total) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                camera,
                info.uri,
                info.fingerprint,
                start_wall,
                info.fps,
                cfg.source.analyse_fps,
                info.width,
                info.height,
                info.frames,
            ),
        )
        conn.execute(
            "UPDATE cameras SET width=COALESCE(width, ?), height=COALESCE(height, ?) WHERE id=?",
            (info.width, info.height, camera),
        )
        return int(cur.lastrowid), "running", 0, None


def ingest(
    store: Store,
    uri: str,
    camera: str,
    cfg: Config,
    stages: Stages | None = None,
    start_wall: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    stop_after: int | None = None,
) -> IngestResult:
    """Run the whole pipeline on one source into the store. Errors are returned in the result, not raised,
    so that one bad source does not stop the others of a run."""
    res = IngestResult(uri=uri, camera=camera)
    try:
        info = probe(uri)
    except SourceError as err:
        res.status, res.error = "failed", str(err)
        return res
    if start_wall is None:
        start_wall = parse_time(cfg.source.start_time)
    if start_wall is None:
        start_wall = time.time() if is_stream(uri) else _start_from_camera(store, camera, info)
    source_id, status, ckpt_frame, ckpt_state = _source_row(store, camera, info, start_wall, cfg)
    res.source_id = source_id
    if status == "complete":
        res.status = "skipped"
        res.sightings = store.one("SELECT count(*) FROM sightings WHERE source_id=?", (source_id,))[0]
        return res
    # The stored start time wins on resume, so sighting times stay consistent across runs.
    start_wall = store.one("SELECT start_wall FROM sources WHERE id=?", (source_id,))[0]
    stages = stages or Stages.load(cfg)
    state = None
    if ckpt_state:
        state = pickle.loads(ckpt_state)
        res.resumed_from = ckpt_frame

    pending: list[tuple[Sighting, Tracklet, object]] = []
    since_commit = 0

    def bad(index: int, msg: str) -> None:
        if len(res.bad_frames) < 100:
            res.bad_frames.append(msg)

    def commit(state: _State, final: bool) -> None:
        nonlocal pending, since_commit
        blob = None if final else pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with store.tx() as conn:
            for s, tl, desc in pending:
                st.insert_sighting(
                    conn,
                    s,
                    thumbnail_jpeg=desc.thumbnail_jpeg,
                    best_frame=desc.best_frame,
                    boxes=[
                        (
                            b.frame,
                            b.t,
                            b.xyxy[0],
                            b.xyxy[1],
                            b.xyxy[2] - b.xyxy[0],
                            b.xyxy[3] - b.xyxy[1],
                            b.confidence,
                        )
                        for b in tl.boxes
                    ],
                )
            conn.execute(
                "UPDATE sources SET checkpoint_frame=?, checkpoint_state=?, status=?, error=? WHERE id=?",
                (
                    state.frame,
                    blob,
                    "complete" if final else "running",
                    json.dumps(res.bad_frames[:20]) if res.bad_frames else None,
                    source_id,
                ),
            )
        res.sightings += len(pending)
        pending, since_commit = [], 0

    def describe(tls: list[Tracklet], state: _State) -> None:
        for tl in tls:
            desc = describe_tracklet(tl, state.bank.pop(tl.track_id), stages.embedder)
            pending.append(
                (
                    tracklet_to_sighting(tl, desc, camera=camera, source_id=source_id, start_wall=start_wall),
                    tl,
                    desc,
                )
            )

    frames = open_source(
        uri, camera, cfg.source, start_wall, info=info, start_index=ckpt_frame + 1, on_bad_frame=bad
    )
    try:
        t_desc = 0.0
        for frame, finished, state in track_frames(
            frames, stages, (info.width, info.height), camera, state=state, timings=res.timings
        ):
            res.frames += 1
            t0 = time.perf_counter()
            describe(finished, state)
            t_desc += time.perf_counter() - t0
            since_commit += 1
            if since_commit >= cfg.commit_every:
                state.bank.drop_except(set(state.tracker.live_ids()))
                commit(state, final=False)
            if progress:
                progress(frame.index, info.frames)
            if stop_after and res.frames >= stop_after:
                return res
        if state is None:
            state = _State(
                Tracker(cfg.track, (info.width, info.height), camera, classes=TRACKED_CLASSES),
                CropBank(cfg.describe.best_crops),
                frame=ckpt_frame,
            )
        describe(state.tracker.flush(), state)
        commit(state, final=True)
        res.timings["embed+colour"] = t_desc
    except SourceError as err:
        res.status, res.error = "failed", str(err)
        if state is not None:
            commit(state, final=False)
    return res


def _start_from_camera(store: Store, camera: str, info: SourceInfo) -> float:
    """A camera's configured start_time (cameras.extra, set by `cameras import`), else the file's own time."""
    row = store.one("SELECT extra FROM cameras WHERE id=?", (camera,))
    if row is not None and row[0]:
        try:
            extra = json.loads(row[0])
        except ValueError:
            extra = {}
        t = parse_time(extra.get("start_time"))
        if t is not None:
            return t
    from relaytrack.source.open import _default_start

    return _default_start(info)


def default_camera_id(uri: str) -> str:
    p = Path(uri)
    if p.name == "img1":
        p = p.parent
    return p.stem if p.suffix else p.name


def frame_dets_rows(frame: Frame, dets: Detections, min_conf: float) -> list[str]:
    """MOTChallenge detection lines for the person class of one frame."""
    mask = (dets.class_id == 0) & (dets.confidence >= min_conf)
    xywh = dets.xywh[mask]
    conf = dets.confidence[mask]
    return [
        f"{frame.index},-1,{x:.2f},{y:.2f},{w:.2f},{h:.2f},{c:.4f},-1,-1,-1"
        for (x, y, w, h), c in zip(xywh, conf, strict=True)
    ]


def tracklet_rows(tracklets: list[Tracklet], classes: tuple[str, ...] = ("person",)) -> list[tuple[int, str]]:
    rows = []
    for tl in tracklets:
        if tl.class_name not in classes:
            continue
        for b in tl.boxes:
            x1, y1, x2, y2 = b.xyxy
            rows.append(
                (
                    b.frame,
                    f"{b.frame},{tl.track_id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                    f"{b.confidence:.4f},-1,-1,-1",
                )
            )
    rows.sort(key=lambda r: (r[0], int(r[1].split(",")[1])))
    return rows
