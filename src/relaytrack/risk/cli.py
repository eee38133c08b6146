"""`relaytrack risk build|top` and `relaytrack bench risk`."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from relaytrack.errors import InputError
from relaytrack.paths import home_dir
from relaytrack.ui import console, console_err, print_json

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Risk config YAML/JSON (overrides defaults)")
]
By = Annotated[str, typer.Option("--by", help="cell | dong | district | camera | gap")]


def default_out() -> Path:
    return home_dir() / "risk"


def read_alerts(path: Path) -> list[dict]:
    """Confirmed alerts from JSON (a list of objects) or CSV with camera_id, lat, lon, time columns."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InputError(f"{path}: alerts JSON must be a list of objects")
            return data
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read alerts: {err}") from err


def run_build(config: Path | None, out: Path, alerts: Path | None = None) -> dict:
    from relaytrack.risk.config import load_config
    from relaytrack.risk.index import build
    from relaytrack.risk.report import write_outputs

    cfg = load_config(config)
    t0 = time.perf_counter()
    with console_err.status("building the risk index…"):
        res = build(cfg, alerts=read_alerts(alerts) if alerts else None)
        summary = write_outputs(res, out)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["build_seconds"] = res.seconds.get("build")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def register(app: typer.Typer, bench: typer.Typer) -> None:
    risk = typer.Typer(
        help="Crime-risk index, coverage gaps and camera priorities from Seoul open data.",
        no_args_is_help=True,
    )
    app.add_typer(risk, name="risk")

    @risk.command("build")
    def build_cmd(
        out: Annotated[Path, typer.Option("--out", help="Output folder")] = None,  # type: ignore[assignment]
        config: ConfigOpt = None,
        alerts: Annotated[
            Path | None, typer.Option("--alerts", help="Confirmed alerts (JSON/CSV) as incidents")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print summary.json")] = False,
    ) -> None:
        """Build the index for all of Seoul: cells.geojson, map.html, summary.json, CSV rankings."""
        out = out or default_out()
        s = run_build(config, out, alerts)
        if json_out:
            print_json(s)
            return
        bt = s["backtest"]
        console.print(
            f"{s['cells']} cells, {s['cameras']} cameras, {s['gaps']} coverage gaps, "
            f"{s['bad_rows_total']} bad rows skipped; {s['seconds']:.2f} s "
            f"(index {s['build_seconds']:.2f} s) -> {out}"
        )
        console.print(
            f"backtest (구, later crime counts): index Spearman {bt['spearman']}, "
            + ", ".join(f"{k} {v}" for k, v in bt["baselines"].items())
        )

    @risk.command("top")
    def top_cmd(
        n: Annotated[int, typer.Option("--n", min=1, help="How many")] = 20,
        by: By = "cell",
        out: Annotated[Path | None, typer.Option("--out", "--dir", help="Build folder to read")] = None,
        config: ConfigOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    ) -> None:
        """Top N cells, 동, 구, cameras (courier watch) or coverage gaps with scores and reasons."""
        from relaytrack.risk.report import RANKING_FILES, read_ranking

        if by not in RANKING_FILES:
            raise InputError(f"--by {by!r}: choose one of {', '.join(RANKING_FILES)}")
        out = out or default_out()
        if not (out / "summary.json").exists() or config is not None:
            run_build(config, out)
        rows = read_ranking(out, by, n)
        if json_out:
            print_json({"by": by, "n": len(rows), "source": str(out), "top": rows})
            return
        for r in rows:
            name = r.get(by) or r.get("cell") or r.get("camera")
            console.print(
                f"{r['rank']:>4}  {r['score']:6.2f}  {name}  {'; '.join(r.get('reasons', []))}",
                highlight=False,
            )

    @bench.command("risk")
    def bench_risk(
        repeat: Annotated[int, typer.Option("--repeat", min=1, max=10)] = 3,
        config: ConfigOpt = None,
    ) -> None:
        """Time a full-Seoul build (target < 10 s on 2 cores) against brute-force nearest-camera search."""
        from scipy.spatial import cKDTree

        from relaytrack.risk.config import load_config
        from relaytrack.risk.index import build
        from relaytrack.risk.validate import backtest

        cfg = load_config(config)
        times, res = [], None
        for _ in range(repeat):
            t = time.perf_counter()
            res = build(cfg)
            backtest(res)
            times.append(time.perf_counter() - t)
        if res is None:
            return
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
        figures = {
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
        print_json(figures)
        path = home_dir() / "bench" / "risk.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
