"""The vehicles' ground truth: their boxes and plate boxes per frame (from the render), and their entries in
truth.json (kind, colour, plate, route on the map, camera visits, riders and where they got in)."""

from __future__ import annotations

import cv2
import numpy as np

MIN_VEHICLE_H = 8  # vehicle boxes lower than this (pixels) are not recorded
MIN_PLATE_H = 3.0  # nor plates lower than this


def vehicle_rows(cars: list, bodies: dict, painted: dict[int, list], labels: np.ndarray) -> dict:
    """One camera's vehicle boxes and plate boxes (with the plate's projected height and width) of a frame,
    after compositing (labels: the sprite index on top per pixel; a vehicle's body sprite is 100000 + 4k)."""
    H, W = labels.shape
    out: dict[str, list] = {"vehicles": [], "plates": []}
    for k, s in bodies.items():
        v = cars[k][0]
        idx = 100_000 + k * 4
        body = s.alpha > 0.5
        total = int(body.sum())
        h, w = body.shape
        xa, ya, xb, yb = max(0, s.x0), max(0, s.y0), min(W, s.x0 + w), min(H, s.y0 + h)
        if total == 0 or xb <= xa or yb <= ya:
            continue
        sub = body[ya - s.y0 : yb - s.y0, xa - s.x0 : xb - s.x0]
        vis = int((sub & (labels[ya:yb, xa:xb] == idx)).sum()) / total
        ys, xs = np.nonzero(s.alpha > 0.35)
        x1, y1 = max(0, int(xs.min()) + s.x0), max(0, int(ys.min()) + s.y0)
        x2, y2 = min(W, int(xs.max()) + 1 + s.x0), min(H, int(ys.max()) + 1 + s.y0)
        if y2 - y1 >= MIN_VEHICLE_H and x2 > x1 and vis > 0.05:
            out["vehicles"].append((v.id, (x1, y1, x2, y2), vis))
        for face, uv, _depth in painted.get(k, []):
            height = float((np.linalg.norm(uv[3] - uv[0]) + np.linalg.norm(uv[2] - uv[1])) / 2)
            width = float((np.linalg.norm(uv[1] - uv[0]) + np.linalg.norm(uv[2] - uv[3])) / 2)
            lo = np.maximum(np.floor(uv.min(axis=0)).astype(int), 0)
            hi = np.minimum(np.ceil(uv.max(axis=0)).astype(int) + 1, [W, H])
            if height < MIN_PLATE_H or (hi <= lo).any():
                continue
            mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
            cv2.fillConvexPoly(mask, np.round((uv - lo) * 8).astype(np.int32), 1, cv2.LINE_8, 3)
            area = max(float(cv2.contourArea(uv.astype(np.float32))), 1.0)
            seen = int(((mask > 0) & (labels[lo[1] : hi[1], lo[0] : hi[0]] == idx)).sum())
            box = (int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1]))
            out["plates"].append((v.id, face, box, height, min(1.0, seen / area), width))
    return out


def vehicle_truth(town, stats: dict, visits_of) -> dict:
    """truth.json "vehicles": id -> entry, for the vehicles on the map during the footage."""
    spec = town.spec
    fps = spec.fps
    vgt = stats.get("vehicle_gt", {})
    plates = stats.get("plate_rows", {})
    gt = stats["gt"]
    out = {}
    for v in town.vehicles:
        if v.t0 >= spec.duration or v.t_end <= 0:
            continue
        boarding = []
        for b in v.boarding:
            f0, f1 = int((b["time"] - 4.0) * fps) + 1, int(b["time"] * fps) + 1
            cams = sorted(
                {cid for cid, rows in gt.items() for r in rows if r[1] == b["person"] and f0 <= r[0] <= f1}
            )
            boarding.append({**b, "cameras": cams})
        by_cam: dict[str, list] = {}
        for cid, frame, face, x, y, w, h, height, vis, width in plates.get(v.id, []):
            by_cam.setdefault(cid, []).append([frame, face, x, y, w, h, height, vis, width])
        boxes = {
            cid: [[r[0], r[2] - 1, r[3] - 1, r[4], r[5], r[8]] for r in rows if r[1] == v.id]
            for cid, rows in vgt.items()
        }
        out[v.id] = {
            "id": v.id,
            "kind": "vehicle",
            "type": v.kind,
            "color": v.color,
            "plate": v.plate,
            "plate_style": v.plate_style,
            "route": {
                "start": [round(v.start[0], 2), round(v.start[1], 2)],
                "end": [round(v.end[0], 2), round(v.end[1], 2)],
                "enters": round(v.t0, 2),
                "departs": None if v.depart is None else round(v.depart, 2),
                "leaves": round(v.t_end, 2),
                "speed_mps": round(v.speed, 2),
                "visits": visits_of(town, vgt, v.id, fps) if vgt else [],
            },
            "riders": list(v.riders),
            "rider_drawn": v.rider is not None,  # a motorcyclist who is not one of the town's people
            "boarding": boarding,
            # Per camera: [frame, face, x, y, w, h, plate height px, visible share, plate width px] where a
            # plate was painted (height: the mean of its two projected side edges; width: of its top and
            # bottom edges).
            "plates": by_cam,
            # Per camera: [frame, x, y, w, h, visible share] of the vehicle body, 0-based pixels.
            "boxes": {cid: rows for cid, rows in boxes.items() if rows},
        }
    return out
