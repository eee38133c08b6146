"""Driving in the town: traffic cameras that read plates, and the suspect who gets into a car.

- ``plate_cameras``: cameras on a pole over the curb half of a lane looking along it with a narrow field of
  view, as traffic-enforcement cameras do, rendered at three times the town's resolution (1080p), so plates
  come close enough to read.
  Without the suspect driving they watch the lanes with the most traffic in the footage.
- ``suspect_drives``: halfway through, the suspect leaves the sidewalk for a car parked at the curb, stands
  at its door and is gone (inside); the car drives off along its lane. One camera watches the boarding place
  and the plate cameras watch the lane ahead, so the car (and its plate) is seen after the hand-off. The car
  lists the suspect among its riders with the boarding time and place.

Everything here is drawn from its own generator after the town is planned, so the rest of the town is the
one its seed gives without these options.
"""

from __future__ import annotations

import math

import numpy as np

from relaytrack.town.actors import VEHICLE_COLORS, Vehicle, _choice, _jitter
from relaytrack.town.camera import PinholeCamera
from relaytrack.town.plan import CamSpec, Town, place_camera
from relaytrack.town.plates import plate_style, plate_text
from relaytrack.town.world import World

DRIVE_STREAM = 0x445256  # "DRV"
CAR_BGR = {"white": (225, 228, 230), "black": (28, 28, 30), "gray": (150, 150, 152), "blue": (165, 85, 30),
           "red": (40, 35, 195), "brown": (40, 70, 115), "yellow": (40, 205, 230)}  # fmt: skip
CROSSING_CLEAR_M = 8.0  # the parked car keeps this far from a cross street's centre line
DOOR_S = 2.0  # seconds the suspect stands at the open door before being inside


def _lane_frame(lane) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    (sx, sy), (ex, ey) = lane
    a, b = np.array([sx, sy], float), np.array([ex, ey], float)
    d = (b - a) / np.linalg.norm(b - a)
    right = np.array([d[1], -d[0]])
    return a, d, right, float(np.linalg.norm(b - a))


ROAD_BACK_M = (20.0, 35.0)  # how far before the watched spot the pole stands
# Road width the frame covers at that spot: a lane and a half to two lanes, the whole car in view, as
# enforcement cameras frame it; at ROAD_SCALE times the town's resolution (1920x1080 for 640x360), as they are
# megapixel cameras (at twice, plates came out 10-20 px high on tuning towns 81-82: too few to read).
ROAD_VIEW_M = (5.2, 8.0)
ROAD_SCALE = 3
# Bumped whenever traffic cameras change, so that benches render their cached towns anew.
ROAD_CAMERAS = 4


def road_camera(
    world: World, rng: np.random.Generator, lane, s: float, width: int, height: int, front: bool
) -> PinholeCamera | None:
    """A traffic camera watching the lane around arc length s: downstream looking back at oncoming fronts
    (front=True) or upstream looking at rears, over the lane's curb half (as on an overhanging pole), 4.5-6.5
    m up and 20-35 m before the spot it watches, its field of view covering 5.2-8 m of road there (a lane and
    a half to two), as enforcement cameras are set up: a car is in view, whole, over 10-20 m of its approach,
    430-660 px wide at that spot in a 1920x1080 frame. A one-lane view at the
    town's 640x360 (the cameras before) cut the car by the frame's edges, and a COCO detector scored it 0.1-0.35
    (a car at 0.35 or more in 14 % of frames on tuning town 81); closer and wider still, a car passed under the
    pole within a few frames, showing the camera its roof."""
    a, d, right, length = _lane_frame(lane)
    target = a + d * s
    for attempt in range(16):
        fr = front if attempt < 8 else not front  # the other way round where the lane has no room
        room = (length - s if fr else s) - 2.0
        if room < ROAD_BACK_M[0]:
            continue
        back = float(rng.uniform(ROAD_BACK_M[0], min(ROAD_BACK_M[1], room)))
        off = float(rng.uniform(0.3, 2.0))
        pos = target + d * back * (1 if fr else -1) + right * off
        z = float(rng.uniform(4.5, 6.5))
        ex0, ey0, ex1, ey1 = world.extent
        if not (ex0 < pos[0] < ex1 and ey0 < pos[1] < ey1) or world.inside_building(*pos, margin=0.4):
            continue
        if world.occluded_2d(pos[0], pos[1], z, target[0], target[1], 1.0):
            continue
        to = target - pos
        dist = float(np.hypot(*to))
        heading = math.degrees(math.atan2(to[0], to[1])) % 360
        tilt = math.degrees(math.atan2(z - 0.6, dist))
        view = float(rng.uniform(*ROAD_VIEW_M))
        fov = math.degrees(2 * math.atan(view / 2 / math.hypot(dist, z - 0.6)))
        return PinholeCamera(float(pos[0]), float(pos[1]), z, heading, tilt, fov, width, height)
    return None


def _add(town: Town, cam: PinholeCamera, purpose: str, role: str, name: str) -> None:
    cid = f"C{len(town.cameras) + 1:02d}"
    town.cameras.append(CamSpec(cid, f"{town.world.anchor[0]} {name} {cid}", cam, purpose, role))


def _busy_lanes(town: Town) -> list[tuple[int, float]]:
    """Lanes by how many vehicles drive them inside the footage, busiest first: (lane index, count)."""
    T = town.spec.duration
    counts: dict[int, float] = {}
    for v in town.vehicles:
        if v.t_end < 0 or v.t0 > T:
            continue
        k = next((i for i, ln in enumerate(town.world.lanes) if ln == (v.start, v.end)), None)
        if k is not None:
            counts[k] = counts.get(k, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])


def _board(town: Town, rng: np.random.Generator) -> tuple[int, float] | None:
    """Send the suspect into a parked car halfway through; returns (lane index, car arc on the lane)."""
    world, spec = town.world, town.spec
    T = spec.duration
    sus = next(p for p in town.people if p.id == town.suspect)
    # Halfway through the footage; where the walk passes no kerb then, earlier or later.
    for t_b in np.concatenate([np.linspace(0.3 * T, 0.6 * T, 60), np.linspace(0.15 * T, 0.85 * T, 140)]):
        x = float(np.interp(t_b, sus.times, sus.xy[:, 0]))
        y = float(np.interp(t_b, sus.times, sus.xy[:, 1]))
        best = None
        for k, lane in enumerate(world.lanes):
            a, d, right, length = _lane_frame(lane)
            rel = np.array([x, y]) - a
            s = float(rel @ d)
            lat = float(rel @ right)  # the curb side is the lane's right
            along = a + d * s
            pitch, coord = (world.pitch_x, along[0]) if abs(d[0]) > 0.5 else (world.pitch_y, along[1])
            if min(coord % pitch, -coord % pitch) < CROSSING_CLEAR_M:
                continue  # not on a crosswalk or in a junction
            if 2.0 < lat < 4.8 and 15.0 < s < length - 40.0 and (best is None or lat < best[2]):
                best = (k, s, lat)
        if best is None:
            continue
        k, s, _lat = best
        a, d, right, _length = _lane_frame(world.lanes[k])
        car = a + d * s + right * 0.9
        door = car + right * 1.25 + d * 0.3
        walk = float(np.hypot(door[0] - x, door[1] - y))
        speed = 1.3
        keep = sus.times < t_b
        times = [*sus.times[keep], t_b, t_b + walk / speed, t_b + walk / speed + DOOR_S]
        xy = [*sus.xy[keep], [x, y], door, door]
        sus.times, sus.xy, sus.cum = np.array(times), np.array(xy, float), None
        sus.actions = [a_ for a_ in sus.actions if a_[1] <= t_b]
        t_in = times[-1]
        color = _choice(rng, VEHICLE_COLORS["car"])
        used = {v.plate for v in town.vehicles}
        plate = plate_text(rng, "car")
        while plate in used:
            plate = plate_text(rng, "car")
        end = a + d * _length
        car_v = Vehicle(
            f"V{len(town.vehicles) + 1:03d}",
            "car",
            color,
            _jitter(rng, CAR_BGR[color], 6),
            (float(car[0]), float(car[1])),
            (float(end[0] + right[0] * 0.9), float(end[1] + right[1] * 0.9)),
            -5.0,
            float(rng.uniform(7.0, 9.0)),
            plate=plate,
            plate_style=plate_style(plate),
            depart=t_in + 1.0,
            riders=[sus.id],
            boarding=[
                {
                    "person": sus.id,
                    "time": round(t_in, 2),
                    "x": round(float(door[0]), 2),
                    "y": round(float(door[1]), 2),
                }
            ],  # fmt: skip
        )
        town.vehicles.append(car_v)
        # Traffic on the same lane would drive through the parked car: it keeps to the other lanes.
        for v in town.vehicles[:-1]:
            if (v.start, v.end) == world.lanes[k] and v.t0 < car_v.depart + 5:
                v.t0 = min(v.t0, -1000.0)
        # A camera on the boarding place (an ordinary street camera).
        for _ in range(30):
            look = float(np.degrees(np.arctan2(d[0], d[1]))) + float(
                rng.choice([-1, 1]) * rng.uniform(60, 120)
            )
            cam = place_camera(world, rng, (float(car[0]), float(car[1])), look, spec)
            if cam:
                _add(town, cam, "방범", "street", "street")
                break
        return k, s
    return None


def plan_driving(town: Town) -> None:
    spec = town.spec
    rng = np.random.default_rng([spec.seed, DRIVE_STREAM])
    if spec.suspect_drives:
        got = _board(town, rng)
        if got is not None:
            k, s = got
            lane = town.world.lanes[k]
            length = _lane_frame(lane)[3]
            for i in range(spec.plate_cameras):
                at = s + max(15.0, (length - 10.0 - s) * (i + 1) / (spec.plate_cameras + 0.5))
                cam = road_camera(town.world, rng, lane, at, spec.width * ROAD_SCALE, spec.height * ROAD_SCALE,
                                  front=i % 2 == 0)  # fmt: skip
                if cam:
                    _add(town, cam, "교통단속", "road", "road")
        return
    busy = _busy_lanes(town)
    for i in range(spec.plate_cameras):
        if not busy:
            break
        k = busy[i % len(busy)][0]
        lane = town.world.lanes[k]
        length = _lane_frame(lane)[3]
        cam = road_camera(town.world, rng, lane, float(rng.uniform(0.3, 0.7)) * length,
                          spec.width * ROAD_SCALE, spec.height * ROAD_SCALE, front=i % 2 == 0)  # fmt: skip
        if cam:
            _add(town, cam, "교통단속", "road", "road")
