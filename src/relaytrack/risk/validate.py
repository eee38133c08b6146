"""Honest validation: does the index built from what was known before year T rank 구 by T's crime?

For each test year T the crime indicator is rebuilt from the `history_years` years before T only, and every
other indicator is used only if its layer is dated before T (risk/history.py: LAYER_DATES; an older dated
layer stands in where one exists, undated layers are static with no history and stay out). The 구 ranking by
the index is compared with year T's recorded 5-major-crime counts (and rates per 1,000 residents, per km²).
Baselines use the same information or less: population only, and last year's crime only. A combined model
(last year's crime plus the indicators, fitted on earlier years) says whether the indicators add anything over
last year's crime alone. Crime is published per 구 only, so nothing finer can be backtested on open data;
cell-level validation runs only when confirmed alerts with times exist (earlier half -> later half).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from relaytrack.risk.history import combined_forecast, layer_date, usable_source
from relaytrack.risk.indicators import IndicatorValues, normalise, raw_values
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


def indicators_at(res: RiskResult, year: int) -> tuple[list[IndicatorValues], dict[str, str]]:
    """The non-crime indicators known before `year` (a dated stand-in layer where the newer one is too late),
    and why each other indicator was left out."""
    cfg = res.cfg
    used, left = [], {}
    trees: dict = {}
    for iv in res.indicators:
        if iv.spec.source == "crime_rate":
            continue
        src = usable_source(iv.spec.source, year)
        if src is None:
            d = layer_date(iv.spec.source)
            left[iv.name] = (f"dated for {d.first_year}+ ({d.note})" if d.first_year else d.note)
            continue
        if src == iv.spec.source:
            used.append(iv)
            continue
        spec = iv.spec.model_copy(update={"source": src})
        got = raw_values(iv.name, spec, res.grid, res.points, res.stats, cfg, trees)
        if got is None:
            left[iv.name] = f"stand-in layer {src!r} has no data"
            continue
        raw, unit = got
        used.append(IndicatorValues(iv.name, spec, raw, normalise(raw, cfg.normalise, spec.higher_is_riskier),
                                    unit))  # fmt: skip
    return used, left


def _mae(pred_log: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error in log(1 + value): about the relative error of the forecast."""
    return round(float(np.mean(np.abs(pred_log - np.log1p(truth)))), 4)


def district_backtest(res: RiskResult) -> dict:
    cfg = res.cfg.backtest
    by_year = res.stats.crime_by_year
    pop = res.stats.values["population"]
    names = res.names()
    crime_iv = next(
        (iv for iv in res.indicators if iv.spec.method == "district" and iv.spec.source == "crime_rate"), None
    )
    area = res.stats.values["area_km2"]
    series = {
        "count": dict(by_year),
        "rate": {y: v / pop * 1000.0 for y, v in by_year.items()},
        "density": {y: v / area for y, v in by_year.items()},
    }
    years = []
    for t in cfg.test_years:
        hist = [y for y in range(t - cfg.history_years, t) if y in by_year]
        if t not in by_year or not hist or (t - 1) not in by_year:
            continue
        env, left = indicators_at(res, t)
        ivs = list(env)
        if crime_iv is not None:
            # Rebuild the crime indicator from the history window only, then the composite.
            past_rate = np.mean([by_year[y] for y in hist], axis=0) / pop * 1000.0
            norm = normalise(past_rate[res.grid.district], res.cfg.normalise, crime_iv.spec.higher_is_riskier)
            ivs.append(type(crime_iv)(crime_iv.name, crime_iv.spec, past_rate[res.grid.district], norm,
                                      crime_iv.unit))  # fmt: skip
        cells = composite(ivs)[0] if ivs else None
        env_cells = composite(env)[0] if env else None
        # 구 means of each known indicator: the extra features of the combined model.
        extra = np.column_stack([_district_mean(res, iv.norm) for iv in env]) if env else None
        row: dict = {"year": t, "history": hist, "indicators_used": [iv.name for iv in ivs],
                     "indicators_left_out": left}  # fmt: skip
        for target, s in series.items():
            truth = s[t]
            # Counts grow with a 구's size, so the index is summed over its cells for them (risk mass) and
            # averaged for the per-resident and per-km² targets.
            agg = _district_sum if target == "count" else _district_mean
            preds = {"population": pop, "last_year_crime": s[t - 1]}
            if cells is not None:
                preds["index"] = agg(res, cells)
            if env_cells is not None:
                preds["index_without_crime"] = agg(res, env_cells)
            fc = combined_forecast(s, t, extra)
            if fc is not None and "combined" in fc:
                preds["combined"] = np.expm1(fc["combined"])
            row[target] = {
                p: {"spearman": _r(spearman(v, truth)), "top_k_hit": round(top_k_hit(v, truth, cfg.top_k), 3)}
                for p, v in preds.items()
            }
            if fc is not None:
                for p, v in fc.items():
                    row[target].setdefault(p, {})["mae_log"] = _mae(v, truth)
        years.append(row)
    out: dict = {
        "unit": "district (구)",
        "areas": len(pop),
        "top_k": cfg.top_k,
        "history_years": cfg.history_years,
        "indicators": names,
        "years": years,
        "layers": {
            iv.name: {"source": iv.spec.source, "first_year": layer_date(iv.spec.source).first_year,
                      "note": layer_date(iv.spec.source).note}
            for iv in res.indicators if iv.spec.source != "crime_rate"
        },  # fmt: skip
        "static_no_history": sorted(
            iv.name for iv in res.indicators
            if iv.spec.source != "crime_rate" and layer_date(iv.spec.source).first_year is None
        ),  # fmt: skip
        "caveat": "each test year uses only layers dated before it (see layers); undated layers are static "
        "with no history and are left out; the rate targets divide by the 2021-12 population (no series)",
        "finer": "not available: the open data has crime per 구 and year only (no dated incident points per "
        "동 or cell); see cells for the alert-based cell check",
    }
    out["targets"] = {
        "count": "5 major crimes recorded in the 구 (index summed over cells)",
        "rate": "per 1,000 residents (index averaged)",
        "density": "per km² (index averaged)",
    }
    preds_all = ("index", "index_without_crime", "population", "last_year_crime", "combined")
    for target in ("count", "rate", "density"):
        summary = {}
        for p in preds_all:
            rs = [y[target][p]["spearman"] for y in years
                  if p in y[target] and y[target][p].get("spearman") is not None]  # fmt: skip
            hs = [y[target][p]["top_k_hit"] for y in years if p in y[target] and "top_k_hit" in y[target][p]]
            if rs:
                summary[p] = {"spearman": _r(float(np.mean(rs))), "top_k_hit": _r(float(np.mean(hs)))}
        for p in ("last_year_model", "combined"):
            ms = [y[target][p]["mae_log"] for y in years if "mae_log" in y[target].get(p, {})]
            if ms:
                summary.setdefault(p, {})["mae_log"] = _r(float(np.mean(ms)))
        out[target] = summary
    # Headline numbers the CLI contract names: the index against the two baselines, counts target.
    c = out["count"]
    out["spearman"] = c.get("index", {}).get("spearman")
    out["baselines"] = {k: v["spearman"] for k, v in c.items() if k not in ("index", "combined") and "spearman" in v}
    out["beats_last_year"] = (
        out["spearman"] is not None
        and "last_year_crime" in c
        and out["spearman"] > c["last_year_crime"]["spearman"]
    )
    # Do the indicators add anything over last year's crime? Same regression with and without them.
    comb, last = c.get("combined", {}), c.get("last_year_model", {})
    out["indicators_add_over_last_year"] = (
        None if "mae_log" not in comb or "mae_log" not in last else bool(comb["mae_log"] < last["mae_log"])
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
