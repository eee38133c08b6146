"""What a town folder's ground truth means: its format version, annotation thresholds, edges, clock."""

from __future__ import annotations

import datetime as dt

from relaytrack.town.plan import TownSpec

# 2: a drop is an event on a camera only where the courier is seen for most of it.
# 3: cameras.yaml is a register without links (links-truth.yaml holds the derived ones); look-alike decoys
#    dressed exactly as the suspect walk their own routes across the suspect's; large towns leave cameras
#    off the suspect's route and blind stretches between route cameras.
FORMAT_VERSION = 3
MIN_BOX_H = 20  # people shorter than this (pixels) are not annotated
MIN_VIS = 0.2  # nor those with less than this share of their body visible
EDGE_MARGIN = 0.04  # share of the frame that counts as its edge (as the tracker's default)
START_CLOCK = {"day": "14:00:00", "dusk": "17:25:00", "night": "22:40:00"}


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
