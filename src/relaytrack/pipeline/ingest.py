"""One camera's footage -> stored sightings, resumable after a crash.

Every `commit_every` analysed frames, one transaction stores the tracklets that finished since the last
commit together with a checkpoint: the frame reached and the pickled running state (tracker and crop bank).
A kill -9 loses at most the work since the last commit; a rerun loads the checkpoint and carries on from the
next frame. A source already complete is recognised by its content fingerprint and not ingested twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.config import Config
from relaytrack.errors import SourceError, StoreError
from relaytrack.pipeline.session import (
    CameraSession,
    Described,
    SessionState,
    Stages,
    insert_described,
    register_source,
    tracklet_to_sighting,
)
from relaytrack.records import Detections, Frame, Tracklet
from relaytrack.source import SourceInfo, open_source, probe
from relaytrack.source.open import is_stream, parse_time
from relaytrack.store import Store

__all__ = ["IngestResult", "Stages", "default_camera_id", "ingest", "tracklet_to_sighting"]

# Checkpoints written before the session existed pickled the state under this name; it keeps them loadable.
_State = SessionState


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
    src = register_source(store, camera, info, start_wall, cfg)
    source_id = src.id
    res.source_id = source_id
    if src.status == "complete":
        res.status = "skipped"
        res.sightings = store.one("SELECT count(*) FROM sightings WHERE source_id=?", (source_id,))[0]
        return res
    # The stored start time wins on resume, so sighting times stay consistent across runs.
    start_wall = store.one("SELECT start_wall FROM sources WHERE id=?", (source_id,))[0]
    stages = stages or Stages.load(cfg)
    try:
        stages.bind(store)
    except StoreError as err:
        res.status, res.error = "failed", str(err)
        return res
    state = None
    if src.checkpoint_state:
        state = CameraSession.restore(src.checkpoint_state)
        res.resumed_from = src.checkpoint_frame
    session = CameraSession(
        stages, camera, (info.width, info.height), state=state, source_id=source_id, start_wall=start_wall,
        timings=res.timings,
    )  # fmt: skip
    if state is None:
        session.state.frame = src.checkpoint_frame
    # A failed source keeps a checkpoint only once there is state worth resuming from.
    started = state is not None

    pending: list[Described] = []
    since_commit = 0

    def bad(index: int, msg: str) -> None:
        if len(res.bad_frames) < 100:
            res.bad_frames.append(msg)

    def commit(final: bool) -> None:
        nonlocal pending, since_commit
        blob = None if final else session.checkpoint()
        with store.tx() as conn:
            for d in pending:
                insert_described(conn, d)
            conn.execute(
                "UPDATE sources SET checkpoint_frame=?, checkpoint_state=?, status=?, error=? WHERE id=?",
                (
                    session.state.frame,
                    blob,
                    "complete" if final else "running",
                    json.dumps(res.bad_frames[:20]) if res.bad_frames else None,
                    source_id,
                ),
            )
        res.sightings += len(pending)
        pending, since_commit = [], 0

    frames = open_source(
        uri, camera, cfg.source, start_wall, info=info, start_index=src.checkpoint_frame + 1, on_bad_frame=bad
    )
    try:
        t_desc = 0.0
        for frame in frames:
            step = session.step(frame)
            started = True
            res.frames += 1
            t0 = time.perf_counter()
            pending.extend(session.describe(step.finished))
            t_desc += time.perf_counter() - t0
            since_commit += 1
            if since_commit >= cfg.commit_every:
                session.prune()
                commit(final=False)
            if progress:
                progress(frame.index, info.frames)
            if stop_after and res.frames >= stop_after:
                return res
        t0 = time.perf_counter()
        pending.extend(session.describe(session.finish()))  # most tracklets of a short clip end here
        t_desc += time.perf_counter() - t0
        commit(final=True)
        res.timings["embed+colour"] = t_desc
    except SourceError as err:
        res.status, res.error = "failed", str(err)
        if started:
            commit(final=False)
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
