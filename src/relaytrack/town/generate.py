"""Rendering a planned town to videos and writing its ground truth (MOT gt, cameras.yaml, truth.json)."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import yaml

from relaytrack.errors import RelaytrackError
from relaytrack.town.actors import Person
from relaytrack.town.plan import CamSpec, Town, TownSpec, describe, plan_town
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
from relaytrack.town.world import ground_texture

FORMAT_VERSION = 2  # 2: a drop is an event on a camera only where the courier is seen for most of it
MIN_BOX_H = 20  # people shorter than this (pixels) are not annotated
MIN_VIS = 0.2  # nor those with less than this share of their body visible
EDGE_MARGIN = 0.04  # share of the frame that counts as its edge (as the tracker's default)
START_CLOCK = {"day": "14:00:00", "dusk": "17:25:00", "night": "22:40:00"}

Progress = Callable[[int, int, str], None]


def edge_of(box: tuple[float, float, float, float], w: int, h: int, margin: float = EDGE_MARGIN) -> str:
    """The image edge a clipped box touches (nearest one), or 'inside'."""
    x1, y1, x2, y2 = box
    dists = {"left": x1 / w, "right": (w - x2) / w, "top": y1 / h, "bottom": (h - y2) / h}
    edge = min(dists, key=dists.get)
    return edge if dists[edge] <= margin else "inside"


def start_time(spec: TownSpec) -> dt.datetime:
    day = 10 + spec.seed % 15
    hh, mm, ss = (int(v) for v in START_CLOCK[spec.lighting].split(":"))
    return dt.datetime(2026, 11, day, hh, mm, ss, tzinfo=dt.timezone(dt.timedelta(hours=9)))


class TownError(RelaytrackError):
    pass


# ------------------------------------------------------------------------------------------ rendering


def render_town(town: Town, out: Path, progress: Progress | None = None) -> dict:
    """Render every camera and write videos + per-camera gt. Returns stats (render fps, gt rows)."""
    spec = town.spec
    if spec.lighting not in LIGHT:
        raise TownError(f"lighting {spec.lighting!r} unknown; valid: {', '.join(LIGHT)}")
    lighting = LIGHT[spec.lighting]
    rng = np.random.default_rng(spec.seed + 7919)
    tex, ox, oy = ground_texture(town.world, rng)
    views = [build_view(town.world, c.cam, tex, (ox, oy), lighting, rng) for c in town.cameras]
    n_frames = int(round(spec.duration * spec.fps))
    (out / "videos").mkdir(parents=True, exist_ok=True)
    writers = []
    for c in town.cameras:
        path = out / "videos" / f"{c.id}.mp4"
        wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), spec.fps, (spec.width, spec.height))
        if not wr.isOpened():
            raise TownError(f"{path}: OpenCV could not open an mp4v video writer")
        writers.append(wr)
    gt: dict[str, list[tuple]] = {c.id: [] for c in town.cameras}
    t0 = start_time(spec)
    noise_rng = np.random.default_rng(spec.seed + 31)
    started = time.perf_counter()
    for f in range(n_frames):
        t = f / spec.fps
        stamp_time = (t0 + dt.timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S")
        frame_imgs = render_frame(town, views, t, lighting)
        for ci, (c, view) in enumerate(zip(town.cameras, views, strict=True)):
            img, rows = frame_imgs[ci]
            for pid, box, vis in rows:
                x1, y1, x2, y2 = box
                gt[c.id].append((f + 1, pid, x1 + 1, y1 + 1, x2 - x1, y2 - y1, 1, 1, round(vis, 3)))
            writers[ci].write(finish(img, view, int(noise_rng.integers(1 << 30)), f"{stamp_time}  {c.id}"))
        if progress:
            progress(f + 1, n_frames, "render")
    for wr in writers:
        wr.release()
    elapsed = time.perf_counter() - started
    for c in town.cameras:
        write_mot(out / "mot" / c.id, c.id, gt[c.id], n_frames, spec)
    return {
        "frames": n_frames,
        "cameras": len(town.cameras),
        "seconds": round(elapsed, 2),
        "render_fps": round(n_frames * len(town.cameras) / max(elapsed, 1e-9), 1),
        "gt": gt,
        "views": views,
    }


def render_frame(town: Town, views: list[View], t: float, lighting) -> list[tuple[np.ndarray, list]]:
    """All cameras' pictures at time t, with gt rows (person id, clipped xyxy, visibility) per camera."""
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
            cars.append((v, *pose, person_light(world, lighting, pose[0], pose[1])))
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
        for k, (v, x, y, heading, light) in enumerate(cars):
            parts = draw_vehicle(cam, v, x, y, heading, light, lighting)
            if parts and lighting.shadow < 1:
                ground_shadow(
                    frame, cam, x, y, 1.0 if v.kind != "bus" else 1.4, v.length / 2, heading, lighting.shadow
                )
            for j, s in enumerate(parts):
                sprites.append((100_000 + k * 4 + j, s))
        composite(frame, labels, view, sprites)
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


def write_mot(folder: Path, cam_id: str, rows: list[tuple], n_frames: int, spec: TownSpec) -> None:
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    with open(folder / "gt" / "gt.txt", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(",".join(str(v) for v in r) + "\n")
    (folder / "seqinfo.ini").write_text(
        "[Sequence]\n"
        f"name={cam_id}\nimDir=img1\nframeRate={int(spec.fps)}\nseqLength={n_frames}\n"
        f"imWidth={spec.width}\nimHeight={spec.height}\nimExt=.jpg\n",
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------------------ links


def derive_links(
    town: Town, views: list[View] | None = None, n_walks: int = 700, seed: int = 0
) -> list[dict]:
    """Camera-to-camera links from many simulated walks over the same sidewalk graph as the people.

    Each walk is projected into every camera (box from feet and head, same annotation thresholds and
    edge rule as the ground truth); consecutive camera visits give (src, dst, exit_edge, entry_edge, gap).
    """
    from relaytrack.town.actors import pedestrian

    rng = np.random.default_rng(seed + 4242)
    per_key: dict[tuple[str, str, str, str], list[float]] = {}
    dt_s = 0.2
    for w in range(n_walks):
        p = pedestrian(town.world, rng, 10_000 + w, 0.0)
        ts = np.arange(p.times[0], p.times[-1], dt_s)
        if len(ts) < 3:
            continue
        xs = np.interp(ts, p.times, p.xy[:, 0])
        ys = np.interp(ts, p.times, p.xy[:, 1])
        visits = []
        for ci, c in enumerate(town.cameras):
            vis, boxes = _visible_boxes(c, xs, ys, p.look.height, views[ci] if views else None)
            idx = np.nonzero(vis)[0]
            if len(idx) == 0:
                continue
            # Split into runs (gaps over 1 s are separate visits).
            breaks = np.nonzero(np.diff(idx) > int(1.0 / dt_s))[0]
            for run in np.split(idx, breaks + 1):
                W, H = c.cam.width, c.cam.height
                visits.append(
                    (
                        ts[run[0]],
                        ts[run[-1]],
                        c.id,
                        edge_of(boxes[run[0]], W, H),
                        edge_of(boxes[run[-1]], W, H),
                    )
                )
        visits.sort()
        for a, b in zip(visits, visits[1:], strict=False):
            if a[2] == b[2]:
                continue
            per_key.setdefault((a[2], b[2], a[4], b[3]), []).append(b[0] - a[1])
    links = []
    for (src, dst, ex, en), gaps in sorted(per_key.items()):
        if len(gaps) < 3:
            continue
        g = np.array(gaps)
        links.append(
            {
                "src": src,
                "dst": dst,
                "exit_edge": ex,
                "entry_edge": en,
                "mean_s": round(float(g.mean()), 1),
                "std_s": round(max(1.0, float(g.std())), 1),
                "min_s": round(float(g.min()) - 2.0, 1),
                "max_s": round(float(g.max()) * 1.25 + 5.0, 1),
                "mode": "walk",
                "samples": len(gaps),
            }
        )
    return links


def _visible_boxes(
    c: CamSpec, xs: np.ndarray, ys: np.ndarray, height: float, view: View | None
) -> tuple[np.ndarray, np.ndarray]:
    cam = c.cam
    n = len(xs)
    feet = np.stack([xs, ys, np.zeros(n)], 1)
    head = np.stack([xs, ys, np.full(n, height)], 1)
    fuv, fz = cam.project(feet)
    huv, hz = cam.project(head)
    ok = (fz > 0.8) & (hz > 0.8)
    hpx = fuv[:, 1] - huv[:, 1]
    half = 0.2 * hpx
    x1, x2 = fuv[:, 0] - half, fuv[:, 0] + half
    y1, y2 = huv[:, 1] - 0.02 * hpx, fuv[:, 1] + 0.02 * hpx
    cx1, cy1 = np.clip(x1, 0, cam.width), np.clip(y1, 0, cam.height)
    cx2, cy2 = np.clip(x2, 0, cam.width), np.clip(y2, 0, cam.height)
    full = np.maximum((x2 - x1) * (y2 - y1), 1e-6)
    shown = np.maximum(cx2 - cx1, 0) * np.maximum(cy2 - cy1, 0)
    ok &= (cy2 - cy1 >= MIN_BOX_H) & (shown / full >= MIN_VIS + 0.05)
    if view is not None:
        mid = np.stack([xs, ys, np.full(n, height * 0.5)], 1)
        muv, mz = cam.project(mid)
        u = np.clip(muv[:, 0].astype(int), 0, cam.width - 1)
        v = np.clip(muv[:, 1].astype(int), 0, cam.height - 1)
        ok &= view.occ_depth[v, u] > mz
    return ok, np.stack([cx1, cy1, cx2, cy2], 1)


# ------------------------------------------------------------------------------------------ truth


def zones_for(town: Town, c: CamSpec, view: View | None) -> list[dict]:
    """Hiding-spot polygons (image pixels) for the spots this camera sees well enough."""
    out = []
    cam = c.cam
    for s in town.world.spots:
        b = s.box
        corners = np.array([[x, y, z] for x in (b.x0, b.x1) for y in (b.y0, b.y1) for z in (b.z0, b.z1)])
        uv, z = cam.project(corners)
        if z.min() < 1.0 or z.max() > 40:
            continue
        hull = cv2.convexHull(uv.astype(np.float32)).reshape(-1, 2)
        inside = (
            (hull[:, 0] >= 0).all()
            and (hull[:, 0] < cam.width).all()
            and (hull[:, 1] >= 0).all()
            and (hull[:, 1] < cam.height).all()
        )
        if not inside:
            continue
        area = cv2.contourArea(hull)
        if area < 30:
            continue
        if view is not None:
            cuv, cz = cam.project(b.centre)
            if view.occ_depth[int(cuv[1]), int(cuv[0])] < cz - 0.6:
                continue
        out.append(
            {
                "id": s.id,
                "kind": s.kind if s.kind != "gas_meter" else "gas_meter",
                "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in hull],
            }
        )
    return out


def suspect_route(town: Town, gt: dict[str, list[tuple]], fps: float) -> list[dict]:
    visits = []
    W, H = town.spec.width, town.spec.height
    for cid, rows in gt.items():
        mine = [r for r in rows if r[1] == town.suspect]
        if not mine:
            continue
        frames = np.array([r[0] for r in mine])
        breaks = np.nonzero(np.diff(frames) > int(fps))[0]
        start = 0
        for end in [*breaks.tolist(), len(mine) - 1]:
            run = mine[start : end + 1]
            a, b = run[0], run[-1]
            box_a = (a[2] - 1, a[3] - 1, a[2] - 1 + a[4], a[3] - 1 + a[5])
            box_b = (b[2] - 1, b[3] - 1, b[2] - 1 + b[4], b[3] - 1 + b[5])
            if len(run) >= 3:
                visits.append(
                    {
                        "camera": cid,
                        "start": round((a[0] - 1) / fps, 2),
                        "end": round((b[0] - 1) / fps, 2),
                        "first_frame": a[0],
                        "last_frame": b[0],
                        "entry_edge": edge_of(box_a, W, H),
                        "exit_edge": edge_of(box_b, W, H),
                    }
                )
            start = end + 1
    return sorted(visits, key=lambda v: (v["start"], v["camera"]))


EVENT_SEEN_SHARE = 0.5  # of a stop's (and its hand action's) frames in which the courier must be visible
EVENT_MIN_VIS = 0.3  # visibility from which a gt row counts as seen


def _seen_share(rows: list[tuple], pid: int, t0: float, t1: float, fps: float) -> float:
    f0, f1 = int(max(t0, 0.0) * fps) + 1, int(t1 * fps) + 1
    frames = {r[0] for r in rows if r[1] == pid and f0 <= r[0] <= f1 and r[8] >= EVENT_MIN_VIS}
    return len(frames) / max(1, f1 - f0 + 1)


def courier_events(
    town: Town, gt: dict[str, list[tuple]], zones: dict[str, list[dict]], fps: float
) -> list[dict]:
    out = []
    T = town.spec.duration
    for pid in town.couriers:
        p = next(pp for pp in town.people if pp.id == pid)
        events = []
        for stop in p.stops:
            if stop["end"] <= 0 or stop["start"] >= T:
                continue
            for cid, zs in zones.items():
                if not any(z["id"] == stop["spot"] for z in zs):
                    continue
                photo = next(
                    (a for a in p.actions if a[2] == "phone" and stop["start"] <= a[0] < stop["end"]), None
                )
                hand = next(
                    (
                        a
                        for a in p.actions
                        if a[2] in ("crouch", "bend") and stop["start"] <= a[0] < stop["end"]
                    ),
                    None,
                )
                # A camera shows a drop only if it sees the courier for most of the stop and of the hand
                # action: a spot at the image edge with the courier stooping just outside is no event there.
                if _seen_share(gt[cid], pid, stop["start"], stop["end"], fps) < EVENT_SEEN_SHARE:
                    continue
                if hand and _seen_share(gt[cid], pid, hand[0], hand[1], fps) < EVENT_SEEN_SHARE:
                    continue
                events.append(
                    {
                        "camera": cid,
                        "zone": stop["spot"],
                        "kind": "drop",
                        "spot_kind": stop["kind"],
                        "start": round(max(0.0, stop["start"]), 2),
                        "end": round(min(T, stop["end"]), 2),
                        "clipped": bool(stop["start"] < 0 or stop["end"] > T),
                        "hand": [round(hand[0], 2), round(hand[1], 2)] if hand else None,
                        "photo": [round(photo[0], 2), round(photo[1], 2)] if photo else None,
                    }
                )
        out.append({"id": pid, "events": sorted(events, key=lambda e: (e["start"], e["camera"]))})
    return out


def write_truth(town: Town, out: Path, stats: dict, views: list[View]) -> dict:
    spec = town.spec
    gt = stats["gt"]
    t0 = start_time(spec)
    zones = {c.id: zones_for(town, c, v) for c, v in zip(town.cameras, views, strict=True)}
    links = derive_links(town, views, seed=spec.seed)
    cameras = []
    for c in town.cameras:
        lat, lon = town.world.latlon(c.cam.x, c.cam.y)
        cameras.append(
            {
                "id": c.id,
                "name": c.name,
                "lat": lat,
                "lon": lon,
                "heading_deg": round(float(c.cam.heading_deg), 1),
                "fov_deg": round(float(c.cam.fov_deg), 1),
                "district": town.world.anchor[1],
                "owner": "자치구",
                "purpose": c.purpose,
                "stream_url": None,
                "clock_offset_s": 0.0,
                "width": spec.width,
                "height": spec.height,
                "start_time": t0.isoformat(),
                "source": f"videos/{c.id}.mp4",
                "zones": zones[c.id],
                "mount": {
                    "height_m": round(float(c.cam.z), 2),
                    "tilt_deg": round(float(c.cam.tilt_deg), 1),
                    "role": c.role,
                    "x_m": round(float(c.cam.x), 2),
                    "y_m": round(float(c.cam.y), 2),
                },
            }
        )
    net = {"cameras": cameras, "links": [{k: v for k, v in link.items() if k != "samples"} for link in links]}
    (out / "cameras.yaml").write_text(
        yaml.safe_dump(net, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    suspect = next(p for p in town.people if p.id == town.suspect)
    ko, en = describe(suspect)
    people = {}
    for p in town.people:
        if any(r[1] == p.id for rows in gt.values() for r in rows):
            people[str(p.id)] = p.attributes()
    vehicles = {
        v.id: {"type": v.kind, "color": v.color, "kind": "vehicle"}
        for v in town.vehicles
        if v.t0 < spec.duration
    }
    truth = {
        "format": FORMAT_VERSION,
        "seed": spec.seed,
        "fps": spec.fps,
        "start_time": t0.isoformat(),
        "duration_s": spec.duration,
        "lighting": spec.lighting,
        "frames": stats["frames"],
        "location": {
            "name": town.world.anchor[0],
            "district": town.world.anchor[1],
            "lat": town.world.anchor[2],
            "lon": town.world.anchor[3],
        },
        "suspect": {
            "id": suspect.id,
            "description_ko": ko,
            "description_en": en,
            "attributes": suspect.attributes(),
            "route": suspect_route(town, gt, spec.fps),
        },
        "couriers": courier_events(town, gt, zones, spec.fps),
        "decoys": [{"id": d, **next(p for p in town.people if p.id == d).attributes()} for d in town.decoys],
        "people": people,
        "vehicles": vehicles,
        "annotation": {
            "min_box_h": MIN_BOX_H,
            "min_visibility": MIN_VIS,
            "edge_margin": EDGE_MARGIN,
            "mot_boxes": "1-based (bb_left = x0 + 1), clipped to the image",
        },
        "spec": spec.key(),
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


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
        "gt_rows": sum(len(r) for r in stats["gt"].values()),
    }
    (out / "town.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return out, meta


def person_by_id(town: Town, pid: int) -> Person:
    return next(p for p in town.people if p.id == pid)


__all__ = ["generate_town", "render_town", "plan_town", "TownSpec", "edge_of", "derive_links", "math"]
