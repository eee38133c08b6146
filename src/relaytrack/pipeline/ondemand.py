"""Index at a low rate, re-process on demand.

City cameras are indexed at a low analysed rate (e.g. 1 fps, motion-gated). When a relay needs a candidate
camera's time window in detail, `reprocess_window` analyses that window again at full rate from the retained
footage: it finds the source covering the window (sources: uri, start_wall, fps), maps the wall-time window to
a frame range (`frame_range`), runs the one pipeline (`CameraSession`) over just those frames, stores the
sightings under a source row of their own (`sources.reprocess_of`) and marks the sightings of that camera the
range replaces as `superseded_by` the window (kept, never deleted). The range is widened to cover whole the
live sightings it overlaps (up to `max_extend_s` each side), so a superseded tracklet is always replaced by
tracklets of the same stretch of footage. Windows done are recorded in `reprocessed`; a window already covered
is not done again. `refine_sighting` does the same for one low-rate sighting's span and keeps only the
tracklets on its own boxes: that person in full detail, the others in those frames left as they were.

`add_missed` analyses a window again and adds only the people on none of its live sightings' boxes.
`pipeline.reprocessor.Reprocessor` runs these for the relay (as its `refine(camera, wall_lo, wall_hi)`
callback, or for `pipeline.ondemand_relay.relay_on_demand`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from relaytrack.config import Config
from relaytrack.pipeline.session import CameraSession, Described, Stages, insert_described
from relaytrack.records import Sighting
from relaytrack.source.open import open_source
from relaytrack.store import Store
from relaytrack.store.sightings import boxes_of


@dataclass(frozen=True)
class SourceSpan:
    """The footage of one camera's source: where it is and which wall times it covers."""

    id: int
    uri: str
    fingerprint: str
    start_wall: float
    fps: float
    analysed_fps: float | None
    frames: int
    width: int
    height: int

    @property
    def end_wall(self) -> float:
        return self.start_wall + self.frames / self.fps


@dataclass
class Window:
    """One re-processed window: its wall-time span, frame range, the frames analysed and what it stored."""

    camera: str
    wall_lo: float
    wall_hi: float
    frame_lo: int
    frame_hi: int
    id: int | None = None
    source_id: int | None = None
    frames: int = 0
    sightings: int = 0
    superseded: int = 0


def frame_range(
    start_wall: float, fps: float, frames: int, wall_lo: float, wall_hi: float
) -> tuple[int, int] | None:
    """1-based frames [first, last] of a source (frame i at wall time start_wall + (i - 1) / fps) covering the
    wall-time window [wall_lo, wall_hi]; None when the window misses the source."""
    if fps <= 0 or frames <= 0 or wall_hi < wall_lo:
        return None
    first = max(1, math.floor((wall_lo - start_wall) * fps + 1e-9) + 1)
    last = min(frames, math.ceil((wall_hi - start_wall) * fps - 1e-9) + 1)
    return (first, last) if first <= last else None


def covered(windows: list[tuple[float, float]], lo: float, hi: float) -> bool:
    """Whether the union of `windows` covers [lo, hi]."""
    reach = lo
    for a, b in sorted(windows):
        if a > reach + 1e-6:
            return False
        reach = max(reach, b)
        if reach >= hi:
            return True
    return reach >= hi


def source_for(conn: Any, camera: str, wall_lo: float, wall_hi: float) -> SourceSpan | None:
    """The camera's original (not re-processing) source overlapping the window most."""
    rows = conn.execute(
        "SELECT id, uri, fingerprint, start_wall, fps, analysed_fps, frames_total, width, height FROM sources"
        " WHERE camera_id=? AND reprocess_of IS NULL AND fps > 0 AND frames_total > 0 AND start_wall <= ?",
        (camera, wall_hi),
    ).fetchall()
    best, best_ov = None, 0.0
    for r in rows:
        s = SourceSpan(
            int(r[0]), r[1], r[2], float(r[3]), float(r[4]), r[5], int(r[6]), int(r[7] or 0), int(r[8] or 0)
        )
        ov = min(wall_hi, s.end_wall) - max(wall_lo, s.start_wall)
        if ov >= 0 and (best is None or ov > best_ov):
            best, best_ov = s, ov
    return best


def done_windows(conn: Any, camera: str, lo: float, hi: float) -> list[tuple[float, float]]:
    """The wall-time spans of `camera` re-processed before that touch [lo, hi]."""
    rows = conn.execute(
        "SELECT wall_lo, wall_hi FROM reprocessed WHERE camera_id=? AND wall_hi >= ? AND wall_lo <= ?",
        (camera, lo, hi),
    ).fetchall()
    return [(float(a), float(b)) for a, b in rows]


def plan_window(
    conn: Any,
    camera: str,
    wall_lo: float,
    wall_hi: float,
    *,
    pad_s: float = 1.0,
    max_extend_s: float = 10.0,
) -> tuple[SourceSpan, Window] | None:
    """The source and frame range to re-process for a window of `camera`; None when nothing to do (no source
    covers it, or windows done before cover it). Only the part not done yet is planned (done windows trim its
    ends); it is padded and widened to cover whole the live low-rate sightings it overlaps that start or end at
    most `max_extend_s` outside it."""
    src = source_for(conn, camera, wall_lo, wall_hi)
    if src is None:
        return None
    lo, hi = max(src.start_wall, wall_lo), min(src.end_wall, wall_hi)
    done = done_windows(conn, camera, lo, hi)
    if covered(done, lo, hi):
        return None
    lo, hi = _trim(lo, hi, done)
    lo, hi = max(src.start_wall, lo - pad_s), min(src.end_wall, hi + pad_s)
    for _ in range(3):  # a widened range may overlap more low-rate sightings; a few rounds settle it
        row = conn.execute(
            "SELECT MIN(wall_start), MAX(wall_end) FROM sightings WHERE camera_id=? AND superseded_by IS NULL"
            " AND wall_end >= ? AND wall_start <= ? AND wall_start >= ? AND wall_end <= ?"
            " AND source_id IN (SELECT id FROM sources WHERE reprocess_of IS NULL)",
            (camera, lo, hi, lo - max_extend_s, hi + max_extend_s),
        ).fetchone()
        if row is None or row[0] is None:
            break
        nlo, nhi = max(src.start_wall, min(lo, float(row[0]))), min(src.end_wall, max(hi, float(row[1])))
        if (nlo, nhi) == (lo, hi):
            break
        lo, hi = nlo, nhi
    # Padding and widening must not reach back into footage done before: without this a sighting crossing
    # a done window's edge pulled every later request back over it, a little wider each time.
    lo, hi = _trim(lo, hi, done)
    if hi - lo < 1e-3 or covered(done, lo, hi):
        return None
    fr = frame_range(src.start_wall, src.fps, src.frames, lo, hi)
    if fr is None:
        return None
    return src, Window(camera, lo, hi, fr[0], fr[1])


def _trim(lo: float, hi: float, done: list[tuple[float, float]]) -> tuple[float, float]:
    """[lo, hi] less the windows done before that cover either end."""
    for _ in range(len(done)):
        for a, b in done:
            if a <= lo + 1e-6 < b:
                lo = b
            if a < hi - 1e-6 <= b:
                hi = a
    return lo, hi


def supersede(conn: Any, window: Window, new_source: int) -> int:
    """Mark the live sightings of the window's camera lying inside its span as superseded by it; returns
    how many. The window's own sightings (`new_source`) are left live."""
    cur = conn.execute(
        "UPDATE sightings SET superseded_by=? WHERE camera_id=? AND superseded_by IS NULL"
        " AND (source_id IS NULL OR source_id<>?) AND wall_start >= ? AND wall_end <= ?",
        (window.id, window.camera, new_source, window.wall_lo - 1e-6, window.wall_hi + 1e-6),
    )
    return int(cur.rowcount or 0)


def reprocess_window(
    store: Store,
    camera: str,
    wall_lo: float,
    wall_hi: float,
    cfg: Config,
    stages: Stages,
    *,
    fps: float | None = None,
    pad_s: float = 1.0,
    max_extend_s: float = 10.0,
) -> Window | None:
    """Analyse a window of `camera` again at `fps` (None: every frame of the source) and store the result;
    returns the window done, or None when there was nothing to do."""
    planned = plan_window(store.conn, camera, wall_lo, wall_hi, pad_s=pad_s, max_extend_s=max_extend_s)
    if planned is None:
        return None
    src, win = planned
    described, rate = _analyse(store, src, win, cfg, stages, fps)
    with store.tx() as conn:
        _record(conn, win, rate, src)
        win.superseded = supersede(conn, win, win.source_id)
        _store(conn, win, described)
    return win


def refine_sighting(
    store: Store,
    sighting: Sighting,
    cfg: Config,
    stages: Stages,
    *,
    fps: float | None = None,
    pad_s: float = 1.0,
) -> Window | None:
    """Analyse one low-rate sighting's span again at `fps` and replace it by the tracklets of the same person
    (`same_person`: on its boxes at the same moment, IoU >= 0.3, never two at once); the other people in those
    frames keep their low-rate sightings, so nobody is stored twice. Returns the window analysed (`superseded`
    0 when the re-analysis found nobody on its boxes: the sighting then stays live), or None when it is not a
    live low-rate sighting or no footage covers it."""
    live = store.conn.execute(
        "SELECT 1 FROM sightings WHERE id=? AND superseded_by IS NULL"
        " AND source_id IN (SELECT id FROM sources WHERE reprocess_of IS NULL)",
        (sighting.id,),
    ).fetchone()
    src = source_for(store.conn, sighting.camera, sighting.wall_start, sighting.wall_end) if live else None
    if src is None:
        return None
    lo = max(src.start_wall, sighting.wall_start - pad_s)
    hi = min(src.end_wall, sighting.wall_end + pad_s)
    fr = frame_range(src.start_wall, src.fps, src.frames, lo, hi)
    if fr is None:
        return None
    win = Window(sighting.camera, lo, hi, fr[0], fr[1])
    described, rate = _analyse(store, src, win, cfg, stages, fps, tag=f"/s{sighting.id}")
    own = {int(b[0]): corners(b) for b in boxes_of(store.conn, sighting.id)}
    near = max(1, round(0.25 * src.fps))
    same = same_person(described, own, near)
    with store.tx() as conn:
        _record(conn, win, rate, src)
        if same:
            cur = conn.execute("UPDATE sightings SET superseded_by=? WHERE id=?", (win.id, sighting.id))
            win.superseded = int(cur.rowcount or 0)
        _store(conn, win, same)
    return win


def add_missed(
    store: Store,
    camera: str,
    wall_lo: float,
    wall_hi: float,
    cfg: Config,
    stages: Stages,
    *,
    fps: float | None = None,
    pad_s: float = 1.0,
) -> Window | None:
    """Analyse a window of `camera` again at `fps` and add only the people the low-rate index missed there:
    re-analysed tracklets on none of the live sightings' boxes. Nothing is superseded, so what the index
    already holds (and a route already built on it) keeps its reads; the window is recorded as done. None
    when no footage covers the window or it was done before."""
    # The padded window as asked, less footage done before; never widened to whole sightings (none is replaced).
    planned = plan_window(store.conn, camera, wall_lo - pad_s, wall_hi + pad_s, pad_s=0.0, max_extend_s=0.0)
    if planned is None:
        return None
    src, win = planned
    lo, hi = win.wall_lo, win.wall_hi
    described, rate = _analyse(store, src, win, cfg, stages, fps, tag="/missed")
    near = max(1, round(0.25 * src.fps))
    live = store.conn.execute(
        "SELECT id FROM sightings WHERE camera_id=? AND superseded_by IS NULL AND wall_end >= ? AND wall_start <= ?"
        " AND (source_id IS NULL OR source_id<>?)",
        (camera, lo - pad_s, hi + pad_s, win.source_id),
    ).fetchall()
    owns = [{int(b[0]): corners(b) for b in boxes_of(store.conn, int(r[0]))} for r in live]
    new = [d for d in described if not any(_on_boxes(d, own, near) for own in owns)]
    with store.tx() as conn:
        _record(conn, win, rate, src)
        _store(conn, win, new)
    return win


XYXY = tuple[float, float, float, float]


def corners(row) -> XYXY:
    """A stored box row (frame, t, x, y, w, h, ...) as corners."""
    x, y, w, h = (float(v) for v in row[2:6])
    return (x, y, x + w, y + h)


def _on_boxes(d: Described, own: dict[int, XYXY], near: int, min_iou: float = 0.3) -> int:
    """How many of a re-analysed tracklet's boxes lie on the sighting's boxes (`hits_on`)."""
    return hits_on([(int(b.frame), b.xyxy) for b in d.tracklet.boxes], own, near, min_iou)


def hits_on(boxes: list[tuple[int, XYXY]], own: dict[int, XYXY], near: int, min_iou: float = 0.3) -> int:
    """How many of `boxes` (frame, xyxy) lie on `own` (frame -> xyxy): IoU >= `min_iou` with its box on the
    same frame or one at most `near` frames away (the two rates' frame grids need not line up)."""
    if not own:
        return 0
    frames = np.array(sorted(own))
    hits = 0
    for f, b in boxes:
        k = int(np.abs(frames - f).argmin())
        if abs(int(frames[k]) - f) > near:
            continue
        o = own[int(frames[k])]
        ix = max(0.0, min(o[2], b[2]) - max(o[0], b[0]))
        iy = max(0.0, min(o[3], b[3]) - max(o[1], b[1]))
        inter = ix * iy
        union = (o[2] - o[0]) * (o[3] - o[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        hits += bool(union > 0 and inter / union >= min_iou)
    return hits


def same_person(
    described: list[Described], own: dict[int, tuple[float, float, float, float]], near: int
) -> list[Described]:
    """The re-analysed tracklets that replace a sighting: those on its boxes, most boxes on them first, none
    overlapping in time by more than a fifth of its length one already kept (a crossing re-tracked from a cold
    start can put two tracklets on one person at once; two would split the relay's belief between them),
    in time order. Fragments one after another (an occlusion) are all kept."""
    scored = sorted(((_on_boxes(d, own, near), d) for d in described), key=lambda x: -x[0])
    kept: list[Described] = []
    for hits, d in scored:
        if hits == 0:
            break
        a0, a1 = d.tracklet.boxes[0].frame, d.tracklet.boxes[-1].frame
        overlap = max(
            (min(a1, k.tracklet.boxes[-1].frame) - max(a0, k.tracklet.boxes[0].frame) for k in kept),
            default=-1,
        )
        if overlap <= 0.2 * max(a1 - a0, 1):
            kept.append(d)
    return sorted(kept, key=lambda d: d.tracklet.boxes[0].frame)


def _analyse(
    store: Store, src: SourceSpan, win: Window, cfg: Config, stages: Stages, fps: float | None, tag: str = ""
) -> tuple[list[Described], float | None]:
    """Run the one pipeline over the window's frames under a source row of its own (status running until
    `_store`; `tag` keeps the row's fingerprint unique where two refinements share a frame range); returns
    the described tracklets and the rate used (None: every frame)."""
    rate = fps if fps and fps < src.fps else None
    scfg = cfg.source.model_copy(update={"analyse_fps": rate, "motion_gate": False})
    with store.tx() as conn:
        cur = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, analysed_fps, width, height,"
            " frames_total, status, checkpoint_frame, reprocess_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                win.camera,
                src.uri,
                f"{src.fingerprint}#re{win.frame_lo}-{win.frame_hi}@{rate or src.fps:g}{tag}",
                src.start_wall,
                src.fps,
                rate or src.fps,
                src.width,
                src.height,
                src.frames,
                "running",
                win.frame_lo - 1,
                src.id,
            ),
        )
        win.source_id = int(cur.lastrowid)
    session = CameraSession(
        stages, win.camera, (src.width, src.height), source_id=win.source_id, start_wall=src.start_wall
    )
    described: list[Described] = []
    for frame in open_source(src.uri, win.camera, scfg, src.start_wall, start_index=win.frame_lo):
        if frame.index > win.frame_hi:
            break
        step = session.step(frame)
        win.frames += 1
        described.extend(session.describe(step.finished))
    described.extend(session.describe(session.finish()))
    return described, rate


def _record(conn: Any, win: Window, rate: float | None, src: SourceSpan) -> None:
    cur = conn.execute(
        "INSERT INTO reprocessed(camera_id, source_id, wall_lo, wall_hi, frame_lo, frame_hi, fps, frames)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            win.camera,
            win.source_id,
            win.wall_lo,
            win.wall_hi,
            win.frame_lo,
            win.frame_hi,
            rate or src.fps,
            win.frames,
        ),
    )
    win.id = int(cur.lastrowid)


def _store(conn: Any, win: Window, described: list[Described]) -> None:
    for d in described:
        insert_described(conn, d)
    win.sightings = len(described)
    conn.execute(
        "UPDATE reprocessed SET sightings=?, superseded=? WHERE id=?", (win.sightings, win.superseded, win.id)
    )
    conn.execute(
        "UPDATE sources SET status='complete', checkpoint_frame=? WHERE id=?", (win.frame_hi, win.source_id)
    )
