"""Camera-to-camera links of a planned town, derived from many simulated walks over its sidewalk graph.

These are the town's true links (written to links-truth.yaml): what an oracle would know. The camera register
(cameras.yaml) does not carry them, as a real city's register does not.
"""

from __future__ import annotations

import numpy as np

from relaytrack.relay.netfile import link_from_gaps
from relaytrack.town.annotation import MIN_BOX_H, MIN_VIS, edge_of
from relaytrack.town.plan import CamSpec, Town
from relaytrack.town.render import View

MIN_CAMERA_TRANSITIONS = 30  # a camera seen in fewer walk-to-walk transitions gets walks through its view
EXTRA_WALKS = 80


def derive_links(
    town: Town, views: list[View] | None = None, n_walks: int = 700, seed: int = 0
) -> list[dict]:
    """Camera-to-camera links from many simulated walks over the same sidewalk graph as the people.

    Each walk is projected into every camera (box from feet and head, same annotation thresholds and
    edge rule as the ground truth); consecutive camera visits give (src, dst, exit_edge, entry_edge, gap).
    Random walks between random corners rarely pass a camera watching a side street or a dead end, whose
    links would then be missing from the "oracle" (the suspect's route can pass it all the same): every camera
    seen in fewer than MIN_CAMERA_TRANSITIONS transitions gets EXTRA_WALKS walks along a sidewalk it sees.
    """
    from relaytrack.town.actors import pedestrian

    rng = np.random.default_rng(seed + 4242)
    per_key: dict[tuple[str, str, str, str], list[float]] = {}
    for w in range(n_walks):
        p = pedestrian(town.world, rng, 10_000 + w, 0.0)
        _add_walk(town, views, p.times, p.xy, p.look.height, per_key)
    seen_in: dict[str, int] = {}
    for (src, dst, _ex, _en), gaps in per_key.items():
        seen_in[src] = seen_in.get(src, 0) + len(gaps)
        seen_in[dst] = seen_in.get(dst, 0) + len(gaps)
    for c in town.cameras:
        if seen_in.get(c.id, 0) >= MIN_CAMERA_TRANSITIONS:
            continue
        edges = _edges_seen(town, c)
        for _ in range(EXTRA_WALKS if edges else 0):
            times, xy, height = _walk_through(town, rng, edges[int(rng.integers(len(edges)))])
            _add_walk(town, views, times, xy, height, per_key)
    links = []
    for (src, dst, ex, en), gaps in sorted(per_key.items()):
        if len(gaps) < 3:
            continue
        links.append(link_from_gaps(src, dst, ex, en, gaps))
    return links


def _add_walk(town: Town, views: list[View] | None, times: np.ndarray, xy: np.ndarray, height: float,
              per_key: dict[tuple[str, str, str, str], list[float]], dt_s: float = 0.2) -> None:
    """One walk's camera visits, in time order; each change of camera adds its gap under its key."""
    ts = np.arange(times[0], times[-1], dt_s)
    if len(ts) < 3:
        return
    xs = np.interp(ts, times, xy[:, 0])
    ys = np.interp(ts, times, xy[:, 1])
    visits = []
    for ci, c in enumerate(town.cameras):
        vis, boxes = _visible_boxes(c, xs, ys, height, views[ci] if views else None)
        idx = np.nonzero(vis)[0]
        if len(idx) == 0:
            continue
        # Split into runs (gaps over 1 s are separate visits).
        breaks = np.nonzero(np.diff(idx) > int(1.0 / dt_s))[0]
        for run in np.split(idx, breaks + 1):
            W, H = c.cam.width, c.cam.height
            visits.append((ts[run[0]], ts[run[-1]], c.id, edge_of(boxes[run[0]], W, H), edge_of(boxes[run[-1]], W, H)))
    visits.sort()
    for a, b in zip(visits, visits[1:], strict=False):
        if a[2] != b[2]:
            per_key.setdefault((a[2], b[2], a[4], b[3]), []).append(b[0] - a[1])


def _edges_seen(town: Town, c: CamSpec, samples: int = 9) -> list[tuple[int, int]]:
    """Sidewalk-graph edges with a stretch whose ground falls inside the camera's frame, in front of it (a
    camera watching mid-block sees no corner)."""
    g = town.world.graph
    if not g.edges:
        return []
    nodes = np.asarray(g.nodes, np.float64)
    e = np.asarray(g.edges, np.int64)
    f = np.linspace(0.0, 1.0, samples)[None, :, None]
    pts = nodes[e[:, 0]][:, None, :] * (1 - f) + nodes[e[:, 1]][:, None, :] * f  # (E, samples, 2)
    flat = pts.reshape(-1, 2)
    uv, z = c.cam.project(np.column_stack([flat, np.zeros(len(flat))]))
    inside = (z > 0.8) & (uv[:, 0] >= 0) & (uv[:, 0] < c.cam.width) & (uv[:, 1] >= 0) & (uv[:, 1] < c.cam.height)
    hit = inside.reshape(len(e), samples).any(axis=1)
    return [(int(a), int(b)) for a, b in e[hit]]


def _walk_through(
    town: Town, rng: np.random.Generator, via: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, float]:
    """A walk from a random corner to another along the edge `via` (either way), at a pedestrian's speed."""
    from relaytrack.town.actors import route_points, timed

    g = town.world.graph
    u, v = via if rng.random() < 0.5 else via[::-1]
    a, b = int(rng.integers(len(g.nodes))), int(rng.integers(len(g.nodes)))
    nodes = g.shortest(a, u) + g.shortest(v, b)
    pts = route_points(town.world, nodes, tuple(rng.uniform(-0.7, 0.7, 2)))
    speed = float(np.clip(rng.normal(1.35, 0.15), 0.9, 1.8))
    times, xy = timed(pts, 0.0, speed)
    return times, xy, float(np.clip(rng.normal(1.67, 0.08), 1.45, 1.95))


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
