"""Per-cell raw indicator values and their normalisation to [0, 1] (1 = riskier).

Each method is a small vectorised function over cell centres, with a KD-tree on the layer's points, so a
new layer in config needs no new code: density (points within a radius), distance (to the nearest point),
gap (beyond the camera coverage radius), district (a 구 table value) and incidents (confirmed alerts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import rankdata

from relaytrack.errors import ConfigError
from relaytrack.risk.config import Indicator, RiskConfig
from relaytrack.risk.grid import Grid
from relaytrack.risk.layers import DistrictStats, Points


@dataclass
class IndicatorValues:
    name: str
    spec: Indicator
    raw: np.ndarray  # per cell, in the indicator's own unit
    norm: np.ndarray  # per cell, [0, 1], 1 = riskier
    unit: str


def _tree(points: Points) -> cKDTree:
    return cKDTree(np.column_stack([points.x, points.y]))


def _layer(name: str, spec: Indicator, points: dict[str, Points]) -> Points:
    if spec.source not in points:
        raise ConfigError(
            f"indicator {name}: unknown layer {spec.source!r}; layers: {', '.join(sorted(points))}"
        )
    return points[spec.source]


def raw_values(
    name: str,
    spec: Indicator,
    grid: Grid,
    points: dict[str, Points],
    stats: DistrictStats,
    cfg: RiskConfig,
    trees: dict[str, cKDTree],
) -> tuple[np.ndarray, str] | None:
    """Raw values per cell and their unit; None when the layer has no data (the indicator is skipped)."""
    centres = np.column_stack([grid.cx, grid.cy])
    if spec.method == "district":
        if spec.source not in stats.values:
            raise ConfigError(
                f"indicator {name}: unknown district value {spec.source!r}; available: "
                f"{', '.join(sorted(stats.values))}"
            )
        return stats.values[spec.source][grid.district], "per 구"
    layer = _layer(name, spec, points)
    if len(layer) == 0:
        return None
    tree = trees.setdefault(spec.source, _tree(layer))
    if spec.method in ("density", "incidents"):
        counts = tree.query_ball_point(centres, r=spec.radius_m, return_length=True)
        return counts.astype(np.float64), f"within {spec.radius_m:g} m"
    dist, _ = tree.query(centres, k=1, distance_upper_bound=spec.cap_m + cfg.coverage_radius_m)
    dist = np.minimum(dist, spec.cap_m + cfg.coverage_radius_m)
    if spec.method == "distance":
        return np.minimum(dist, spec.cap_m), "m"
    # gap: metres beyond the coverage radius of the nearest camera; 0 = covered
    return np.clip(dist - cfg.coverage_radius_m, 0.0, spec.cap_m), "m beyond coverage"


def normalise(raw: np.ndarray, how: str, higher_is_riskier: bool) -> np.ndarray:
    """Percentile rank (ties share their mean rank) or p1..p99 min-max; constant input -> 0.5."""
    if raw.size == 0:
        return raw.astype(np.float64)
    if np.ptp(raw) == 0:
        return np.full(raw.shape, 0.5)
    if how == "rank":
        n = (rankdata(raw, method="average") - 1.0) / max(len(raw) - 1, 1)
    else:
        lo, hi = np.percentile(raw, [1, 99])
        if hi <= lo:
            lo, hi = float(raw.min()), float(raw.max())
        n = np.clip((raw - lo) / (hi - lo), 0.0, 1.0)
    return n if higher_is_riskier else 1.0 - n


def compute_indicators(
    grid: Grid, points: dict[str, Points], stats: DistrictStats, cfg: RiskConfig
) -> tuple[list[IndicatorValues], dict[str, str]]:
    """All indicators with weight > 0 that have data, and the reason each skipped one was skipped."""
    out, skipped = [], {}
    trees: dict[str, cKDTree] = {}
    for name, spec in cfg.indicators.items():
        if spec.weight <= 0:
            skipped[name] = "weight 0"
            continue
        got = raw_values(name, spec, grid, points, stats, cfg, trees)
        if got is None:
            skipped[name] = f"no data in layer {spec.source!r}"
            continue
        raw, unit = got
        out.append(
            IndicatorValues(name, spec, raw, normalise(raw, cfg.normalise, spec.higher_is_riskier), unit)
        )
    if not out:
        raise ConfigError("risk config: no indicator with weight > 0 has data")
    return out, skipped
