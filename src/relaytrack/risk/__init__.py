"""Crime-risk index, camera coverage gaps and courier-watch camera priorities on Seoul open data.

A 100 m grid (EPSG:5179, 국가지점번호 cell ids) over Seoul's 구/동 boundaries; indicator layers loaded from
files named in a strict config (`RiskConfig`, YAML/JSON via `load_config`); nine default indicators after
shared/data/seoul/INDICATORS.md, each marked confirmed (publicly named among Seoul's 9) or assumed, plus an
`incidents` indicator fed by relaytrack's own confirmed alerts.

Public API (for the service and `relaytrack demo`):

- `load_config(path: Path | None) -> RiskConfig`: defaults merged with a YAML/JSON file; unknown keys raise
  ConfigError naming the key.
- `build(cfg: RiskConfig | None = None, alerts: Iterable[dict | object] | None = None) -> RiskResult`:
  the whole index in memory (about 3-4 s for all of Seoul). `alerts` items have `camera_id` (or `camera`),
  `lat`, `lon`, `time` (epoch s, ISO string or datetime; naive = Seoul time).
- `add_alerts(res, alerts) -> RiskResult`: rebuild with more confirmed alerts as incidents.
- `write_outputs(res, out_dir: Path) -> dict`: cells.geojson, layers/*.geojson, cells/dongs/districts/
  cameras/gaps.csv, map.html; returns the summary dict (summary.json's content minus `seconds`).
- `run_build(config: Path | None, out: Path, alerts: Path | None = None) -> dict`: build + write +
  summary.json (what `relaytrack risk build` runs).
- `rank_cells(res, n, gaps_only=False) -> list[dict]`: rank, cell, score, district, dong, lat, lon,
  nearest_camera_m, gap, reasons (list of "indicator=value unit (pNN)").
- `rank_areas(res, "dong" | "district", n=None) -> list[dict]`: rank, dong|district, code, score (mean cell
  score), cells, gap_cells, cameras, reasons.
- `rank_cameras(res, n=None) -> list[dict]`: the cameras layer ordered for courier watch: rank, camera,
  score, lat, lon, district, cell, cell_score, residential, reasons.
- `camera_priority(res, [(camera_id, lat, lon), ...]) -> list[dict]`: same rows for any cameras (e.g. the
  store's), highest first: the order the watch and the console should show streams in.
- `time_profile(res, cell_index) -> list[dict]`: per 2-hour slot: slot "HH-HH", share, risk, incidents.
  `res.index_of(cell_id)` gives the index of a cell id.
- `backtest(res) -> dict`: 구-level Spearman and top-k hit rate of the index vs population-only and
  last-year-crime baselines for each test year (and cell-level when enough timed alerts exist).
- `read_ranking(out_dir, by, n) -> list[dict]`: top rows of a written build (what `risk top` prints).
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy: `relaytrack --help` imports relaytrack.cli.risk, which imports this package, and should not pay for scipy/shapely.
_EXPORTS = {
    "backtest": "validate",
    "add_alerts": "index",
    "alerts_to_points": "index",
    "build": "index",
    "run_build": "report",
    "read_alerts": "report",
    "RiskConfig": "config",
    "load_config": "config",
    "read_ranking": "report",
    "write_outputs": "report",
    "RiskResult": "score",
    "camera_priority": "score",
    "rank_areas": "score",
    "rank_cameras": "score",
    "rank_cells": "score",
    "time_profile": "score",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'relaytrack.risk' has no attribute {name!r}")
    return getattr(importlib.import_module(f"relaytrack.risk.{_EXPORTS[name]}"), name)
