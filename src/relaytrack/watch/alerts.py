"""Alerts: records, storage, per-camera lifecycle (de-duplication, throttling, clips with pre/post roll).

An alert opens the moment a track's courier score crosses the threshold (that is the operator's signal and
what the latency is measured to), is updated while the stop goes on, and closes when the track leaves; the
clip (MJPEG .avi from the camera's bounded ring buffer of recent frames) and key-moment JPEGs are written
once the post-roll has been seen.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.clock import maybe_iso
from relaytrack.errors import InputError, NotFound
from relaytrack.watch.config import AlertConfig
from relaytrack.watch.signals import Assessment


@dataclass
class Alert:
    camera: str
    start: float
    end: float
    score: float
    reasons: list[str]
    kind: str = "courier"
    id: int | None = None
    track: int | None = None
    zone: str | None = None
    zone_kind: str | None = None
    decided: float | None = None
    wall_start: float | None = None
    wall_decided: float | None = None
    explanation: str = ""
    signals: dict[str, Any] = field(default_factory=dict)
    boxes: list[list[float]] = field(default_factory=list)  # [frame, t, x, y, w, h]
    clip: str | None = None
    keyframes: list[str] = field(default_factory=list)
    sighting: int | None = None
    status: str = "new"
    suppressed: bool = False
    latency_s: float | None = None
    source_uri: str | None = None
    source_id: int | None = None

    def public(self) -> dict[str, Any]:
        """The JSON of `relaytrack watch --json` (contract keys first)."""
        return {
            "camera": self.camera,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            # Seoul wall-clock time of the stop and of the decision (ISO 8601, +09:00); None when unknown.
            "start_time": maybe_iso(self.wall_start),
            "end_time": maybe_iso(self.wall_start + (self.end - self.start)) if self.wall_start else None,
            "decided_time": maybe_iso(self.wall_decided),
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
            "clip": self.clip,
            "alert_id": self.id,
            "kind": self.kind,
            "track": self.track,
            "zone": self.zone,
            "zone_kind": self.zone_kind,
            "decided": None if self.decided is None else round(self.decided, 2),
            "explanation": self.explanation,
            "signals": self.signals,
            "keyframes": self.keyframes,
            "sighting": self.sighting,
            "status": self.status,
            "latency_s": None if self.latency_s is None else round(self.latency_s, 3),
        }


# ---------------------------------------------------------------------------------------------- storage

_COLS = (
    "kind, camera_id, source_uri, source_id, track_id, zone_id, zone_kind, start_s, end_s, decided_s, "
    "wall_start, wall_decided, score, reasons, explanation, signals, boxes, clip_path, keyframes, sighting_id, "
    "status, suppressed, latency_s"
)


def _row_values(a: Alert) -> tuple:
    return (
        a.kind, a.camera, a.source_uri, a.source_id, a.track, a.zone, a.zone_kind, a.start, a.end, a.decided,
        a.wall_start, a.wall_decided, a.score, json.dumps(a.reasons, ensure_ascii=False), a.explanation,
        json.dumps(a.signals, ensure_ascii=False), json.dumps(a.boxes), a.clip, json.dumps(a.keyframes),
        a.sighting, a.status, int(a.suppressed), a.latency_s,
    )  # fmt: skip


def insert_alert(conn, a: Alert) -> int:
    cur = conn.execute(f"INSERT INTO alerts({_COLS}) VALUES ({','.join('?' * 23)})", _row_values(a))
    a.id = int(cur.lastrowid)
    return a.id


def update_alert(conn, a: Alert) -> None:
    sets = ", ".join(f"{c.strip()}=?" for c in _COLS.split(","))
    conn.execute(f"UPDATE alerts SET {sets} WHERE id=?", (*_row_values(a), a.id))


def row_to_alert(r) -> Alert:
    return Alert(
        id=r["id"], kind=r["kind"], camera=r["camera_id"], source_uri=r["source_uri"], source_id=r["source_id"],
        track=r["track_id"], zone=r["zone_id"], zone_kind=r["zone_kind"], start=r["start_s"] or 0.0,
        end=r["end_s"] or 0.0, decided=r["decided_s"], wall_start=r["wall_start"], wall_decided=r["wall_decided"],
        score=r["score"], reasons=json.loads(r["reasons"] or "[]"), explanation=r["explanation"] or "",
        signals=json.loads(r["signals"] or "{}"), boxes=json.loads(r["boxes"] or "[]"), clip=r["clip_path"],
        keyframes=json.loads(r["keyframes"] or "[]"), sighting=r["sighting_id"], status=r["status"],
        suppressed=bool(r["suppressed"]), latency_s=r["latency_s"],
    )  # fmt: skip


def list_alerts(
    conn,
    *,
    camera: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    include_suppressed: bool = False,
    limit: int = 100,
) -> list[Alert]:
    where, args = [], []
    if camera:
        where.append("camera_id=?")
        args.append(camera)
    if status:
        where.append("status=?")
        args.append(status)
    if kind:
        where.append("kind=?")
        args.append(kind)
    if not include_suppressed:
        where.append("suppressed=0")
    sql = "SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY id DESC LIMIT ?"
    return [row_to_alert(r) for r in conn.execute(sql, (*args, limit)).fetchall()]


def page_alerts(
    conn, *, after: int | None = None, before: int | None = None, limit: int = 100, camera: str | None = None
) -> list[Alert]:
    """Shown (not throttled) alerts paged by id: newest first below `before`; with `after`, those with a
    larger id oldest first (a live stream's order, resuming from the last id it sent)."""
    where, args = ["suppressed = 0", "id > ?"], [int(after or 0)]
    if before:
        where.append("id < ?")
        args.append(int(before))
    if camera:
        where.append("camera_id = ?")
        args.append(camera)
    order = "ASC" if after is not None else "DESC"
    rows = conn.execute(
        f"SELECT * FROM alerts WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?", [*args, int(limit)]
    ).fetchall()
    return [row_to_alert(r) for r in rows]


def max_alert_id(conn) -> int:
    """The newest alert's id (0 when none): where a live stream starts."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM alerts").fetchone()[0])


def get_alert(conn, alert_id: int) -> Alert:
    r = conn.execute("SELECT * FROM alerts WHERE id=?", (alert_id,)).fetchone()
    if r is None:
        raise NotFound(f"alert {alert_id}: no such alert")
    return row_to_alert(r)


def ack_alert(conn, alert_id: int, user: str, *, false_alarm: bool = False, note: str | None = None) -> Alert:
    """Operator feedback: acknowledged or false alarm; the measured signals are kept with it for tuning."""
    a = get_alert(conn, alert_id)
    verdict = "false_alarm" if false_alarm else "ack"
    if note is not None and len(note) > 2000:
        raise InputError("ack note longer than 2000 characters")
    conn.execute(
        "INSERT INTO alert_feedback(alert_id, user_name, verdict, note, score, signals) VALUES (?,?,?,?,?,?)",
        (alert_id, user, verdict, note, a.score, json.dumps(a.signals, ensure_ascii=False)),
    )
    conn.execute(
        "UPDATE alerts SET status=? WHERE id=?", ("false_alarm" if false_alarm else "acked", alert_id)
    )
    a.status = "false_alarm" if false_alarm else "acked"
    return a


def feedback(conn, alert_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT user_name, verdict, note, created_at FROM alert_feedback WHERE alert_id=? ORDER BY id",
        (alert_id,),
    ).fetchall()
    return [dict(r) for r in rows]


def set_camera_status(conn, camera: str, uri: str | None, state: str, **kw: Any) -> None:
    conn.execute(
        "INSERT INTO camera_status(camera_id, uri, state, since) VALUES (?,?,?,?) ON CONFLICT(camera_id) DO UPDATE"
        " SET uri=excluded.uri, state=excluded.state, since=CASE WHEN camera_status.state=excluded.state"
        " THEN camera_status.since ELSE excluded.since END, updated_at=CURRENT_TIMESTAMP",
        (camera, uri, state, time.time()),
    )
    for k in ("last_frame_wall", "frames", "bad_frames", "reconnects", "error"):
        if k in kw:
            conn.execute(f"UPDATE camera_status SET {k}=? WHERE camera_id=?", (kw[k], camera))


# ---------------------------------------------------------------------------------------------- frames


class FrameRing:
    """Bounded ring buffer of recent frames of one camera, JPEG-encoded and downscaled (clips, key frames)."""

    def __init__(self, cfg: AlertConfig) -> None:
        self.cfg = cfg
        self.items: deque[tuple[int, float, bytes]] = deque(maxlen=int(cfg.buffer_s * cfg.clip_fps) + 2)
        self.scale = 1.0
        self._next_t: float | None = None

    def add(self, index: int, t: float, image: np.ndarray, force: bool = False) -> None:
        import cv2

        if not force and self._next_t is not None and t + 1e-6 < self._next_t:
            return
        self._next_t = t + 1.0 / self.cfg.clip_fps
        h, w = image.shape[:2]
        self.scale = min(1.0, self.cfg.clip_max_side / max(h, w))
        img = (
            image if self.scale >= 1.0 else cv2.resize(image, (round(w * self.scale), round(h * self.scale)))
        )
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            self.items.append((index, t, buf.tobytes()))

    def between(self, t0: float, t1: float) -> list[tuple[int, float, bytes]]:
        return [it for it in self.items if t0 - 1e-6 <= it[1] <= t1 + 1e-6]

    def nearest(self, t: float) -> tuple[int, float, bytes] | None:
        return min(self.items, key=lambda it: abs(it[1] - t), default=None)


def _decode(jpeg: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def _annotate(img: np.ndarray, a: Alert, polygon: np.ndarray | None, frame: int, scale: float) -> np.ndarray:
    import cv2

    out = img.copy()
    if polygon is not None:
        cv2.polylines(out, [np.round(polygon * scale).astype(np.int32)], True, (0, 200, 255), 2)
    box = min(a.boxes, key=lambda b: abs(b[0] - frame), default=None)
    if box is not None:
        x, y, w, h = (v * scale for v in box[2:6])
        cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 0, 255), 2)
    cv2.putText(
        out, f"{a.camera} score {a.score:.2f}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1
    )
    return out


def write_clip(
    ring: FrameRing, a: Alert, t0: float, t1: float, folder: Path, polygon: np.ndarray | None
) -> str | None:
    """MJPEG .avi of the ring-buffer frames between t0 and t1, boxes and zone drawn; returns its path."""
    import cv2

    items = ring.between(t0, t1)
    if not items:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"alert-{a.id}-{a.camera}-t{int(a.track or 0)}.avi"
    first = _decode(items[0][2])
    h, w = first.shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(ring.cfg.clip_fps), (w, h))
    try:
        for index, _t, jpeg in items:
            img = _decode(jpeg)
            if img is None or img.shape[:2] != (h, w):
                continue
            vw.write(_annotate(img, a, polygon, index, ring.scale))
    finally:
        vw.release()
    return str(path)


def write_keyframes(
    ring: FrameRing, a: Alert, moments: dict[str, tuple[int, float]], folder: Path, polygon, limit: int
) -> list[str]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    order = [k for k in ("reach", "crouch", "phone", "decision", "stop") if k in moments]
    for name in order[:limit]:
        it = ring.nearest(moments[name][1])
        if it is None:
            continue
        img = _decode(it[2])
        if img is None:
            continue
        p = folder / f"alert-{a.id}-{name}.jpg"
        cv2.imwrite(str(p), _annotate(img, a, polygon, it[0], ring.scale))
        out.append(str(p))
    return out


# ---------------------------------------------------------------------------------------------- lifecycle


@dataclass
class _Open:
    alert: Alert
    assessment: Assessment
    last_t: float
    moments: dict[str, tuple[int, float]]
    closing_at: float | None = None


class AlertBook:
    """One camera's alert lifecycle. `persist(alert, new)` stores (insert or update) an alert."""

    def __init__(
        self,
        camera: str,
        cfg: AlertConfig,
        clips_dir: Path | None,
        persist=None,
        source_uri: str | None = None,
        source_id: int | None = None,
        start_wall: float = 0.0,
    ) -> None:
        self.camera = camera
        self.cfg = cfg
        self.clips_dir = clips_dir
        self.persist = persist or (lambda a, new: None)
        self.source_uri, self.source_id, self.start_wall = source_uri, source_id, start_wall
        self.ring = FrameRing(cfg)
        self.open: dict[int, _Open] = {}
        # Bounded for 24/7 cameras: track -> zones it already alerted for (oldest tracks forgotten first).
        self.alerted: OrderedDict[int, set[str]] = OrderedDict()
        self.recent: deque[float] = deque(maxlen=1000)  # decision times (source seconds) for the throttle
        self.emitted: deque[Alert] = deque(maxlen=2000)  # recent alerts (sighting links arrive later)
        self.n_emitted = 0
        self.suppressed = 0
        self.max_score = 0.0  # highest score seen on this camera (how close non-alerts came, for tuning)
        self.history_fn = None  # track id -> [(frame, t, xyxy), ...] (the watch's per-track history)
        self.zone_alerted: dict[str, float] = {}  # zone -> last time an alert of it was raised or updated
        # track -> its latest undecided assessment over the threshold (decide_on_departure), with its frame
        self.pending: dict[int, tuple[Assessment, int, float, dict, float]] = {}

    def on_frame(
        self,
        index: int,
        t: float,
        image: np.ndarray,
        assessments: list[Assessment],
        boxes: dict[int, tuple],
        capture_wall: float,
    ) -> list[Alert]:
        """Feed one analysed frame; returns alerts raised at this frame."""
        self.ring.add(index, t, image, force=bool(self.open) or bool(assessments))
        for tid, xyxy in boxes.items():
            if tid in self.open:
                self.open[tid].alert.boxes.append(_box(index, t, xyxy))
        raised = []
        live = set()
        for a in assessments:
            if a.superseded:  # the stay goes on under another track, which decides it
                self.pending.pop(a.track_id, None)
                continue
            if a.final or a.score < self.cfg.threshold:
                self.pending.pop(a.track_id, None)
            self.max_score = max(self.max_score, a.score)
            op = self.open.get(a.track_id)
            if op is not None and op.assessment.zone.id == a.zone.id:
                if a.stop.closed:  # the track left the spot: the alert closes (after the post-roll)
                    continue
                live.add(a.track_id)
                op.last_t, op.closing_at = t, None
                if a.score >= op.alert.score:
                    op.alert.score, op.alert.reasons, op.alert.explanation = a.score, a.reasons, a.explanation
                    op.alert.signals = a.signals
                op.assessment = a
                op.alert.end = t
                op.moments.update(a.stop.key)
                self.zone_alerted[a.zone.id] = t
                continue
            if a.score < self.cfg.threshold or a.zone.id in self.alerted.get(a.track_id, set()):
                continue
            if self.cfg.decide_on_departure and not a.final:
                # Decided once the person left the spot (innocent cues need the departure); kept so that a
                # source ending while they are still there decides on what it showed.
                self.pending[a.track_id] = (a, index, t, dict(boxes), capture_wall)
                continue
            self.pending.pop(a.track_id, None)
            if t - self.zone_alerted.get(a.zone.id, -math.inf) <= self.cfg.zone_dedupe_s:
                # The same spot alerted a moment ago under another track: most often the same person whose
                # track broke (an occlusion, a crouch the tracker lost), not a second drop.
                self.alerted.setdefault(a.track_id, set()).add(a.zone.id)
                continue
            if op is not None:
                self._finish(a.track_id)
            raised.extend(self._raise(a, index, t, boxes, capture_wall))
        for tid, op in list(self.open.items()):
            if tid not in live and op.closing_at is None:
                op.closing_at = op.last_t
            if op.closing_at is not None and t >= op.closing_at + self.cfg.post_roll_s:
                self._finish(tid)
        return raised

    def _raise(self, a: Assessment, index: int, t: float, boxes: dict, capture_wall: float) -> list[Alert]:
        self.alerted.setdefault(a.track_id, set()).add(a.zone.id)
        self.zone_alerted[a.zone.id] = t
        while len(self.alerted) > 5000:
            self.alerted.popitem(last=False)
        while self.recent and t - self.recent[0] > self.cfg.throttle_window_s:
            self.recent.popleft()
        suppressed = len(self.recent) >= self.cfg.throttle_max
        alert = Alert(
            camera=self.camera, start=a.stop.start, end=t, score=a.score, reasons=a.reasons, track=a.track_id,
            zone=a.zone.id, zone_kind=a.zone.kind, decided=t, wall_start=self.start_wall + a.stop.start,
            wall_decided=self.start_wall + t, explanation=a.explanation, signals=a.signals,
            suppressed=suppressed, source_uri=self.source_uri, source_id=self.source_id,
        )  # fmt: skip
        alert.boxes = [_box(i, bt, xyxy) for i, bt, xyxy in self._history(a, boxes, index, t)]
        if suppressed:
            self.suppressed += 1
            self.persist(alert, True)
            return []
        self.recent.append(t)
        self.persist(alert, True)
        alert.latency_s = time.time() - capture_wall
        self.persist(alert, False)
        moments = dict(a.stop.key)
        moments["decision"] = (index, t)
        self.open[a.track_id] = _Open(alert, a, t, moments)
        self.emitted.append(alert)
        self.n_emitted += 1
        return [alert]

    def _history(self, a: Assessment, boxes: dict, index: int, t: float):
        if self.history_fn is not None:
            hist = self.history_fn(a.track_id)
            if hist:
                return list(hist)
        return [(index, t, boxes[a.track_id])] if a.track_id in boxes else []

    def _finish(self, tid: int) -> None:
        op = self.open.pop(tid, None)
        if op is None:
            return
        a = op.alert
        if self.clips_dir is not None and self.cfg.clips:
            folder = self.clips_dir / self.camera
            poly = op.assessment.zone.polygon
            a.clip = write_clip(
                self.ring, a, a.start - self.cfg.pre_roll_s, op.last_t + self.cfg.post_roll_s, folder, poly
            )
            a.keyframes = write_keyframes(self.ring, a, op.moments, folder, poly, self.cfg.keyframes)
        self.persist(a, False)

    def decide_pending(
        self, tracks: list[int] | None = None, finals: list[Assessment] | None = None
    ) -> list[Alert]:
        """Alerts still waiting for a departure, decided on what was seen: for tracks the tracker ended (or all,
        at the end of the source), with the final assessment of the stop where the watch gave one (`finals`:
        the departure is known then). Returns the alerts raised."""
        raised = []
        last = {a.track_id: a for a in finals or []}
        for tid in list(self.pending) if tracks is None else [t for t in tracks if t in self.pending]:
            a, index, t, boxes, capture_wall = self.pending.pop(tid)
            a = last.get(tid, a)
            if a.superseded:
                continue
            if a.score >= self.cfg.threshold and a.zone.id not in self.alerted.get(a.track_id, set()):
                raised.extend(self._raise(a, index, t, boxes, capture_wall))
        return raised

    def finish_all(self) -> list[Alert]:
        """End of the source: pending decisions are made, then every open alert is finished. Returns the
        alerts raised here."""
        raised = self.decide_pending()
        for tid in list(self.open):
            self._finish(tid)
        return raised

    def link_sighting(self, track_id: int, sighting_id: int) -> None:
        for a in self.emitted:
            if a.track == track_id and a.sighting is None:
                a.sighting = sighting_id
                self.persist(a, False)


def _box(index: int, t: float, xyxy) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return [int(index), round(float(t), 3), round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1)]
