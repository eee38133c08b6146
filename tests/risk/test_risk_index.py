"""Scores, rankings, gaps, camera order, time of day, alerts, backtest and the CLI on a mini Seoul."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from risk_fixtures import LAT0, LON0, STEP, mini_config

from relaytrack.paths import data_dir
from relaytrack.risk import (
    add_alerts,
    backtest,
    build,
    camera_priority,
    rank_areas,
    rank_cameras,
    rank_cells,
    time_profile,
    write_outputs,
)
from relaytrack.risk.indicators import normalise


@pytest.mark.parametrize("how", ["rank", "minmax"])
def test_normalise_direction_and_range(how: str) -> None:
    raw = np.array([0.0, 1.0, 2.0, 10.0])
    up, down = normalise(raw, how, True), normalise(raw, how, False)
    assert up[0] == 0 and up[-1] == 1 and np.all(np.diff(up) >= 0)
    assert np.allclose(up + down, 1.0)
    assert np.all(normalise(np.ones(4), how, True) == 0.5)


def test_scores_follow_the_layers(mini) -> None:
    _, cfg = mini
    res = build(cfg)
    assert len(res.score) > 1000 and 0 <= res.score.min() and res.score.max() <= 100
    assert set(res.names()) == set(cfg.indicators) - {"incidents"}
    assert res.skipped == {"incidents": "no data in layer 'alerts'"}
    venue = next(iv for iv in res.indicators if iv.name == "venue_density")
    near_bars = venue.raw > 0
    assert near_bars.any() and res.score[near_bars].mean() > res.score[~near_bars].mean()
    # A cell beside the 30 cameras is covered; gaps are high-scoring cells without a camera within 50 m.
    assert res.cam_dist.min() < 50
    assert np.all(res.cam_dist[res.gap] > cfg.coverage_radius_m)
    assert res.score[res.gap].min() >= np.percentile(res.score, cfg.gap_min_percentile) - 1e-9
    # Highest district is 중구: highest crime rate and drug rate, the bars.
    districts = rank_areas(res, "district")
    assert districts[0]["district"] == "중구" and districts[0]["reasons"]
    assert [d["rank"] for d in districts] == [1, 2, 3]
    top = rank_cells(res, 5)
    assert [c["score"] for c in top] == sorted((c["score"] for c in top), reverse=True)
    assert all(c["reasons"] and c["cell"].startswith("다사") for c in top)


def test_weights_change_the_order(mini) -> None:
    _, cfg = mini
    base = rank_areas(build(cfg), "district")[0]["district"]
    for name in cfg.indicators:
        if name != "population_density":
            cfg.indicators[name].weight = 0
    cfg.indicators["population_density"].weight = 1
    # 종로구 has the most residents per km² in the mini data.
    assert base == "중구" and rank_areas(build(cfg), "district")[0]["district"] == "종로구"


def test_camera_order_for_courier_watch(mini) -> None:
    _, cfg = mini
    res = build(cfg)
    cams = rank_cameras(res)
    assert len(cams) == 31 and cams[0]["score"] >= cams[-1]["score"]
    assert all(c["cell"] for c in cams)
    own = camera_priority(
        res,
        [
            ("low", LAT0 + 0.001, LON0 + 0.001),
            ("high", LAT0 + 0.015, LON0 + STEP + 0.012),
            ("away", 35.1, 129.0),
        ],
    )
    assert [c["camera"] for c in own] == ["high", "low", "away"] and own[-1]["score"] == 0


def test_time_profile_and_alerts(mini) -> None:
    _, cfg = mini
    res = build(cfg)
    cell = int(np.argmax(res.score))
    prof = time_profile(res, cell)
    assert len(prof) == 12 and abs(sum(p["share"] for p in prof) - 1) < 1e-3
    assert prof[11]["share"] > prof[2]["share"]  # national prior: 21-24 h band above 06-09 h
    lat, lon = LAT0 + 0.003, LON0 + 0.003
    alerts = [
        {"camera_id": "cam-1", "lat": lat, "lon": lon, "time": f"2024-05-0{d}T04:30:00"} for d in range(1, 7)
    ]
    alerts.append({"camera_id": "nowhere", "time": "2024-05-01T04:00:00"})
    res2 = add_alerts(res, alerts)
    led = res2.points["alerts"].ledger
    assert len(res2.points["alerts"]) == 6 and led.bad == {"no_coordinates": 1}
    assert "incidents" in res2.names()
    cell2 = int(
        np.argmin(
            np.hypot(res2.grid.cx - res2.points["alerts"].x[0], res2.grid.cy - res2.points["alerts"].y[0])
        )
    )
    assert res2.score[cell2] > res.score[cell2]
    prof2 = time_profile(res2, cell2)
    assert prof2[2]["incidents"] == 6 and max(prof2, key=lambda p: p["share"])["slot"] == "04-06"


def test_backtest_reports_baselines(mini) -> None:
    _, cfg = mini
    bt = backtest(build(cfg))
    assert [y["year"] for y in bt["years"]] == [2020, 2021, 2022]
    assert bt["years"][0]["history"] == [2018, 2019]
    # In the mini data crime rates are stable and 중구 ≫ 용산구 ≫ 종로구: last year ranks right; the index, built
    # only from layers dated before each year, ranks right in 2020-2021 (crime and the 2018 camera sites).
    assert bt["baselines"]["last_year_crime"] == 1.0 and bt["baselines"]["population"] == -1.0
    assert [y["count"]["index"]["spearman"] for y in bt["years"][:2]] == [1.0, 1.0]
    assert "combined" in bt["count"] and bt["indicators_add_over_last_year"] in (True, False)
    assert bt["cells"]["available"] is False and "incidents" not in bt["indicators"]


def test_outputs(mini, tmp_path: Path) -> None:
    _, cfg = mini
    res = build(cfg)
    out = tmp_path / "out"
    summary = write_outputs(res, out)
    gj = json.loads((out / "cells.geojson").read_text(encoding="utf-8"))
    assert len(gj["features"]) == summary["cells"] == len(res.score)
    props = gj["features"][0]["properties"]
    assert {"id", "score", "district", "dong", "gap", "crime_index", "venue_density", "reasons"} <= set(props)
    assert gj["features"][0]["geometry"]["type"] == "Polygon"
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<canvas" in html and "http://" not in html and "https://" not in html
    assert (
        summary["indicators"]["crime_index"] == "confirmed"
        and summary["indicators"]["venue_density"] == "assumed"
    )
    assert summary["bad_rows"]["cameras"] == {"unparsable": 1, "outside_seoul": 1}
    for f in ("cells.csv", "dongs.csv", "districts.csv", "cameras.csv", "gaps.csv", "layers/cameras.geojson"):
        assert (out / f).exists(), f


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "relaytrack.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_build_and_top(mini, tmp_path: Path) -> None:
    root, _ = mini
    cfg_file = tmp_path / "risk.json"

    cfg_file.write_text(mini_config(root).model_dump_json(), encoding="utf-8")
    env = dict(os.environ, RELAYTRACK_HOME=str(tmp_path / "home"))
    out = tmp_path / "o"
    r = _cli("risk", "build", "--config", str(cfg_file), "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {"cells", "cameras", "indicators", "backtest", "seconds"} <= set(s)
    assert "spearman" in s["backtest"] and "population" in s["backtest"]["baselines"]
    for by, key in (("cell", "cell"), ("dong", "dong"), ("district", "district"), ("camera", "camera")):
        r = _cli("risk", "top", "--n", "2", "--by", by, "--json", "--out", str(out), env=env)
        assert r.returncode == 0, r.stderr
        top = json.loads(r.stdout)["top"]
        assert len(top) == 2 and top[0][key] and top[0]["score"] >= top[1]["score"] and top[0]["reasons"]
    bad = _cli("risk", "top", "--by", "street", "--out", str(out), env=env)
    assert bad.returncode == 1 and "--by 'street'" in bad.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (data_dir() / "seoul").exists(), reason="needs shared/data/seoul")
def test_all_of_seoul(tmp_path: Path) -> None:
    res = build()
    assert 55_000 < len(res.score) < 65_000
    assert len(res.points["cameras"]) > 83_000 and len(res.points["lights"]) > 18_000
    bt = backtest(res)
    assert bt["spearman"] is not None and bt["baselines"]["last_year_crime"] is not None
    assert len(rank_cameras(res, 10)) == 10


def test_backtest_uses_only_layers_dated_before_the_year(mini) -> None:
    _, cfg = mini
    bt = backtest(build(cfg))
    for y in bt["years"]:
        used = set(y["indicators_used"])
        # The 2023 drug-crime table and the 2024 intelligent-CCTV share predict no year up to 2023.
        assert not used & {"drug_crime", "intelligent_gap"}
        # Undated layers are static with no history: never used.
        assert not used & set(bt["static_no_history"])
        # The 2021-12 population table predicts 2022 on, not before.
        assert ("population_density" in used) == (y["year"] >= 2022)
    assert {"lighting_gap", "police_distance"} <= set(bt["static_no_history"])
    assert bt["layers"]["drug_crime"]["first_year"] == 2024


def test_combined_forecast_on_known_series() -> None:
    import numpy as np

    from relaytrack.risk.history import combined_forecast, usable_source

    # Every 구 grows 10 % a year: last year alone forecasts exactly; an uninformative extra adds nothing.
    series = {y: np.array([100.0, 200.0, 400.0, 800.0]) * 1.1 ** (y - 2015) for y in range(2015, 2021)}
    fc = combined_forecast(series, 2020, np.array([[1.0], [0.0], [1.0], [0.0]]), alpha=1e-9)
    truth = np.log1p(series[2020])
    assert np.abs(fc["last_year_model"] - truth).max() < 0.01
    assert np.abs(fc["combined"] - truth).max() < 0.01
    assert combined_forecast(series, 2015, None) is None  # no pair before 2015
    assert usable_source("cameras", 2020) == "camera_sites" and usable_source("cameras", 2023) == "cameras"
    assert usable_source("drug_rate", 2023) is None and usable_source("lights", 2030) is None
