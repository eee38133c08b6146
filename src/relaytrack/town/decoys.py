"""Look-alike decoys: people dressed as the suspect, walking their own routes across the suspect's.

A decoy wears the suspect's upper and lower colours (every decoy: a description that names only clothes must
not tell them apart) and, for every other decoy, the suspect's carried item too. Each walks from a random
corner to a stretch of the suspect's own route where a route camera looks, along it for one to three edges (either way), and off to
another random corner, reaching the shared stretch within a short while of the suspect. So decoys pass some of
the suspect's cameras near the suspect's time and then leave for cameras the suspect never reaches.

Decoys are drawn from their own generator: adding them leaves the rest of a seed's town as it was.
"""

from __future__ import annotations

import numpy as np

from relaytrack.town.actors import Person, random_look, route_points, timed
from relaytrack.town.world import World

SHARED_EDGES = (1, 3)  # edges of the suspect's route a decoy walks along (inclusive range)
OFFSET_S = (6.0, 35.0)  # how long before or after the suspect the decoy reaches the shared stretch
ITEMS = ("backpack", "handbag", "umbrella")


def _other_items(items: tuple[str, ...], rng: np.random.Generator) -> tuple[str, ...]:
    """A different carried item (or none) than the suspect's: a look-alike that differs in its item only."""
    if items and rng.random() < 0.5:
        return ()
    pool = [i for i in ITEMS if i not in items]
    return (pool[int(rng.integers(len(pool)))],)


def lookalike(
    world: World,
    rng: np.random.Generator,
    pid: int,
    suspect: Person,
    route_nodes: list[int],
    node_times: np.ndarray,
    k: int,
    same_item: bool,
    duration: float,
) -> Person:
    """One decoy crossing the suspect's route at node index k (node_times: when the suspect is at each node),
    inside the footage's `duration` seconds."""
    g = world.graph
    m = int(rng.integers(SHARED_EDGES[0], SHARED_EDGES[1] + 1))
    k = int(np.clip(k, 0, max(0, len(route_nodes) - 2)))
    shared = list(route_nodes[k : k + m + 1])
    times = list(node_times[k : k + m + 1])
    reverse = bool(rng.random() < 0.5)  # against the suspect's direction
    offset = float(rng.uniform(*OFFSET_S)) * (1 if rng.random() < 0.5 else -1)
    t_cross = None
    for rev, off in ((reverse, offset), (reverse, -offset)):
        t = float(times[-1] if rev else times[0]) + off
        if 1.0 <= t <= duration - 1.0:
            reverse, t_cross = rev, t
            break
    if t_cross is None:
        # The footage is too short for either side of the suspect: meet the suspect head-on inside it (a
        # look-alike walking along with the suspect would be a pair, not a look-alike).
        reverse, t_cross = True, float(np.clip(times[-1], 1.0, max(1.0, duration - 1.0)))
    if reverse:
        shared = shared[::-1]
    a = int(rng.integers(len(g.nodes)))
    b = int(rng.integers(len(g.nodes)))
    lead = g.shortest(a, shared[0])
    tail = g.shortest(shared[-1], b)
    nodes = lead[:-1] + shared + tail[1:]
    items = suspect.look.items if same_item else _other_items(suspect.look.items, rng)
    look, up, lo = random_look(
        rng, upper=suspect.upper, lower=suspect.lower, items=items, female=suspect.look.female
    )
    speed = float(rng.uniform(1.2, 1.55))
    pts = route_points(world, nodes, tuple(rng.uniform(-0.6, 0.6, 2)))
    lead_len = float(np.hypot(*np.diff(pts[: len(lead)], axis=0).T).sum()) if len(lead) > 1 else 0.0
    t, p = timed(pts, t_cross - lead_len / speed, speed)
    return Person(pid, look, up, lo, "decoy", t, p)


def plan_decoys(
    world: World,
    seed: int,
    n: int,
    first_id: int,
    suspect: Person,
    route_nodes: list[int],
    node_times: np.ndarray,
    camera_times: list[float],
    duration: float,
) -> list[Person]:
    """n decoys crossing the suspect's route where route cameras look (camera_times: when the suspect passes
    each route camera's target), spread over those cameras in order; anywhere along the route without any."""
    rng = np.random.default_rng([seed, 0xDEC0])
    out = []
    anchors = sorted(camera_times)
    for d in range(n):
        u = (d + rng.uniform(0.15, 0.85)) / max(n, 1)
        if anchors:
            t = anchors[min(len(anchors) - 1, int(u * len(anchors)))]
            # Start the shared stretch a node or two before the camera's target so the walk passes through it.
            k = int(np.searchsorted(node_times, t)) - 1 - int(rng.integers(0, 2))
        else:
            k = int(u * max(1, len(route_nodes) - 2))
        out.append(
            lookalike(world, rng, first_id + d, suspect, route_nodes, node_times, k, d % 2 == 0, duration)
        )
    return out
