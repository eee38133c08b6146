"""Scoring stored sightings against MOTChallenge ground truth with global identities (synthetic town).

A sighting's true identity is the GT id its boxes overlap most (IoU >= 0.5 on the same frames); tracking
IDF1/HOTA is computed by TrackEval on the analysed frames only, renumbered 1..n so that a pipeline that
analyses every other frame is not charged for frames it never looked at.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from relaytrack.source.motio import read_mot, seqinfo


def _iou_one(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one xywh box against many xywh boxes."""
    x1 = np.maximum(a[0], b[:, 0])
    y1 = np.maximum(a[1], b[:, 1])
    x2 = np.minimum(a[0] + a[2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[1] + a[3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / np.maximum(a[2] * a[3] + b[:, 2] * b[:, 3] - inter, 1e-9)


def sighting_identities(conn, camera: str, gt_file: Path, min_iou: float = 0.5) -> dict[int, int | None]:
    """{sighting id: GT identity (or None when its boxes match nobody)} for one camera's person sightings."""
    gt = read_mot(gt_file)
    by_frame: dict[int, np.ndarray] = {}
    for f in np.unique(gt[:, 0]).astype(int) if len(gt) else []:
        by_frame[int(f)] = gt[gt[:, 0] == f]
    out: dict[int, int | None] = {}
    rows = conn.execute(
        "SELECT s.id, b.frame, b.x, b.y, b.w, b.h FROM sightings s JOIN boxes b ON b.sighting_id = s.id"
        " WHERE s.camera_id = ? AND s.kind = 'person' ORDER BY s.id", (camera,)
    ).fetchall()
    votes: dict[int, Counter] = {}
    for sid, frame, x, y, w, h in rows:
        votes.setdefault(sid, Counter())
        g = by_frame.get(int(frame))
        if g is None or not len(g):
            votes[sid][None] += 1
            continue
        iou = _iou_one(np.array([x, y, w, h]), g[:, 2:6])
        j = int(iou.argmax())
        votes[sid][int(g[j, 1]) if iou[j] >= min_iou else None] += 1
    for sid, c in votes.items():
        ident, n = c.most_common(1)[0]
        if ident is None and len(c) > 1:
            ident, n = [kv for kv in c.most_common(2) if kv[0] is not None][0]
        # A sighting is someone's only if that person owns a fair share of its boxes.
        out[sid] = ident if ident is not None and n >= 0.3 * sum(c.values()) else None
    return out


def town_identities(conn, town_dir: Path, cameras: list[str], min_iou: float = 0.5) -> dict[int, int | None]:
    """`sighting_identities` over a rendered town's cameras (their `mot/<camera>/gt/gt.txt`; a camera without
    one is skipped): {sighting id: true person id or None}."""
    out: dict[int, int | None] = {}
    for cam in cameras:
        gt = Path(town_dir) / "mot" / cam / "gt" / "gt.txt"
        if gt.is_file():
            out.update(sighting_identities(conn, cam, gt, min_iou))
    return out


def route_identities(conn, route, mot_root: Path, min_iou: float = 0.5) -> dict[int, int | None]:
    """{sighting id: GT identity} for every sighting of a route (origin included), by sighting_identities on
    each of the route's cameras (mot_root/<camera>/gt/gt.txt): what relay.evaluate.route_scores judges by."""
    ids = {h.sighting.id for h in route.hops}
    out: dict[int, int | None] = {}
    for cam in sorted({h.sighting.camera for h in route.hops}):
        gt = Path(mot_root) / cam / "gt" / "gt.txt"
        found = sighting_identities(conn, cam, gt, min_iou) if gt.exists() else {}
        out.update({sid: ident for sid, ident in found.items() if sid in ids})
    return out


def tracking_scores(conn, cameras: dict[str, Path], analysed: dict[str, list[int]]) -> dict[str, float]:
    """TrackEval HOTA/IDF1/MOTA over all cameras, on the analysed frames only.

    cameras: {camera id: MOT sequence folder with gt/gt.txt}; analysed: {camera id: analysed frame numbers}.
    """
    from relaytrack.bench.mot import trackeval_scores

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = []
        for cam, seq in cameras.items():
            frames = analysed.get(cam) or []
            if not frames:
                continue
            remap = {f: k for k, f in enumerate(frames, 1)}
            gt = read_mot(seq / "gt" / "gt.txt")
            gt_lines = [f"{remap[int(r[0])]},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,1,1"
                        for r in gt if int(r[0]) in remap and r[6] != 0]
            d = root / "gt" / cam
            (d / "gt").mkdir(parents=True)
            (d / "gt" / "gt.txt").write_text("".join(line + "\n" for line in gt_lines))
            (d / "seqinfo.ini").write_text(f"[Sequence]\nname={cam}\nseqLength={len(frames)}\n")
            pred = conn.execute(
                "SELECT b.frame, s.track_id, b.x, b.y, b.w, b.h FROM sightings s JOIN boxes b ON b.sighting_id = s.id"
                " WHERE s.camera_id = ? AND s.kind = 'person'", (cam,)
            ).fetchall()
            lines = [f"{remap[int(f)]},{int(t)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},1,-1,-1,-1"
                     for f, t, x, y, w, h in pred if int(f) in remap]
            td = root / "trackers" / "relaytrack" / "data"
            td.mkdir(parents=True, exist_ok=True)
            (td / f"{cam}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
            names.append(cam)
        if not names:
            return {}
        return trackeval_scores(root, names, ["relaytrack"])["relaytrack"]


def footage_transitions(town_dir: Path, fps: float | None = None) -> dict[tuple[str, str], list[float]]:
    """The camera-to-camera transitions the people of a rendered town really made in its footage, from the
    ground truth (`mot/<camera>/gt/gt.txt`, cameras and start times from `cameras.yaml`): per true person, the
    runs of frames on each camera (a gap over a second starts a new run) in time order; each change of camera
    adds its gap (next entered - previous left, seconds) under (src, dst). What traffic could teach a learner;
    links nobody walked are not in it."""
    import datetime as dt

    import yaml

    town_dir = Path(town_dir)
    reg = yaml.safe_load((town_dir / "cameras.yaml").read_text(encoding="utf-8")) or {}
    visits: dict[int, list[tuple[float, float, str]]] = {}
    for cam in reg.get("cameras") or []:
        gt = town_dir / "mot" / cam["id"] / "gt" / "gt.txt"
        if not gt.is_file():
            continue
        rate = fps or float(seqinfo(gt.parent.parent).get("frameRate", 10))
        start = dt.datetime.fromisoformat(str(cam["start_time"])).timestamp() if cam.get("start_time") else 0.0
        rows = read_mot(gt)
        for pid in np.unique(rows[:, 1]).astype(int) if len(rows) else []:
            frames = np.sort(rows[rows[:, 1] == pid, 0])
            for run in np.split(frames, np.nonzero(np.diff(frames) > rate)[0] + 1):
                visits.setdefault(pid, []).append(
                    (start + (run[0] - 1) / rate, start + (run[-1] - 1) / rate, str(cam["id"]))
                )
    out: dict[tuple[str, str], list[float]] = {}
    for vs in visits.values():
        vs.sort()
        for a, b in zip(vs, vs[1:], strict=False):
            if a[2] != b[2]:
                out.setdefault((a[2], b[2]), []).append(b[0] - a[1])
    return out


def stored_retrieval(conn, identities: dict[int, int | None]):
    """Cross-camera retrieval (`reid.metrics.Retrieval`) of the stored person sightings that are a known
    person, with the vectors the store holds: what the pipeline's crops and the store's model give (the re-id
    bench scores ground-truth tracklets instead). None when fewer than two are known."""
    from relaytrack.reid.metrics import cross_camera

    rows = conn.execute(
        "SELECT id, camera_id, embedding FROM sightings WHERE kind='person' AND embedding IS NOT NULL"
    ).fetchall()
    rows = [r for r in rows if identities.get(r[0]) is not None]
    if len(rows) < 2:
        return None
    emb = np.stack([np.frombuffer(r[2], np.float32) for r in rows])
    return cross_camera(emb, [str(identities[r[0]]) for r in rows], [r[1] for r in rows])
