"""Honest validation: does the index built from earlier years rank 구 by later crime?

For each test year T the crime indicator is rebuilt from the `history_years` years before T only, the
other layers stay as they are (they are snapshots dated 2018-2025, so they may know a little of the
future: said in the output), and the 구 ranking by mean cell score is compared with year T's recorded
5-major-crime counts (and rates per 1,000 residents). Baselines use the same information or less:
population only, and last year's crime only. Cell-level validation needs dated incident points; it runs
only when confirmed alerts with times exist (earlier half -> later half).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from relaytrack.risk.indicators import normalise
from relaytrack.risk.score import RiskResult, composite


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def top_k_hit(pred: np.ndarray, actual: np.ndarray, k: int) -> float:
    """Share of the k truly highest areas that the prediction also puts in its top k."""
    k = min(k, len(pred))
    return len(set(np.argsort(-pred, kind="stable")[:k]) & set(np.argsort(-actual, kind="stable")[:k])) / k


def _district_mean(res: RiskResult, cell_values: np.ndarray) -> np.ndarray:
    k = len(res.grid.districts)
    cnt = np.bincount(res.grid.district, minlength=k)
    return np.bincount(res.grid.district, weights=cell_values, minlength=k) / np.maximum(cnt, 1)


def _district_sum(res: RiskResult, cell_values: np.ndarray) -> np.ndarray:
    return np.bincount(res.grid.district, weights=cell_values, minlength=len(res.grid.districts))


def district_backtest(res: RiskResult) -> dict:
    cfg = res.cfg.backtest
    by_year = res.stats.crime_by_year
    pop = res.stats.values["population"]
    names = res.names()
    crime_j = next(
        (
            j
            for j, iv in enumerate(res.indicators)
            if iv.spec.method == "district" and iv.spec.source == "crime_rate"
        ),
        None,
    )
    env = [iv for iv in res.indicators if iv.spec.source != "crime_rate"]
    env_cells = composite(env)[0] if env else None
    area = res.stats.values["area_km2"]
    years = []
    for t in cfg.test_years:
        hist = [y for y in range(t - cfg.history_years, t) if y in by_year]
        if t not in by_year or not hist or (t - 1) not in by_year:
            continue
        if crime_j is not None:
            # Rebuild the crime indicator from the history window only, then the composite.
            past_rate = np.mean([by_year[y] for y in hist], axis=0) / pop * 1000.0
            ivs = list(res.indicators)
            iv = ivs[crime_j]
            norm = normalise(past_rate[res.grid.district], res.cfg.normalise, iv.spec.higher_is_riskier)
            ivs[crime_j] = type(iv)(iv.name, iv.spec, past_rate[res.grid.district], norm, iv.unit)
            cells = composite(ivs)[0]
        else:
            cells = res.score
        # Counts grow with a 구's size, so the index is summed over its cells for them (risk mass) and
        # averaged for the per-resident and per-km² targets.
        actual = {"count": by_year[t], "rate": by_year[t] / pop * 1000.0, "density": by_year[t] / area}
        last = {
            "count": by_year[t - 1],
            "rate": by_year[t - 1] / pop * 1000.0,
            "density": by_year[t - 1] / area,
        }
        row: dict = {"year": t, "history": hist}
        for target, truth in actual.items():
            agg = _district_sum if target == "count" else _district_mean
            preds = {"index": agg(res, cells), "population": pop, "last_year_crime": last[target]}
            if env_cells is not None:
                preds["index_without_crime"] = agg(res, env_cells)
            row[target] = {
                p: {"spearman": _r(spearman(v, truth)), "top_k_hit": round(top_k_hit(v, truth, cfg.top_k), 3)}
                for p, v in preds.items()
            }
        years.append(row)
    out: dict = {
        "unit": "district (구)",
        "areas": len(pop),
        "top_k": cfg.top_k,
        "history_years": cfg.history_years,
        "indicators": names,
        "years": years,
        "caveat": "non-crime layers are single snapshots (2018-2025) and are reused for every test year",
    }
    out["targets"] = {
        "count": "5 major crimes recorded in the 구 (index summed over cells)",
        "rate": "per 1,000 residents (index averaged)",
        "density": "per km² (index averaged)",
    }
    for target in ("count", "rate", "density"):
        summary = {}
        for p in ("index", "index_without_crime", "population", "last_year_crime"):
            rs = [
                y[target][p]["spearman"]
                for y in years
                if p in y[target] and y[target][p]["spearman"] is not None
            ]
            hs = [y[target][p]["top_k_hit"] for y in years if p in y[target]]
            if rs:
                summary[p] = {"spearman": _r(float(np.mean(rs))), "top_k_hit": _r(float(np.mean(hs)))}
        out[target] = summary
    # Headline numbers the CLI contract names: the index against the two baselines, counts target.
    c = out["count"]
    out["spearman"] = c.get("index", {}).get("spearman")
    out["baselines"] = {k: v["spearman"] for k, v in c.items() if k != "index"}
    out["beats_last_year"] = (
        out["spearman"] is not None
        and "last_year_crime" in c
        and out["spearman"] > c["last_year_crime"]["spearman"]
    )
    return out


def cell_backtest(res: RiskResult, min_incidents: int = 20) -> dict:
    """Earlier half of timed incidents feeds the index; does it put the later half in its top cells?"""
    inc = res.points.get("alerts")
    if inc is None or len(inc) < min_incidents:
        return {
            "available": False,
            "reason": f"needs at least {min_incidents} incident points with locations; the open data has "
            f"crime only per 구 (got {0 if inc is None else len(inc)} confirmed alerts)",
        }
    order = np.argsort(inc.rows)
    half = len(order) // 2
    later = res.grid.lookup(inc.x[order[half:]], inc.y[order[half:]])
    later = later[later >= 0]
    earlier = res.grid.lookup(inc.x[order[:half]], inc.y[order[:half]])
    top = max(1, len(res.score) // 100)
    past = np.bincount(earlier[earlier >= 0], minlength=len(res.score)).astype(np.float64)
    base_pop = res.stats.values["population_density"][res.grid.district]

    def hit(pred: np.ndarray) -> float:
        best = set(np.argsort(-pred, kind="stable")[:top])
        return round(float(np.mean([c in best for c in later])) if len(later) else 0.0, 3)

    return {
        "available": True,
        "top_cells": top,
        "later_incidents": int(len(later)),
        "hit_rate_top1pct": {
            "index": hit(res.score),
            "earlier_incidents": hit(past),
            "population": hit(base_pop),
        },
        "note": "the index already contains the earlier incidents as its incidents indicator",
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def backtest(res: RiskResult) -> dict:
    out = district_backtest(res)
    out["cells"] = cell_backtest(res)
    return out
