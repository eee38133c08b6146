"""One camera's running pipeline: frames in; detections, tracks and described tracklets out.

`CameraSession` is the one per-camera loop that every consumer shares: `ingest` (a file or stream into the
store, resumable from a checkpoint), the live watch (behaviour alerts) and live pursuit (following one
person across cameras as it happens). Each feeds it frames with `step(frame)` and, at the end of the
source, calls `finish()` for the tracklets still running. What a consumer does with a step (alerts, a
checkpoint, a pursuit) stays with the consumer; describing a finished tracklet into a `Sighting` and
storing it are here so that ingest and watch store the same rows.

The running state (`SessionState`: tracker and crop bank) is plain picklable data, so that ingest can
checkpoint it into the store with every commit and carry on after a kill -9.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass

from relaytrack.config import Config
from relaytrack.describe import CropBank, Embedder, describe_tracklet
from relaytrack.detect import Detector
from relaytrack.records import (
    TRACKED_CLASSES,
    VEHICLE_CLASSES,
    Description,
    Detections,
    Frame,
    Sighting,
    Tracklet,
    Tracks,
)
from relaytrack.source import SourceInfo
from relaytrack.store import Store, vectors
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

    def bind(self, store: Store) -> None:
        """Use the embedder this store's vectors come from: its trained model (recorded by `reid apply`)
        unless the config names one, and refuse an embedder whose vectors the store does not hold."""
        if self.embedder is None:
            return
        with store.tx() as conn:
            _, model = vectors.embedder(conn)
            if self.cfg.describe.embedder is None and model and self.embedder.name != model:
                self.embedder = Embedder(self.cfg.describe, model=model)
            vectors.bind_embedder(conn, self.embedder.identity)


@dataclass
class SessionState:
    """A camera's running state between frames: what ingest pickles into its checkpoint. `frame` is the
    index of the last frame analysed."""

    tracker: Tracker
    bank: CropBank
    frame: int = 0


@dataclass(frozen=True)
class Step:
    """What one analysed frame gave: the frame, its detections, the tracks matched in it, and the tracklets
    the tracker finished at it (not yet described)."""

    frame: Frame
    detections: Detections
    tracks: Tracks
    finished: list[Tracklet]


@dataclass(frozen=True)
class Described:
    """A finished tracklet with its appearance description and the sighting row made of both."""

    sighting: Sighting
    tracklet: Tracklet
    description: Description


@dataclass(frozen=True)
class SourceRow:
    """A source's row in the store: its id, status (running | complete) and last checkpoint."""

    id: int
    status: str
    checkpoint_frame: int = 0
    checkpoint_state: bytes | None = None


class CameraSession:
    """Detect, track and collect crops for one camera, a frame at a time.

    `step(frame) -> Step`; `finish() -> list[Tracklet]` at the end of the source; `describe(tracklets)` turns
    finished tracklets into sightings (needs `stages.embedder` for embeddings). `timings` accumulates seconds
    per stage ("detect", "track", "describe") when given.
    """

    def __init__(
        self,
        stages: Stages,
        camera: str,
        frame_size: tuple[int, int],
        *,
        state: SessionState | None = None,
        source_id: int | None = None,
        start_wall: float = 0.0,
        timings: dict[str, float] | None = None,
        collect_crops: bool = True,
    ) -> None:
        cfg = stages.cfg
        # A session whose tracklets nobody describes (the watch without stored sightings) keeps no crops:
        # on a 24/7 camera they would pile up for every track that ever passed.
        self.collect_crops = collect_crops
        self.stages = stages
        self.camera = camera
        self.frame_size = frame_size
        self.source_id = source_id
        self.start_wall = start_wall
        self.timings = timings if timings is not None else {}
        self.state = state or SessionState(
            Tracker(cfg.track, frame_size, camera, classes=TRACKED_CLASSES),
            CropBank(cfg.describe.best_crops, cfg.describe.crop_gap_s, cfg.describe.embed_crops),
        )

    @property
    def tracker(self) -> Tracker:
        return self.state.tracker

    def step(self, frame: Frame) -> Step:
        state, timings = self.state, self.timings
        t0 = time.perf_counter()
        dets = self.stages.detector.detect(frame.image)
        t1 = time.perf_counter()
        looks = state.tracker.looks_for(frame.image, dets, frame.t)
        tracks = state.tracker.update(dets, frame.index, frame.t, looks=looks)
        for old, new, first in state.tracker.pop_splits():
            state.bank.split(old, new, first)
        t2 = time.perf_counter()
        if self.collect_crops:
            state.bank.add_frame(frame.image, frame.index, tracks, dets, t=frame.t)
        t3 = time.perf_counter()
        timings["detect"] = timings.get("detect", 0.0) + t1 - t0
        timings["track"] = timings.get("track", 0.0) + t2 - t1
        timings["describe"] = timings.get("describe", 0.0) + t3 - t2
        state.frame = frame.index
        return Step(frame, dets, tracks, state.tracker.pop_finished())

    def finish(self) -> list[Tracklet]:
        """End of source: every live track finished."""
        return self.state.tracker.flush()

    def describe(self, tracklets: list[Tracklet]) -> list[Described]:
        """Finished tracklets -> descriptions and sightings; their crops leave the bank."""
        out = []
        for tl in tracklets:
            desc = describe_tracklet(tl, self.state.bank.pop(tl.track_id), self.stages.embedder)
            s = tracklet_to_sighting(
                tl, desc, camera=self.camera, source_id=self.source_id, start_wall=self.start_wall
            )
            out.append(Described(s, tl, desc))
        return out

    def prune(self) -> None:
        """Drop the crops of tracks that ended without a tracklet (too short, never confirmed): nothing will
        ever describe them, and a checkpoint should not carry them."""
        self.state.bank.drop_except(set(self.state.tracker.live_ids()))

    def checkpoint(self) -> bytes:
        """The running state as bytes, for `restore` after a crash."""
        return pickle.dumps(self.state, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def restore(blob: bytes) -> SessionState:
        return pickle.loads(blob)


def tracklet_to_sighting(
    tl: Tracklet, desc: Description, *, camera: str, source_id: int | None, start_wall: float
) -> Sighting:
    box = desc.best_box
    if box is None:
        x1, y1, x2, y2 = tl.boxes[len(tl.boxes) // 2].xyxy
        box = (x1, y1, x2 - x1, y2 - y1)
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


def insert_described(conn, d: Described) -> int:
    """Store one described tracklet (sighting, thumbnail, every box as xywh); returns the sighting id.
    Idempotent by (source, track), so a resumed ingest never stores a tracklet twice."""
    sid = st.insert_sighting(
        conn,
        d.sighting,
        thumbnail_jpeg=d.description.thumbnail_jpeg,
        best_frame=d.description.best_frame,
        crops=d.description.crops_jpeg,
        boxes=[
            (b.frame, b.t, b.xyxy[0], b.xyxy[1], b.xyxy[2] - b.xyxy[0], b.xyxy[3] - b.xyxy[1], b.confidence)
            for b in d.tracklet.boxes
        ],
    )
    if d.description.plate:
        import json

        conn.execute(
            "UPDATE sightings SET plate_conf=?, plate_alts=? WHERE id=?",
            (d.description.plate_conf, json.dumps(d.description.plate_alternatives, ensure_ascii=False), sid),
        )
    return sid


def register_source(store: Store, camera: str, info: SourceInfo, start_wall: float, cfg: Config) -> SourceRow:
    """The source's row (found by content fingerprint, else created as running) and its camera's row."""
    with store.tx() as conn:
        st.ensure_camera(conn, camera)
        row = conn.execute(
            "SELECT id, status, checkpoint_frame, checkpoint_state FROM sources"
            " WHERE camera_id=? AND fingerprint=?",
            (camera, info.fingerprint),
        ).fetchone()
        if row is not None:
            return SourceRow(int(row[0]), row[1], int(row[2]), row[3])
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
        return SourceRow(int(cur.lastrowid), "running")
