"""Risk benchmark: time full-Seoul index builds against brute-force nearest-camera search.

`run_bench(cfg, repeat=3) -> dict` builds (and backtests) the index `repeat` times and compares the k-d tree
nearest-camera query with an estimated brute-force one; `relaytrack bench risk` prints and writes it.
"""

from __future__ import annotations

import time

import numpy as np


def run_bench(cfg, repeat: int = 3) -> dict | None:
    """Figures of `repeat` full builds (None when nothing ran)."""
    from scipy.spatial import cKDTree

    from relaytrack.risk.index import build
    from relaytrack.risk.validate import backtest

    times, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = build(cfg)
        backtest(res)
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
    }
