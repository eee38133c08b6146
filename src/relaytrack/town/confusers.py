"""Innocent look-alikes of a courier: people who stop, crouch, reach into or photograph hiding spots and hide
nothing. They are where a courier watch's false alarms come from on a real residential street.

Kinds (each with its own timing and posture, drawn per person):

- ``resident``: comes down the street, opens the mailbox (bends and reaches in for a few seconds) and goes in
  at a door of that building: the track ends at the façade, a few metres from the spot;
- ``postman``: fills the spots along a row of façades one after another (4-6 stops of 3-6 s each, a reach at
  every one), then walks on;
- ``delivery``: walks up to a door next to a spot, crouches to set a parcel down, and walks back out;
- ``crouch``: a passer-by stops beside an AC unit (or flower pot), crouches 5-12 s facing along the street
  (tying a shoe, talking to a child), hands at the feet, and carries on the same way;
- ``smoker``: stands by a gas meter for 40-120 s, turning now and then, glancing at a phone once;
- ``photographer``: stops a few metres in front of a shop front or spot, holds a phone up 3-6 s, walks on.

They are planned after the cameras, at spots a camera sees (else no camera would show them and the town
would test nothing), and drawn from their own generator: a town without confusers is the town it was.
"""

from __future__ import annotations

import math

import numpy as np

from relaytrack.town.actors import Person, add_stop, random_look, timed
from relaytrack.town.world import Spot, World

KINDS = ("resident", "postman", "delivery", "crouch", "smoker", "photographer")
# Spot kinds each confuser prefers, best first (a kind the camera does not see falls back to the next).
PREFERS: dict[str, tuple[str, ...]] = {
    "resident": ("mailbox", "gas_meter", "ac_unit", "flower_pot"),
    "postman": ("mailbox", "gas_meter", "ac_unit", "flower_pot"),
    "delivery": ("ac_unit", "flower_pot", "mailbox", "gas_meter"),
    "crouch": ("ac_unit", "flower_pot", "utility_box"),
    "smoker": ("gas_meter", "ac_unit", "utility_box", "mailbox"),
    "photographer": ("flower_pot", "gas_meter", "mailbox", "ac_unit", "utility_box"),
}
FACADE = ("mailbox", "gas_meter", "ac_unit", "flower_pot")  # spots on a building's front strip


Action = tuple[float, float, str, float, tuple[float, float] | None]


def _unit(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([math.sin(a), math.cos(a)])


def _heading(a: np.ndarray, b: np.ndarray) -> float:
    d = b - a
    return math.degrees(math.atan2(d[0], d[1])) % 360


def visible_spots(world: World, cam, margin: float = 0.08) -> list[Spot]:
    """Spots whose centre a camera sees inside its image (margin: share of the width/height), 3-25 m away."""
    out = []
    for s in world.spots:
        uv, z = cam.project(np.array([s.box.centre]))
        u, v = float(uv[0][0]), float(uv[0][1])
        if not (3.0 <= float(z[0]) <= 25.0):
            continue
        if margin * cam.width < u < (1 - margin) * cam.width and margin * cam.height < v < cam.height * 0.97:
            out.append(s)
    return out


def door_of(world: World, spot: Spot, rng: np.random.Generator) -> np.ndarray | None:
    """A door in the building behind a façade spot: the last point before the wall, walking from the spot's
    stand point towards the building, shifted along the wall by up to 1.5 m."""
    back = -_unit(spot.facing_deg)
    along = np.array([back[1], -back[0]])
    base = np.array(spot.stand_point) + along * float(rng.uniform(-1.5, 1.5))
    prev = base
    for k in range(1, 40):
        p = base + back * 0.2 * k
        if world.inside_building(float(p[0]), float(p[1])):
            return prev - back * 0.25
        prev = p
    return None


def _lead_in(world: World, rng: np.random.Generator, stand: tuple[float, float], speed: float, arrive: float):
    """A walk from a random street corner to the sidewalk beside `stand`, reaching `stand` at `arrive`."""
    g = world.graph
    a, b, p = world.graph.nearest_edge(*stand)
    start = int(rng.integers(len(g.nodes)))
    came_by = a if rng.random() < 0.5 else b
    pts = [np.array(g.nodes[n]) for n in g.shortest(start, came_by)] + [np.array(p)]
    pts_a = np.array(pts)
    length = float(np.hypot(*np.diff(pts_a, axis=0).T).sum()) if len(pts_a) > 1 else 0.0
    t0 = arrive - (length + math.dist(p, stand)) / speed
    times, tp = timed(pts_a, t0, speed)
    other = b if came_by == a else a
    return list(tp), list(times), np.array(p), other


def _walk(P: list, T: list, pts, speed: float) -> None:
    for q in pts:
        q = np.asarray(q, np.float64)
        T.append(T[-1] + float(np.hypot(*(q - P[-1]))) / speed)
        P.append(q)


def _walk_on(world: World, rng: np.random.Generator, P: list, T: list, access: np.ndarray, node: int, speed):
    """Back to the sidewalk and on down the street through `node` to a random corner."""
    g = world.graph
    _walk(P, T, [access], speed)
    _walk(P, T, [g.nodes[n] for n in g.shortest(node, int(rng.integers(len(g.nodes))))], speed)


def _person(rng: np.random.Generator, pid: int, items: tuple[str, ...] | None = None) -> Person:
    look, up, lo = random_look(rng, items=items)
    return Person(pid, look, up, lo, "confuser", np.zeros(0), np.zeros((0, 2)))


def _finish(p: Person, P: list, T: list) -> Person:
    p.times, p.xy = np.array(T, np.float64), np.array(P, np.float64)
    return p


def _stop(p: Person, spot: Spot, start: float, end: float) -> None:
    p.stops.append({"spot": spot.id, "kind": spot.kind, "start": start, "end": end})


def _reach(spot: Spot) -> tuple[str, tuple[float, float]]:
    sx, sy = spot.stand_point
    d = max(0.3, math.hypot(spot.x - sx, spot.y - sy) - 0.15)
    return ("crouch" if spot.hand_z < 0.75 else "bend"), (d, spot.hand_z)


def _stand_pose_stand(
    a: float, t1: float, t2: float, b: float, pose: str, facing: float, reach: tuple[float, float] | None
) -> list[Action]:
    """A stop's actions from arrival `a` to leaving at `b`: standing until t1, `pose` (hand at `reach`) until
    t2, standing again until b, all facing `facing`."""
    return [(a, t1, "stand", facing, None), (t1, t2, pose, facing, reach), (t2, b, "stand", facing, None)]


def resident(world, rng, pid, spot: Spot, arrive: float) -> Person:
    p = _person(rng, pid)
    speed = float(rng.uniform(1.0, 1.35))
    P, T, _acc, _node = _lead_in(world, rng, spot.stand_point, speed, arrive)
    stay = float(rng.uniform(5.0, 9.0))
    a, b = add_stop(P, T, spot.stand_point, speed, stay)
    pose, reach = _reach(spot)
    facing = (spot.facing_deg + 180) % 360
    hand = float(rng.uniform(2.5, 4.0))
    p.actions += _stand_pose_stand(a, a + 0.8, a + 0.8 + hand, b, pose, facing, reach)
    _stop(p, spot, a, b)
    door = door_of(world, spot, rng)
    if door is None:  # no wall behind (a free-standing spot): home is further down the street
        _walk_on(world, rng, P, T, _acc, _node, speed)
    else:
        _walk(P, T, [door], speed * 0.8)  # the track ends at the door: the resident went in
    return _finish(p, P, T)


def postman(world, rng, pid, spots: list[Spot], arrive: float) -> Person:
    p = _person(rng, pid, items=("handbag",))
    speed = float(rng.uniform(1.2, 1.5))
    P, T, acc, node = _lead_in(world, rng, spots[0].stand_point, speed, arrive)
    for s in spots:
        stay = float(rng.uniform(3.0, 6.0))
        a, b = add_stop(P, T, s.stand_point, speed, stay)
        pose, reach = _reach(s)
        facing = (s.facing_deg + 180) % 360
        p.actions += _stand_pose_stand(a, a + 0.4, b - 0.5, b, pose, facing, reach)
        _stop(p, s, a, b)
    _, node_b, acc_last = world.graph.nearest_edge(*spots[-1].stand_point)
    _walk_on(world, rng, P, T, np.array(acc_last), node_b, speed)
    return _finish(p, P, T)


def delivery(world, rng, pid, spot: Spot, arrive: float) -> Person:
    p = _person(rng, pid, items=("backpack",))
    speed = float(rng.uniform(1.4, 1.8))  # riders hurry
    door = door_of(world, spot, rng)
    place = tuple(door) if door is not None else spot.stand_point
    P, T, acc, node = _lead_in(world, rng, place, speed, arrive)
    stay = float(rng.uniform(3.0, 5.5))
    a, b = add_stop(P, T, place, speed, stay)
    facing = (spot.facing_deg + 180) % 360
    down = float(rng.uniform(1.5, 2.5))
    p.actions += _stand_pose_stand(a, a + 0.5, a + 0.5 + down, b, "crouch", facing, (0.45, 0.1))
    _stop(p, spot, a, b)
    _walk_on(world, rng, P, T, acc, node, speed)
    return _finish(p, P, T)


def crouch(world, rng, pid, spot: Spot, arrive: float) -> Person:
    p = _person(rng, pid)
    speed = float(rng.uniform(1.1, 1.4))
    P, T, acc, node = _lead_in(world, rng, spot.stand_point, speed, arrive)
    # Facing along the walk (the way the person was going), not at the spot: the spot is only beside them.
    walking = _heading(np.asarray(P[-2] if len(P) > 1 else P[-1]), np.asarray(P[-1]))
    stay = float(rng.uniform(5.0, 12.0))
    a, b = add_stop(P, T, spot.stand_point, speed, stay)
    low = float(rng.uniform(0.7, 0.9)) * stay
    p.actions += _stand_pose_stand(a, a + 0.5, a + 0.5 + low, b, "crouch", walking, (0.25, 0.08))
    _stop(p, spot, a, b)
    _walk_on(world, rng, P, T, acc, node, speed)
    return _finish(p, P, T)


def smoker(world, rng, pid, spot: Spot, arrive: float, duration: float) -> Person:
    p = _person(rng, pid)
    speed = float(rng.uniform(0.9, 1.2))
    side = np.array(spot.stand_point) + _unit(spot.facing_deg) * 0.4 + rng.uniform(-0.5, 0.5, 2)
    P, T, acc, node = _lead_in(world, rng, tuple(side), speed, arrive)
    # A cigarette is 40-120 s; in short footage it is cut to what is left of it (the visit must be seen).
    stay = min(float(rng.uniform(40.0, 120.0)), max(12.0, duration - arrive - 3.0))
    a, b = add_stop(P, T, tuple(side), speed, stay)
    t, k = a, 0
    while t < b - 0.5:
        seg = min(b, t + float(rng.uniform(8.0, 20.0)))
        facing = float(rng.uniform(0, 360))
        if k == 1:  # one look at the phone, some way into the cigarette
            g = min(seg, t + float(rng.uniform(3.0, 6.0)))
            p.actions.append((t, g, "phone", facing, None))
            if g < seg:
                p.actions.append((g, seg, "stand", facing, None))
        else:
            p.actions.append((t, seg, "stand", facing, None))
        t, k = seg, k + 1
    _stop(p, spot, a, b)
    _walk_on(world, rng, P, T, acc, node, speed)
    return _finish(p, P, T)


def photographer(world, rng, pid, spot: Spot, arrive: float) -> Person:
    p = _person(rng, pid)
    speed = float(rng.uniform(1.1, 1.4))
    place = np.array(spot.stand_point) + _unit(spot.facing_deg) * float(rng.uniform(1.5, 2.5))
    if world.inside_building(float(place[0]), float(place[1]), margin=0.3):
        place = np.array(spot.stand_point)
    P, T, acc, node = _lead_in(world, rng, tuple(place), speed, arrive)
    stay = float(rng.uniform(5.0, 9.0))
    a, b = add_stop(P, T, tuple(place), speed, stay)
    facing = (spot.facing_deg + 180) % 360
    shot = float(rng.uniform(3.0, 6.0))
    p.actions += _stand_pose_stand(a, a + 1.0, a + 1.0 + shot, b, "phone", facing, None)
    _stop(p, spot, a, b)
    _walk_on(world, rng, P, T, acc, node, speed)
    return _finish(p, P, T)


def _row(world: World, first: Spot, n: int) -> list[Spot]:
    """A postman's round: façade spots along the street from `first`, each 2-15 m from the previous one."""
    chain = [first]
    pool = [s for s in world.spots if s.kind in FACADE and s.id != first.id]
    while len(chain) < n:
        last = chain[-1]
        near = sorted(
            (s for s in pool if s not in chain and 2.0 < math.dist((s.x, s.y), (last.x, last.y)) < 15.0
             and abs(s.y - first.y) < 3.0 + abs(s.x - first.x) * 0.05),
            key=lambda s: math.dist((s.x, s.y), (last.x, last.y)),
        )  # fmt: skip
        if not near:
            break
        chain.append(near[0])
    return chain


def spot_cameras(spec) -> int:
    """Cameras kept for watching façade spots in a town with confusers: a third of them (at least one while
    another camera is left for the suspect's route); none without confusers, so those towns are unchanged."""
    if spec.confusers <= 0 or spec.cameras < 2:
        return 0
    return max(1, min(spec.cameras - 1 - (1 if spec.couriers > 0 else 0), round(spec.cameras / 3)))


def add_spot_cameras(world: World, spec, n: int, add) -> None:
    """n cameras each looking at a façade spot from across the sidewalk, as a courier camera does."""
    from relaytrack.town.plan import place_camera

    rng = np.random.default_rng([spec.seed, 0x5B07])
    spots = [s for s in world.spots if s.kind in FACADE]
    placed, tries = 0, 0
    while placed < n and spots and tries < 200:
        tries += 1
        s = spots[int(rng.integers(len(spots)))]
        look = s.facing_deg + 180 + float(rng.choice([-1, 1]) * rng.uniform(15, 45))
        cam = place_camera(world, rng, (s.x, s.y), look, spec)
        if cam is not None:
            add(cam)
            placed += 1


def plan_confusers(world: World, cams: list, seed: int, n: int, first_id: int, duration: float):
    """n confusers (kinds in turn, so every kind appears once n >= 6) at spots the cameras see, spread over
    the footage. Returns [(Person, kind)]; cameras are CamSpec-like (a `.cam` with project())."""
    rng = np.random.default_rng([seed, 0xC0F5])
    seen = [visible_spots(world, c.cam) for c in cams]
    out: list[tuple[Person, str]] = []
    for d in range(n):
        kind = KINDS[d % len(KINDS)]
        order = [int(i) for i in rng.permutation(len(cams))]
        spot = None
        for ci in order:
            pool = seen[ci]
            for want in PREFERS[kind]:
                cands = [s for s in pool if s.kind == want]
                if cands:
                    spot = cands[int(rng.integers(len(cands)))]
                    break
            if spot is not None:
                break
        if spot is None:
            continue
        # Spread in time: the d-th confuser arrives in the d-th slice of the footage (long towns stay busy).
        arrive = float(
            np.clip(duration * (d + rng.uniform(0.1, 0.7)) / max(n, 1), 3.0, max(3.0, duration - 20))
        )
        pid = first_id + len(out)
        if kind == "resident":
            p = resident(world, rng, pid, spot, arrive)
        elif kind == "postman":
            p = postman(world, rng, pid, _row(world, spot, int(rng.integers(4, 7))), arrive)
        elif kind == "delivery":
            p = delivery(world, rng, pid, spot, arrive)
        elif kind == "crouch":
            p = crouch(world, rng, pid, spot, arrive)
        elif kind == "smoker":
            p = smoker(world, rng, pid, spot, arrive, duration)
        else:
            p = photographer(world, rng, pid, spot, arrive)
        out.append((p, kind))
    return out
