"""`relaytrack bench plates`, rendered part: plate-read accuracy on the plates of rendered town vehicles.

Protocol: the held-out plate towns (`seeds.HELD_OUT["plates-town"]`, fixed before the plates were rendered or
read on any town) are rendered with traffic and traffic cameras (narrow-field cameras over a lane, as
enforcement cameras are mounted) besides the usual street cameras, in the lighting their seed gives. In the
videos (640x360 mp4v, as every town), each plate that the truth lists fully visible (painted, at least 95 % of
its pixels on top, inside the frame, seen at most 60 degrees off its face) is cut out with a margin around
its projected box (15 % of its width, 35 % of its height on each side) in every frame and read by the plate
reader as an image (`relaytrack plate read` on a crop); reads are scored against the vehicle's true plate,
exact and with at most one character wrong, by the plate's height in pixels (mean of its two projected
vertical edges). Tracklets
(one vehicle on one camera) vote their reads as ingest does. The target: exact >= 0.90 on plates >= 20 px.
Plates from 10 px are also read in the whole vehicle crop (the vehicle's projected box), as ingest reads
vehicle tracklets, where the reader must find the plate itself: reported beside, not the target's figure.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from relaytrack.bench import plate_search
from relaytrack.errors import InputError
from relaytrack.seeds import HELD_OUT, TUNING, lighting_of
from relaytrack.town.driving import ROAD_CAMERAS

PROTOCOL_RENDERED = (
    "plate towns (seeds.HELD_OUT['plates-town']; --tuning: TUNING), 0.5 min, 2 street + 6 traffic cameras, "
    "40 vehicles, lighting by seed; plates fully visible in the mp4 frames, cropped from the truth's "
    "projected box with a margin, every frame, read as an image; scored against the true plate by height"
)
TRUTH_ROWS = 2  # the truth's plate rows carry the plate's width since 2 (older bench towns are rendered anew)
TOWN = {"cameras": 2, "minutes": 0.5, "couriers": 0, "crowd": 0.3, "vehicles": 40, "plate_cameras": 6}
BINS = (("<10", 0.0, 10.0), ("10-20", 10.0, 20.0), (">=20", 20.0, math.inf))
TARGET_H = 20.0
TARGET_EXACT = 0.90
MIN_VIS = 0.95
EVERY = 1  # read every frame of a tracklet
MAX_READS = 400  # per town: keeps the run to a few minutes on 2 cores
MIN_H = 6.0  # plates lower than this are not read (a few pixels of colour)
ASPECT = {"moto": 210 / 115}  # a plate's width over its height seen face on (others 520 / 110)
MIN_FACE_ON = 0.5  # plates seen more than 60 degrees off their face (aspect under half) are not read
VEHICLE_CROP_MIN_H = 10.0  # plates from this height are also read in the whole vehicle crop


def _within_one(got: str, want: str) -> bool:
    return len(got) == len(want) and sum(a != b for a, b in zip(got, want, strict=True)) <= 1


def _bin(h: float) -> str:
    return next(name for name, lo, hi in BINS if lo <= h < hi)


def _cases(truth: dict, sizes: dict[str, tuple[int, int]]) -> list[dict]:
    """The plate crops to read: fully visible, inside the frame (`sizes`: each camera's width and height),
    every EVERY-th frame of each tracklet."""
    out = []
    for vid, v in truth["vehicles"].items():
        for cam, rows in v["plates"].items():
            width, height = sizes[cam]
            body = {b[0]: b[1:5] for b in v.get("boxes", {}).get(cam, [])}
            aspect = ASPECT.get(v["plate_style"], 520 / 110)
            keep = [
                r
                for r in rows
                if r[7] >= MIN_VIS and r[6] >= MIN_H and r[2] > 0 and r[3] > 0
                and r[2] + r[4] < width and r[3] + r[5] < height and r[8] / r[6] >= MIN_FACE_ON * aspect
            ]  # fmt: skip
            for r in keep[::EVERY]:
                out.append({"vehicle": vid, "camera": cam, "frame": r[0], "box": r[2:6], "height": r[6],
                            "plate": v["plate"], "style": v["plate_style"],
                            "body": body.get(r[0])})  # fmt: skip
    if len(out) > MAX_READS:  # an even spread over the plate heights and tracklets
        idx = np.linspace(0, len(out) - 1, MAX_READS).round().astype(int)
        out = [out[i] for i in sorted(set(idx.tolist()))]
    return out


def _read_town(town: Path, truth: dict) -> list[dict]:
    import cv2
    import yaml

    from relaytrack.describe import plate as reader

    # Each camera's own resolution: traffic cameras are rendered larger than the town's (town/driving.py).
    register = yaml.safe_load((town / "cameras.yaml").read_text(encoding="utf-8"))["cameras"]
    sizes = {c["id"]: (int(c["width"]), int(c["height"])) for c in register}
    cases = _cases(truth, sizes)
    by_cam: dict[str, dict[int, list[dict]]] = {}
    for c in cases:
        by_cam.setdefault(c["camera"], {}).setdefault(c["frame"], []).append(c)
    for cam, frames in by_cam.items():
        cap = cv2.VideoCapture(str(town / "videos" / f"{cam}.mp4"))
        f = 0
        last = max(frames)
        while f < last:
            ok, img = cap.read()
            f += 1
            if not ok:
                break
            H, W = img.shape[:2]
            for c in frames.get(f, []):
                x, y, w, h = c["box"]
                mx, my = int(round(0.15 * w)), int(round(0.35 * h))
                crop = img[max(0, y - my) : min(H, y + h + my), max(0, x - mx) : min(W, x + w + mx)]
                t0 = time.perf_counter()
                reads = reader.read_image(crop)
                c["seconds"] = time.perf_counter() - t0
                c["reads"] = reads
                c["read"] = reads[0].text if reads else ""
                if c["body"] and c["height"] >= VEHICLE_CROP_MIN_H:
                    # What ingest reads: the vehicle's crop, where the reader finds the plate itself.
                    x, y, w, h = c["body"]
                    got = reader.read_image(img[y : y + h, x : x + w])
                    c["read_vehicle"] = got[0].text if got else ""
        cap.release()
    return [c for c in cases if "read" in c]


def _score(cases: list[dict]) -> dict:
    n = len(cases)
    if n == 0:
        return {"reads": 0, "exact": None, "within_one": None}
    return {
        "reads": n,
        "exact": round(sum(c["read"] == c["plate"] for c in cases) / n, 4),
        "within_one": round(sum(_within_one(c["read"], c["plate"]) for c in cases) / n, 4),
    }


def run_rendered(
    work: Path, *, towns: int = 3, tuning: bool = False, say: Callable[[str], None] | None = None
) -> dict:
    """Render (or reuse) the plate towns under `work` and score the plate reader on their plates."""
    from relaytrack.describe import plate as reader
    from relaytrack.describe.plate_grammar import vote
    from relaytrack.town.generate import generate_town
    from relaytrack.town.plan import TownSpec

    why = reader.status()
    if why:
        raise InputError(why)
    seeds = (TUNING if tuning else HELD_OUT)["plates-town"][:towns]
    cases: list[dict] = []
    town_rows = []
    render_s = 0.0
    for seed in seeds:
        spec = TownSpec(seed=seed, lighting=lighting_of(seed), **TOWN)
        if say:
            say(f"plate town {seed} ({spec.lighting}): render or reuse")
        t0 = time.perf_counter()
        out, meta = generate_town(spec, work / f"town-{seed}-v{TRUTH_ROWS}-r{ROAD_CAMERAS}")
        render_s += time.perf_counter() - t0
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        if say:
            say(f"plate town {seed}: reading plates")
        got = _read_town(out, truth)
        for c in got:
            c["seed"], c["lighting"] = seed, spec.lighting
        cases += got
        town_rows.append({"seed": seed, "lighting": spec.lighting, "vehicles": len(truth["vehicles"]),
                          "cameras": meta["cameras"], "reads": len(got)})  # fmt: skip
    by_height = {name: _score([c for c in cases if _bin(c["height"]) == name]) for name, _, _ in BINS}
    styles = sorted({c["style"] for c in cases})
    big = [c for c in cases if c["height"] >= TARGET_H]
    # Tracklets: one vehicle on one camera; the reads of its frames voted as ingest votes them.
    tracks: dict[tuple, list[dict]] = {}
    for c in cases:
        tracks.setdefault((c["seed"], c["vehicle"], c["camera"]), []).append(c)
    voted, votes = [], []
    for (seed, vid, _cam), group in tracks.items():
        v = vote([r for c in group for r in c["reads"][:1]])
        voted.append({"plate": group[0]["plate"], "height": max(c["height"] for c in group),
                      "read": v.text if v else ""})  # fmt: skip
        votes.append(((seed, vid, group[0]["plate"]), v))
    big_exact = by_height[">=20"]["exact"]
    return {
        "protocol": PROTOCOL_RENDERED,
        "seeds": list(seeds),
        "tuning": tuning,
        "towns": town_rows,
        **_score(cases),
        "by_height": by_height,
        "vehicle_crop": {
            name: _score(
                [
                    {**c, "read": c["read_vehicle"]}
                    for c in cases
                    if "read_vehicle" in c and _bin(c["height"]) == name
                ]
            )
            for name, lo, _ in BINS
            if lo >= VEHICLE_CROP_MIN_H
        },
        "by_style": {s: _score([c for c in cases if c["style"] == s]) for s in styles},
        "by_lighting": {
            g: _score([c for c in cases if c["lighting"] == g])
            for g in sorted({c["lighting"] for c in cases})
        },
        "target": {
            "min_height_px": TARGET_H,
            "exact": TARGET_EXACT,
            "value": big_exact,
            "reads": len(big),
            "met": big_exact is not None and big_exact >= TARGET_EXACT,
        },  # fmt: skip
        "tracklets": {
            "n": len(voted),
            "read_share": round(sum(bool(v["read"]) for v in voted) / max(len(voted), 1), 4),
            "exact": round(sum(v["read"] == v["plate"] for v in voted) / max(len(voted), 1), 4),
            "exact_ge20": _score([v for v in voted if v["height"] >= TARGET_H])["exact"],
        },
        "plate_search": plate_search.score(votes),
        "seconds_per_read": round(sum(c["seconds"] for c in cases) / max(len(cases), 1), 3),
        "render_seconds": round(render_s, 1),
        "misses_ge20": [
            {
                "seed": c["seed"],
                "camera": c["camera"],
                "frame": c["frame"],
                "height": c["height"],
                "plate": c["plate"],
                "read": c["read"],
            }
            for c in big
            if c["read"] != c["plate"]
        ][:30],  # fmt: skip
    }


def print_rendered(res: dict, out: Callable[[str], None]) -> None:
    out(
        f"rendered towns ({'TUNING seeds, not a result' if res['tuning'] else 'held-out'}): {res['protocol']}"
    )
    for t in res["towns"]:
        out(f"  town {t['seed']} ({t['lighting']}): {t['cameras']} cameras, {t['vehicles']} vehicles, "
            f"{t['reads']} plate crops read")  # fmt: skip

    def fmt(s: dict) -> str:
        return "-" if s["exact"] is None else f"exact {s['exact']:.3f}, <=1 wrong {s['within_one']:.3f}"

    out(f"  all {res['reads']} reads: {fmt(res)}; {res['seconds_per_read']:.3f} s/read")
    for name, s in res["by_height"].items():
        out(f"  plate height {name} px: {s['reads']} reads, {fmt(s)}")
    for name, s in res["vehicle_crop"].items():
        out(f"  plate height {name} px, whole vehicle crop (as ingest reads): {s['reads']} reads, {fmt(s)}")
    for name, s in res["by_style"].items():
        out(f"  {name} plates: {s['reads']} reads, {fmt(s)}")
    for name, s in res["by_lighting"].items():
        out(f"  {name}: {s['reads']} reads, {fmt(s)}")
    tr = res["tracklets"]
    out(f"  tracklets (vehicle x camera, reads voted): {tr['n']}, with a plate read {tr['read_share']:.3f}, "
        f"exact {tr['exact']:.3f} (tracklets with a plate >= 20 px: {tr['exact_ge20']})")  # fmt: skip
    ps = res["plate_search"]
    if ps["queries"]:
        by = ", ".join(f"{k} {v:.3f}" for k, v in ps["by_pattern"].items() if v is not None)
        out(f"  search by a partial plate (search --plate, {ps['vehicles_read']} of {ps['vehicles']} vehicles "
            f"with a plate read, {ps['queries']} queries): rank 1 right {ps['rank1']:.3f} ({by}); target >= "
            f"{ps['target_rank1']:.2f} ({'met' if ps['met'] else 'MISSED'})")  # fmt: skip
    tg = res["target"]
    verdict = "met" if tg["met"] else "MISSED"
    target = f"exact >= {tg['exact']:.2f} on plates >= {tg['min_height_px']:.0f} px"
    out(f"  target {target}: {tg['value']} on {tg['reads']} reads ({verdict})")
