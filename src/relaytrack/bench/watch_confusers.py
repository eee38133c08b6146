"""False alarms of the courier watch among innocent people at hiding spots (`relaytrack bench watch`).

Towns: the held-out watch seeds (`seeds.HELD_OUT["watch"]`, fixed before tuning) rendered drop-free
(`couriers=0`) with confusers (town/confusers.py: residents, postmen, delivery riders, crouching passers-by,
smokers, photographers). Every alert there is a false alarm; it is attributed to the confuser kind whose spot
visit it overlaps on that camera (+/- 2 s), else to "other". Exposure: seconds of footage of every camera the
watch runs on (cameras with hiding-spot zones), in camera-hours; the rate is count / camera-hours with the
one-sided 95 % Poisson upper bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relaytrack.bench.seeds import HELD_OUT, lighting_of
from relaytrack.bench.stats import poisson_rate
from relaytrack.watch.config import WatchConfig

CONFUSER_CAMERAS, CONFUSER_MINUTES, CONFUSERS_PER_TOWN = 5, 12.0, 24
TOLERANCE_S = 2.0


def attribute(alerts: list[dict], truth: dict) -> dict[str, int]:
    """False alarms per confuser kind: the kind whose visit on the alert's camera overlaps it in time."""
    out: dict[str, int] = {}
    for a in alerts:
        kind = next(
            (
                c["kind"]
                for c in truth.get("confusers") or []
                for v in c["visits"]
                if v["camera"] == a["camera"]
                and a["end"] >= v["start"] - TOLERANCE_S
                and a["start"] <= v["end"] + TOLERANCE_S
            ),
            "other",
        )
        out[kind] = out.get(kind, 0) + 1
    return out


def summarise(rows: list[dict]) -> dict[str, Any]:
    """rows: per town {alerts, camera_hours, by_kind, visits_by_kind}: totals, rate and its 95 % upper bound."""
    n = sum(r["alerts"] for r in rows)
    hours = sum(r["camera_hours"] for r in rows)
    kinds: dict[str, int] = {}
    visits: dict[str, int] = {}
    for r in rows:
        for k, v in r["by_kind"].items():
            kinds[k] = kinds.get(k, 0) + v
        for k, v in r["visits_by_kind"].items():
            visits[k] = visits.get(k, 0) + v
    rate = poisson_rate(n, hours).as_dict() if hours > 0 else None
    return {
        "false_alarms": n,
        "camera_hours": round(hours, 4),
        "false_alarm_rate": rate,
        "upper_95_per_camera_hour": None if rate is None else rate["upper_95"],
        "by_kind": kinds,
        "visits_by_kind": visits,
        "target_fa_per_camera_hour<=1": bool(rate) and rate["rate"] is not None and rate["rate"] <= 1.0,
        "towns": rows,
    }


def run_confuser_towns(
    out: Path,
    wcfg: WatchConfig,
    n_towns: int = 3,
    minutes: float = CONFUSER_MINUTES,
    cameras: int = CONFUSER_CAMERAS,
    confusers: int = CONFUSERS_PER_TOWN,
    echo: Callable[..., Any] = print,
) -> dict[str, Any]:
    """Render the first n held-out seeds drop-free with confusers and run the watch on them (scored only)."""
    from relaytrack.town import generate, load_truth
    from relaytrack.watch.service import sources_from_network, watch_sources

    rows = []
    for seed in HELD_OUT["watch"][:n_towns]:
        light = lighting_of(seed)
        echo(
            f"rendering held-out confuser town seed {seed} ({light}, {cameras} cameras x {minutes:g} min) ..."
        )
        d = generate(
            seed, cameras=cameras, minutes=minutes, out_dir=out / f"confusers-s{seed}-{light}", lighting=light,
            confusers=confusers, couriers=0,
        )  # fmt: skip
        truth = load_truth(d)
        specs = [s for s in sources_from_network(d / "cameras.yaml") if s.zones]
        t0 = time.time()
        res = watch_sources(specs, None, None, wcfg, once=True, clips_dir=out / "clips" / d.name)
        alerts = [a.public() for a in res.alerts]
        seconds = sum(r.duration_s for r in res.cameras.values())
        visits: dict[str, int] = {}
        for c in truth.get("confusers") or []:
            visits[c["kind"]] = visits.get(c["kind"], 0) + len(c["visits"])
        row = {
            "town": d.name,
            "cameras": len(specs),
            "camera_hours": round(seconds / 3600.0, 4),
            "alerts": len(alerts),
            "by_kind": attribute(alerts, truth),
            "visits_by_kind": visits,
            "wall_s": round(time.time() - t0, 1),
            "alert_list": alerts,
        }
        echo(f"  {d.name}: {row['alerts']} false alarms over {row['camera_hours']} camera-h {row['by_kind']}")
        rows.append(row)
    return summarise(rows)


def protocol_line(n_towns: int, minutes: float, cameras: int, confusers: int) -> str:
    return (
        f"held-out seeds {HELD_OUT['watch'][:n_towns]} rendered drop-free (couriers 0) with {confusers} "
        f"confusers each, {cameras} cameras x {minutes:g} min; every alert is a false alarm, attributed to "
        "the confuser kind whose spot visit it overlaps (+/- 2 s) on its camera; exposure = footage seconds of "
        "the cameras with zones; rate = count / camera-hours, one-sided 95 % Poisson upper bound"
    )
