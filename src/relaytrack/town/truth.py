"""A rendered town's ground truth: the camera register, the true links, truth.json (people, routes, events).

Files written here:
- ``cameras.yaml``: the camera register a city would hand over: ids, names, lat/lon, heading, field of view,
  mount, purpose, video source, hiding-spot zones. No links: how cameras connect is for the system to find.
- ``links-truth.yaml``: ``{"links": [...]}`` in the same link format a network file uses (src, dst, exit_edge,
  entry_edge, mean_s, std_s, min_s, max_s, mode), derived from simulated walks. It is the oracle: import it
  after the register (``relaytrack cameras import links-truth.yaml --db ...``) to relay with the true links.
- ``truth.json``: suspect (description, attributes, camera visits), decoys (attributes and visits),
  couriers' drop events, every annotated person's attributes, vehicles (type, colour, plate, route, camera
  visits, plate boxes per frame, riders; town/vehicle_truth.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import yaml

from relaytrack.town.actors import Person
from relaytrack.town.annotation import EDGE_MARGIN, FORMAT_VERSION, MIN_BOX_H, MIN_VIS, edge_of, start_time
from relaytrack.town.links import derive_links
from relaytrack.town.plan import CamSpec, Town, describe
from relaytrack.town.render import View
from relaytrack.town.vehicle_truth import vehicle_truth

LINK_KEYS = ("src", "dst", "exit_edge", "entry_edge", "mean_s", "std_s", "min_s", "max_s", "mode", "samples")
LINKS_FILE = "links-truth.yaml"
REGISTER_FILE = "cameras.yaml"


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


def visits_of(town: Town, gt: dict[str, list[tuple]], pid: int, fps: float) -> list[dict]:
    """One person's camera visits from the gt rows: runs of frames on a camera (a gap over 1 s starts a new
    run; runs under 3 frames are dropped), with the image edges the person entered and left by."""
    visits = []
    size = {c.id: (c.cam.width, c.cam.height) for c in town.cameras}
    for cid, rows in gt.items():
        W, H = size.get(cid, (town.spec.width, town.spec.height))
        mine = [r for r in rows if r[1] == pid]
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


def suspect_route(town: Town, gt: dict[str, list[tuple]], fps: float) -> list[dict]:
    return visits_of(town, gt, town.suspect, fps)


EVENT_SEEN_SHARE = 0.5  # of a stop's (and its hand action's) frames in which the courier must be visible
EVENT_MIN_VIS = 0.3  # visibility from which a gt row counts as seen


def _seen_share(rows: list[tuple], pid: int, t0: float, t1: float, fps: float) -> float:
    f0, f1 = int(max(t0, 0.0) * fps) + 1, int(t1 * fps) + 1
    frames = {r[0] for r in rows if r[1] == pid and f0 <= r[0] <= f1 and r[8] >= EVENT_MIN_VIS}
    return len(frames) / max(1, f1 - f0 + 1)


def _stops_shown(
    p: Person, gt: dict[str, list[tuple]], zones: dict[str, list[dict]], T: float, fps: float
) -> Iterator[tuple[dict, str]]:
    """(stop, camera) for each of p's stops that overlaps the footage [0, T], at every camera that has the
    stop's spot as a zone and sees p for at least EVENT_SEEN_SHARE of the stop: where a drop (or a confuser's
    visit) counts as shown."""
    for stop in p.stops:
        if stop["end"] <= 0 or stop["start"] >= T:
            continue
        for cid, zs in zones.items():
            if not any(z["id"] == stop["spot"] for z in zs):
                continue
            if _seen_share(gt[cid], p.id, stop["start"], stop["end"], fps) < EVENT_SEEN_SHARE:
                continue
            yield stop, cid


def courier_events(
    town: Town, gt: dict[str, list[tuple]], zones: dict[str, list[dict]], fps: float
) -> list[dict]:
    out = []
    T = town.spec.duration
    for pid in town.couriers:
        p = next(pp for pp in town.people if pp.id == pid)
        events = []
        for stop, cid in _stops_shown(p, gt, zones, T, fps):
            photo = next(
                (a for a in p.actions if a[2] == "phone" and stop["start"] <= a[0] < stop["end"]), None
            )
            hand = next(
                (a for a in p.actions if a[2] in ("crouch", "bend") and stop["start"] <= a[0] < stop["end"]),
                None,
            )
            # A camera shows a drop only if it sees the courier for most of the stop (_stops_shown) and of the
            # hand action: a spot at the image edge with the courier stooping just outside is no event there.
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


def confuser_visits(
    town: Town, gt: dict[str, list[tuple]], zones: dict[str, list[dict]], fps: float
) -> list[dict]:
    """Each confuser's stops at hiding spots, per camera that shows the spot (a zone there) and the person for
    at least half of the stop: the same rule as a courier's drop event, so a false alarm on a confuser is
    counted where a drop would have been."""
    out = []
    T = town.spec.duration
    for pid, kind in sorted(town.confusers.items()):
        p = next(pp for pp in town.people if pp.id == pid)
        visits = [
            {
                "camera": cid,
                "zone": stop["spot"],
                "spot_kind": stop["kind"],
                "start": round(max(0.0, stop["start"]), 2),
                "end": round(min(T, stop["end"]), 2),
            }
            for stop, cid in _stops_shown(p, gt, zones, T, fps)
        ]
        out.append(
            {"id": pid, "kind": kind, "visits": sorted(visits, key=lambda v: (v["start"], v["camera"]))}
        )
    return out


def camera_register(town: Town, views: list[View]) -> list[dict]:
    """The register entries (cameras.yaml): everything a city knows about its cameras, links excepted."""
    spec = town.spec
    t0 = start_time(spec)
    cameras = []
    for c, v in zip(town.cameras, views, strict=True):
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
                "width": c.cam.width,
                "height": c.cam.height,
                "start_time": t0.isoformat(),
                "source": f"videos/{c.id}.mp4",
                "zones": zones_for(town, c, v),
                "mount": {
                    "height_m": round(float(c.cam.z), 2),
                    "tilt_deg": round(float(c.cam.tilt_deg), 1),
                    "role": c.role,
                    "x_m": round(float(c.cam.x), 2),
                    "y_m": round(float(c.cam.y), 2),
                },
            }
        )
    return cameras


def write_register_and_links(town: Town, out: Path, views: list[View]) -> tuple[list[dict], list[dict]]:
    """cameras.yaml (register, no links) and links-truth.yaml (the derived links, network-file format)."""
    cameras = camera_register(town, views)
    (out / REGISTER_FILE).write_text(
        yaml.safe_dump({"cameras": cameras}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    links = derive_links(town, views, seed=town.spec.seed)
    doc = {"links": [{k: link[k] for k in LINK_KEYS} for link in links]}
    head = (
        "# The town's true camera links (derived from simulated walks), for oracle runs only.\n"
        "# Import after the register: relaytrack cameras import cameras.yaml --db D;"
        " relaytrack cameras import links-truth.yaml --db D\n"
    )
    (out / LINKS_FILE).write_text(head + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return cameras, links


def write_truth(town: Town, out: Path, stats: dict, views: list[View]) -> dict:
    spec = town.spec
    gt = stats["gt"]
    cameras, _links = write_register_and_links(town, out, views)
    zones = {c["id"]: c["zones"] for c in cameras}
    by_id = {p.id: p for p in town.people}
    suspect = by_id[town.suspect]
    ko, en = describe(suspect)
    people = {}
    for p in town.people:
        if any(r[1] == p.id for rows in gt.values() for r in rows):
            people[str(p.id)] = p.attributes()
    vehicles = vehicle_truth(town, stats, visits_of)
    truth = {
        "format": FORMAT_VERSION,
        "seed": spec.seed,
        "fps": spec.fps,
        "start_time": start_time(spec).isoformat(),
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
        # Look-alikes: same upper and lower colour as the suspect (some with the same item); their visits let
        # a scorer tell a hop that followed a decoy from one that followed the suspect.
        "decoys": [
            {
                "id": d,
                "description_ko": describe(by_id[d])[0],
                **by_id[d].attributes(),
                "route": visits_of(town, gt, d, spec.fps),
            }
            for d in town.decoys
        ],
        # Innocent people at hiding spots (resident, postman, delivery, crouch, smoker, photographer): an alert
        # on one of their visits is a false alarm of the kind a residential street produces.
        "confusers": confuser_visits(town, gt, zones, spec.fps),
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
