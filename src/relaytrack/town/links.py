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
        links.append(link_from_gaps(src, dst, ex, en, gaps))
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
