"""One camera's arrivals during a pursuit: the shared `CameraSession` plus provisional descriptions.

The ingest and the watch describe a tracklet when it ends; a pursuit cannot wait for the suspect to leave
the next camera's view, so people still in view are described from the crops collected so far (their
tracker's `live_tracklets`) and scored again as more crops arrive. A tracklet that ends is described once
more, completely. Arrivals are saved as sightings only when a hand-off or an offer needs an id: replayed
footage that is already in the store reuses its stored sighting (same camera, overlapping time), new
footage gets a new row (no source: a live stream's track ids restart with every session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from relaytrack.describe.tracklet import describe_tracklet
from relaytrack.pipeline.session import (
    CameraSession,
    Described,
    Stages,
    insert_described,
    tracklet_to_sighting,
)
from relaytrack.records import VEHICLE_CLASSES, Frame, Sighting


@dataclass
class Arrival:
    """A person (or vehicle) on a camera, described so far. `save()` stores it and returns its sighting id."""

    key: tuple[str, int]  # (camera, track id)
    sighting: Sighting
    finished: bool
    save: Callable[[], int] = field(repr=False, default=lambda: 0)
    # In the camera's first analysed frame: there before the pursuit began, so not an arrival (the origin's
    # own pass, or someone who was already on a camera whose view overlaps the origin's).
    present_at_start: bool = False


class SessionAnalyser:
    """Detect, track and describe one camera for the pursuit; `step(frame)` -> arrivals worth scoring."""

    def __init__(self, stages: Stages, camera: str, store, kind: str, *, min_track_s: float,
                 rescore_s: float) -> None:  # fmt: skip
        self.stages, self.camera, self.store, self.kind = stages, camera, store, kind
        self.min_track_s, self.rescore_s = min_track_s, rescore_s
        self.session: CameraSession | None = None
        self.last_scored: dict[int, float] = {}
        self.saved: dict[int, int] = {}  # track id -> sighting id
        self.first_t: float | None = None  # stream time of the first analysed frame

    def _kind_ok(self, class_name: str) -> bool:
        return ("vehicle" if class_name in VEHICLE_CLASSES else "person") == self.kind

    def step(self, frame: Frame) -> list[Arrival]:
        if self.session is None:
            self.session = CameraSession(
                self.stages, self.camera, frame.size, start_wall=frame.wall - frame.t
            )
            self.first_t = frame.t
        ses = self.session
        st = ses.step(frame)
        out = []
        for d in ses.describe([tl for tl in st.finished if self._kind_ok(tl.class_name)]):
            out.append(self._arrival(d, finished=True))
            self.last_scored.pop(d.tracklet.track_id, None)
        ses.prune()
        for tl in ses.tracker.live_tracklets(min_boxes=2):
            if not self._kind_ok(tl.class_name) or tl.last.t - tl.first.t < self.min_track_s:
                continue
            if frame.t - self.last_scored.get(tl.track_id, -1e9) < self.rescore_s:
                continue
            self.last_scored[tl.track_id] = frame.t
            desc = describe_tracklet(tl, ses.state.bank.chosen(tl.track_id), self.stages.embedder)
            s = tracklet_to_sighting(tl, desc, camera=self.camera, source_id=None, start_wall=ses.start_wall)
            out.append(self._arrival(Described(s, tl, desc), finished=False))
        return out

    def _arrival(self, d: Described, *, finished: bool) -> Arrival:
        tid = d.tracklet.track_id

        def save() -> int:
            return self._save(d)

        s = d.sighting
        if tid in self.saved:
            s = _with_id(s, self.saved[tid])
            if finished:
                self._update(s)
        early = self.first_t is not None and d.tracklet.first.t <= self.first_t + 1e-6
        return Arrival((self.camera, tid), s, finished, save, present_at_start=early)

    def _save(self, d: Described) -> int:
        tid = d.tracklet.track_id
        if tid in self.saved:
            return self.saved[tid]
        s = d.sighting
        with self.store.tx() as conn:
            row = conn.execute(
                "SELECT id, wall_start, wall_end FROM sightings WHERE camera_id=? AND kind=? AND wall_end>=?"
                " AND wall_start<=? ORDER BY ABS(wall_start-?) LIMIT 5",
                (s.camera, s.kind, s.wall_start, s.wall_end + 5.0, s.wall_start),
            ).fetchall()
            best = None
            for r in row:
                # The footage is already in the store (a replay): the stored sighting of the same pass.
                if abs(r["wall_start"] - s.wall_start) <= 1.5:
                    best = int(r["id"])
                    break
            sid = best if best is not None else insert_described(conn, d)
        self.saved[tid] = sid
        return sid

    def _update(self, s: Sighting) -> None:
        # The provisional row of a track that has now ended: its end and exit edge are known.
        with self.store.tx() as conn:
            conn.execute(
                "UPDATE sightings SET end_s=?, wall_end=?, last_frame=?, exit_edge=?, heading_deg=?, speed_px_s=?"
                " WHERE id=? AND source_id IS NULL",
                (s.end, s.wall_end, s.last_frame, s.exit_edge, s.heading_deg, s.speed_px_s, s.id),
            )


def _with_id(s: Sighting, sid: int) -> Sighting:
    from dataclasses import replace

    return replace(s, id=sid)
