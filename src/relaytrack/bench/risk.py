"""Risk benchmark: the 구-level backtest under its protocol, and full-Seoul build time.

`run_bench(cfg, repeat=3) -> dict` builds (and backtests) the index `repeat` times and compares the k-d tree
nearest-camera query with an estimated brute-force one; `print_report` prints the backtest protocol (which
layers may predict which year, which are static), the per-predictor table (index, last year's crime, the
combined model, population) and the timing; `relaytrack bench risk` prints and writes it.
"""

from __future__ import annotations

import time

import numpy as np


def run_bench(cfg, repeat: int = 3) -> dict | None:
    """Figures of `repeat` full builds (None when nothing ran)."""
    from scipy.spatial import cKDTree

    from relaytrack.risk.index import build
    from relaytrack.risk.validate import backtest

    times, res, bt = [], None, None
    for _ in range(repeat):
        t = time.perf_counter()
        res = build(cfg)
        bt = backtest(res)
        times.append(time.perf_counter() - t)
    if res is None:
        return None
    cams = res.points["cameras"]
    cxy = np.column_stack([res.grid.cx, res.grid.cy])
    pxy = np.column_stack([cams.x, cams.y])
    t = time.perf_counter()
    cKDTree(pxy).query(cxy, k=1)
    kd = time.perf_counter() - t
    sample = cxy[:: max(1, len(cxy) // 1000)]
    t = time.perf_counter()
    for row in sample:
        np.min(np.sum((pxy - row) ** 2, axis=1))
    brute = (time.perf_counter() - t) * len(cxy) / len(sample)
    return {
        "cells": len(res.score),
        "cameras": len(cams),
        "lights": len(res.points["lights"]),
        "build_seconds_median": round(float(np.median(times)), 3),
        "build_seconds_all": [round(x, 3) for x in times],
        "stages": res.seconds,
        "nearest_camera_kdtree_s": round(kd, 3),
        "nearest_camera_bruteforce_s_est": round(brute, 2),
        "target_s": 10.0,
        "meets_target": bool(np.median(times) < 10.0),
        "backtest": bt,
        "protocol": protocol(bt, cfg),
    }


def protocol(bt: dict, cfg) -> dict:
    years = [y["year"] for y in bt["years"]]
    return {
        "data": "Seoul open data (../shared/data/seoul): 5 major crimes per 구 and year 2014-2023, layers as "
        "dated in risk/history.py LAYER_DATES",
        "tuning split": "none fitted on test years: index weights are fixed in config; the combined model is "
        "refitted for each test year on year pairs before it",
        "scored split": f"test years {years}, each predicted from earlier years only "
        f"(crime history {cfg.backtest.history_years} years)",
        "layers": "; ".join(
            f"{k}: {'from ' + str(v['first_year']) if v['first_year'] else 'static, no history (left out)'}"
            for k, v in bt["layers"].items()
        ),
        "finer levels": bt["finer"],
        "thresholds": f"Spearman over {bt['areas']} 구; top-{bt['top_k']} hit; mae_log = mean |log(1+forecast) - "
        "log(1+actual)|",
    }


def print_report(fig: dict, echo) -> None:
    from rich.table import Table

    from relaytrack.ui import console

    bt = fig["backtest"]
    for k, v in fig["protocol"].items():
        echo(f"[dim]{k}: {v}[/dim]")
    for target in ("count", "rate", "density"):
        t = Table("predictor", "Spearman", f"top-{bt['top_k']} hit", "mae_log",
                  title=f"backtest per 구, target {target}: {bt['targets'][target]}")  # fmt: skip
        for p, v in bt[target].items():
            t.add_row(p, str(v.get("spearman", "")), str(v.get("top_k_hit", "")), str(v.get("mae_log", "")))
        console.print(t)
    y = Table("year", "used", "left out", title="indicators per test year")
    for row in bt["years"]:
        y.add_row(str(row["year"]), ", ".join(row["indicators_used"]), ", ".join(row["indicators_left_out"]))
    console.print(y)
    echo(f"indicators add over last year's crime (combined vs last-year regression, counts, mae_log): "
         f"{bt['indicators_add_over_last_year']}")  # fmt: skip
    echo(f"build {fig['build_seconds_median']} s median over {len(fig['build_seconds_all'])} "
         f"(target {fig['target_s']} s); nearest camera k-d tree {fig['nearest_camera_kdtree_s']} s vs brute "
         f"force ~{fig['nearest_camera_bruteforce_s_est']} s")  # fmt: skip
