"""Rendering a planned town to videos and per-camera MOT gt; the register, true links and truth.json follow
(town/truth.py). A town folder records its parameters in town.json and is reused while they and the format
version stay the same."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from relaytrack.errors import RelaytrackError
from relaytrack.town.actors import Person
from relaytrack.town.annotation import FORMAT_VERSION, MIN_BOX_H, MIN_VIS, edge_of, start_time
from relaytrack.town.links import _visible_boxes, derive_links
from relaytrack.town.plan import Town, TownSpec, plan_town
from relaytrack.town.plates import hangul_font_path
from relaytrack.town.render import (
    LIGHT,
    View,
    build_view,
    composite,
    draw_vehicle,
    finish,
    ground_shadow,
    person_light,
    person_sprite,
)
from relaytrack.town.truth import courier_events, suspect_route, write_truth, zones_for
from relaytrack.town.vehicle_truth import vehicle_rows
from relaytrack.town.world import ground_texture

Progress = Callable[[int, int, str], None]


class TownError(RelaytrackError):
    pass


# ------------------------------------------------------------------------------------------ rendering


def render_town(town: Town, out: Path, progress: Progress | None = None) -> dict:
    """Render every camera and write videos + per-camera gt. Returns stats (render fps, gt rows)."""
    spec = town.spec
    if spec.lighting not in LIGHT:
        raise TownError(f"lighting {spec.lighting!r} unknown; valid: {', '.join(LIGHT)}")
    lighting = LIGHT[spec.lighting]
    if any(v.plate for v in town.vehicles):
        hangul_font_path()  # before any frame: no Hangul font is a clear error, not one mid-render
    rng = np.random.default_rng(spec.seed + 7919)
    tex, ox, oy = ground_texture(town.world, rng)
    views = [build_view(town.world, c.cam, tex, (ox, oy), lighting, rng) for c in town.cameras]
    n_frames = int(round(spec.duration * spec.fps))
    (out / "videos").mkdir(parents=True, exist_ok=True)
    writers = []
    for c in town.cameras:
        path = out / "videos" / f"{c.id}.mp4"
        # Per camera: traffic cameras are rendered at a higher resolution than the town's (town/driving.py).
        wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), spec.fps, (c.cam.width, c.cam.height))
        if not wr.isOpened():
            raise TownError(f"{path}: OpenCV could not open an mp4v video writer")
        writers.append(wr)
    gt: dict[str, list[tuple]] = {c.id: [] for c in town.cameras}
    vgt: dict[str, list[tuple]] = {c.id: [] for c in town.cameras}  # vehicles, as gt rows (id = vehicle id)
    plate_rows: dict[
        str, list[list]
    ] = {}  # vehicle id -> [camera, frame, face, x, y, w, h, height, vis, width]
    t0 = start_time(spec)
    noise_rng = np.random.default_rng(spec.seed + 31)
    started = time.perf_counter()
    for f in range(n_frames):
        t = f / spec.fps
        stamp_time = (t0 + dt.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S")
        extra: list[dict] = []
        frame_imgs = render_frame(town, views, t, lighting, extra)
        for ci, (c, view) in enumerate(zip(town.cameras, views, strict=True)):
            img, rows = frame_imgs[ci]
            for pid, box, vis in rows:
                x1, y1, x2, y2 = box
                gt[c.id].append((f + 1, pid, x1 + 1, y1 + 1, x2 - x1, y2 - y1, 1, 1, round(vis, 3)))
            for vid, (x1, y1, x2, y2), vis in extra[ci]["vehicles"]:
                vgt[c.id].append((f + 1, vid, x1 + 1, y1 + 1, x2 - x1, y2 - y1, 1, 1, round(vis, 3)))
            for vid, face, box, height, vis, width in extra[ci]["plates"]:
                plate_rows.setdefault(vid, []).append(
                    [c.id, f + 1, face, *box, round(height, 1), round(vis, 3), round(width, 1)]
                )
            writers[ci].write(finish(img, view, int(noise_rng.integers(1 << 30)), f"{stamp_time}  {c.id}"))
        if progress:
            progress(f + 1, n_frames, "render")
    for wr in writers:
        wr.release()
    elapsed = time.perf_counter() - started
    for c in town.cameras:
        write_mot(out / "mot" / c.id, c.id, gt[c.id], n_frames, spec, (c.cam.width, c.cam.height))
    return {
        "frames": n_frames,
        "cameras": len(town.cameras),
        "seconds": round(elapsed, 2),
        "render_fps": round(n_frames * len(town.cameras) / max(elapsed, 1e-9), 1),
        "gt": gt,
        "vehicle_gt": vgt,
        "plate_rows": plate_rows,
        "views": views,
    }


def render_frame(
    town: Town, views: list[View], t: float, lighting, extra: list[dict] | None = None
) -> list[tuple[np.ndarray, list]]:
    """All cameras' pictures at time t, with gt rows (person id, clipped xyxy, visibility) per camera.
    `extra` gets one dict per camera: "vehicles" (vehicle id, clipped xyxy, visibility) and "plates" (vehicle
    id, face, clipped x, y, w, h, plate height and width in pixels, visible share) of the plates painted."""
    world = town.world
    posed = []
    for p in town.people:
        if not p.active(t):
            continue
        joints, phone = p.joints(t)
        x, y, heading, *_ = p.state(t)
        posed.append((p, joints, phone, x, y, heading, person_light(world, lighting, x, y)))
    cars = []
    for v in town.vehicles:
        pose = v.pose(t)
        if pose is not None:
            cars.append((v, *pose, person_light(world, lighting, pose[0], pose[1]), v.speed * v.moving(t)))
    out = []
    for view in views:
        cam = view.cam
        W, H = cam.width, cam.height
        frame = view.background.copy()
        labels = np.full((H, W), -1, np.int32)
        sprites = []
        people_sprites = {}
        for i, (p, joints, phone, x, y, heading, light) in enumerate(posed):
            uv, z = cam.project(joints["pelvis"])
            if z < 0.8 or z > 75 or not (-0.6 * W < uv[0] < 1.6 * W) or not (-H < uv[1] < 2.2 * H):
                continue
            s = person_sprite(cam, p, joints, phone, light)
            if s is None:
                continue
            if lighting.shadow < 1:
                ground_shadow(frame, cam, x, y, 0.32, 0.22, heading, lighting.shadow)
            sprites.append((i, s))
            people_sprites[i] = s
        painted: dict[int, list] = {}
        for k, (v, x, y, heading, light, speed) in enumerate(cars):
            painted[k] = []
            parts = draw_vehicle(cam, v, x, y, heading, light, lighting, speed, painted[k])
            if parts and lighting.shadow < 1:
                rx = 1.05 if v.kind != "bus" else 1.45
                # A vehicle's shadow under it is darker than a person's, and the sun casts it off to one side
                # beyond the body too (0.3 by day, fainter at dusk and night).
                ground_shadow(frame, cam, x, y, rx, v.length / 2 + 0.1, heading, lighting.shadow * 0.6)
                cast = 1 - (1 - lighting.shadow) * 1.55
                ground_shadow(frame, cam, x + 0.7, y - 0.5, rx + 0.05, v.length / 2 - 0.1, heading, cast)
            for j, s in enumerate(parts):
                sprites.append((100_000 + k * 4 + j, s))
        composite(frame, labels, view, sprites)
        if extra is not None:
            bodies = {(i - 100_000) // 4: s for i, s in sprites if i >= 100_000 and (i - 100_000) % 4 == 0}
            extra.append(vehicle_rows(cars, bodies, painted, labels))
        rows = []
        for i, s in people_sprites.items():
            body = s.body > 0.5
            total = int(body.sum())
            if total == 0:
                continue
            h, w = s.body.shape
            xa, ya = max(0, s.x0), max(0, s.y0)
            xb, yb = min(W, s.x0 + w), min(H, s.y0 + h)
            if xb <= xa or yb <= ya:
                continue
            sub = body[ya - s.y0 : yb - s.y0, xa - s.x0 : xb - s.x0]
            visible = int((sub & (labels[ya:yb, xa:xb] == i)).sum())
            vis = visible / total
            ys, xs = np.nonzero(s.body > 0.35)
            bx1, by1 = max(0, xs.min() + s.x0), max(0, ys.min() + s.y0)
            bx2, by2 = min(W, xs.max() + 1 + s.x0), min(H, ys.max() + 1 + s.y0)
            if by2 - by1 < MIN_BOX_H or bx2 - bx1 < 3 or vis < MIN_VIS:
                continue
            rows.append((posed[i][0].id, (int(bx1), int(by1), int(bx2), int(by2)), vis))
        out.append((frame, rows))
    return out


def write_mot(
    folder: Path, cam_id: str, rows: list[tuple], n_frames: int, spec: TownSpec, size: tuple[int, int]
) -> None:
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    with open(folder / "gt" / "gt.txt", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(",".join(str(v) for v in r) + "\n")
    (folder / "seqinfo.ini").write_text(
        "[Sequence]\n"
        f"name={cam_id}\nimDir=img1\nframeRate={int(spec.fps)}\nseqLength={n_frames}\n"
        f"imWidth={size[0]}\nimHeight={size[1]}\nimExt=.jpg\n",
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------------------ entry points


def is_complete(out: Path, spec: TownSpec) -> bool:
    marker = out / "town.json"
    if not marker.exists():
        return False
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("spec") == spec.key()
        and meta.get("format") == FORMAT_VERSION
        and meta.get("complete") is True
    )


def generate_town(
    spec: TownSpec, out_dir: str | Path, progress: Progress | None = None, force: bool = False
) -> tuple[Path, dict]:
    out = Path(out_dir)
    if not force and is_complete(out, spec):
        return out, json.loads((out / "town.json").read_text(encoding="utf-8"))
    if out.exists() and any(out.iterdir()):
        if not (out / "town.json").exists() and not (out / "cameras.yaml").exists():
            raise TownError(f"{out}: folder exists and is not a town folder; choose an empty --out")
        for sub in ("videos", "mot"):
            shutil.rmtree(out / sub, ignore_errors=True)
        (out / "town.json").unlink(missing_ok=True)
        # A town of an earlier format kept its links in cameras.yaml; the new register replaces it whole.
        (out / "links-truth.yaml").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    town = plan_town(spec)
    if len(town.cameras) < spec.cameras:
        raise TownError(f"seed {spec.seed}: could place only {len(town.cameras)} of {spec.cameras} cameras")
    stats = render_town(town, out, progress)
    truth = write_truth(town, out, stats, stats.pop("views"))
    meta = {
        "format": FORMAT_VERSION,
        "spec": spec.key(),
        "complete": True,
        "render_fps": stats["render_fps"],
        "render_seconds": stats["seconds"],
        "frames": stats["frames"],
        "cameras": stats["cameras"],
        "suspect_cameras": len({v["camera"] for v in truth["suspect"]["route"]}),
        "decoys": len(truth["decoys"]),
        "decoys_seen": sum(1 for d in truth["decoys"] if d["route"]),
        "confusers": len(truth["confusers"]),
        "confuser_visits": sum(len(c["visits"]) for c in truth["confusers"]),
        "gt_rows": sum(len(r) for r in stats["gt"].values()),
    }
    (out / "town.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return out, meta


def person_by_id(town: Town, pid: int) -> Person:
    return next(p for p in town.people if p.id == pid)


# Re-exported: tests and scenarios reach these through this module.
__all__ = [
    "FORMAT_VERSION",
    "TownSpec",
    "_visible_boxes",
    "courier_events",
    "derive_links",
    "edge_of",
    "generate_town",
    "plan_town",
    "render_frame",
    "render_town",
    "suspect_route",
    "zones_for",
]
