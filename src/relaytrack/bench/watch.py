"""`relaytrack bench watch`: courier-event recall/precision and time-to-alert on generated towns (a tuning set
and a separate held-out set), false alarms per camera-hour on real pedestrian footage (no drops in it), one
table.

Real footage has no hiding spots, so zones are defined here on places people walk past (REAL_ZONES): on
PETS09-S2L1 (= vtest.avi) the sign post and lamp base by the road, a stone by the footpath, the kerb where the
road bends and the traffic cones; on TUD-Stadtmitte the tree planter and a shop entrance by the pavement; on
TUD-Campus the hedge with its sign by the path. The real set used for tuning is PETS09-S2L1 frames 1-300 (the
mot15 image folder, which holds only those frames), TUD-Campus and TUD-Stadtmitte. vtest.avi frames 301-795
are held out for independent evaluation: they run only with `--real-held-out` and were never run while tuning.
The real footage is run with a night-time start (the `night` signal on), the worst case for false alarms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relaytrack.paths import data_dir
from relaytrack.watch.config import WatchConfig, load_watch_config
from relaytrack.watch.evaluate import evaluate_events
from relaytrack.watch.service import CameraSpec, sources_from_network, watch_sources
from relaytrack.watch.zones import make_zone

REAL_ZONES: dict[str, list[dict]] = {
    "pedestrian-video/vtest.avi": [
        {"id": "R1", "kind": "utility_box", "polygon": [[405, 200], [450, 200], [450, 300], [405, 300]]},
        {"id": "R2", "kind": "other", "polygon": [[160, 250], [200, 250], [200, 282], [160, 282]]},
        {"id": "R3", "kind": "bench", "polygon": [[560, 300], [680, 300], [680, 340], [560, 340]]},
        {"id": "R4", "kind": "flower_pot", "polygon": [[285, 180], [320, 180], [320, 212], [285, 212]]},
    ],
    "mot15/PETS09-S2L1": [],  # = vtest.avi frames 1-300: the vtest zones (same view and size)
    "mot15/TUD-Campus": [
        {"id": "R1", "kind": "flower_pot", "polygon": [[0, 235], [150, 235], [150, 300], [0, 300]]},
    ],
    "mot15/TUD-Stadtmitte": [
        {"id": "R1", "kind": "flower_pot", "polygon": [[120, 180], [190, 180], [190, 265], [120, 265]]},
        {"id": "R2", "kind": "stairwell", "polygon": [[270, 130], [330, 130], [330, 230], [270, 230]]},
    ],
}
TOWN_SEEDS = ((1, "day"), (2, "night"), (3, "dusk"))
NIGHT_START = "2026-11-25T23:10:00+09:00"


def _town_dirs(out: Path, towns: list[Path], n: int, echo) -> list[Path]:
    if towns:
        return [Path(t) for t in towns]
    from relaytrack.town import generate

    dirs = []
    for seed, light in TOWN_SEEDS[: max(1, n)]:
        echo(f"rendering town seed {seed} ({light}) ...")
        dirs.append(
            generate(seed, cameras=5, minutes=1.0, out_dir=out / f"town-s{seed}-{light}", lighting=light)
        )
    return dirs


def run_towns(
    dirs: list[Path], out: Path, wcfg: WatchConfig, echo: Callable[..., Any] = print
) -> dict[str, Any]:
    from relaytrack.town import load_truth

    rows = []
    all_alerts, all_events = [], []
    for d in dirs:
        truth = load_truth(d)
        specs = [s for s in sources_from_network(d / "cameras.yaml") if s.zones]
        t0 = time.time()
        res = watch_sources(specs, None, None, wcfg, once=True, clips_dir=out / "clips" / d.name)
        ev = evaluate_events(res.alerts, truth)
        ev["town"] = d.name
        ev["cameras"] = len(specs)
        ev["wall_s"] = round(time.time() - t0, 1)
        ev["processing_latency_max"] = round(max(res.latencies()), 3) if res.latencies() else None
        rows.append(ev)
        echo(f"  {d.name}: events={ev['events']} alerts={ev['alerts']} matched={ev['matched']} "
             f"latency={ev['latency']} ({ev['wall_s']} s)")  # fmt: skip
        for a in res.alerts:
            all_alerts.append({**a.public(), "camera": f"{d.name}/{a.camera}"})
        from relaytrack.watch.evaluate import truth_events

        all_events.extend({**e, "camera": f"{d.name}/{e['camera']}"} for e in truth_events(truth))
    total = evaluate_events(all_alerts, all_events)
    total["towns"] = rows
    return total


def run_live(d: Path, out: Path, wcfg: WatchConfig, echo: Callable[..., Any] = print) -> dict[str, Any]:
    """The courier cameras of one town played at their own speed (as live cameras deliver frames, the oldest
    dropped when analysis lags): wall seconds from a frame's arrival to its alert being stored."""
    from relaytrack.town import load_truth
    from relaytrack.watch.evaluate import truth_events

    truth = load_truth(d)
    cams = {e["camera"] for e in truth_events(truth)}
    specs = [s for s in sources_from_network(d / "cameras.yaml") if s.camera in cams and s.zones]
    res = watch_sources(
        specs, None, None, wcfg, once=True, pace=True, clips_dir=out / "clips" / f"live-{d.name}"
    )
    ev = evaluate_events(res.alerts, {"couriers": [{"events": [e for e in truth_events(truth)
                                                                if e["camera"] in cams]}]})  # fmt: skip
    lat = sorted(res.latencies())
    frames = sum(r.frames for r in res.cameras.values())
    dropped = sum(r.dropped for r in res.cameras.values())
    out_d = {
        "town": d.name,
        "cameras": len(specs),
        "analyse_fps": wcfg.run.analyse_fps,
        "recall": ev["recall"],
        "time_to_alert": ev["latency"],
        "processing_latency_median": lat[len(lat) // 2] if lat else None,
        "processing_latency_max": lat[-1] if lat else None,
        "frames": frames,
        "dropped": dropped,
    }
    echo(f"  live-paced {d.name}: {out_d}")
    return out_d


REAL_TUNING = ("mot15/PETS09-S2L1", "mot15/TUD-Campus", "mot15/TUD-Stadtmitte")
REAL_HELD_OUT = ("pedestrian-video/vtest.avi", 301)  # frames 301-795: never used for tuning


def _real_zones(rel: str) -> list[dict]:
    return REAL_ZONES[rel] or REAL_ZONES["pedestrian-video/vtest.avi"]


def run_real(
    out: Path, wcfg: WatchConfig, echo: Callable[..., Any] = print, held_out: bool = False
) -> dict[str, Any]:
    """False alarms on real footage with defined zones: the tuning set, or (held_out) vtest frames 301-795."""
    from relaytrack.source.open import parse_time

    base = data_dir()
    specs = []
    items = [REAL_HELD_OUT] if held_out else [(rel, 1) for rel in REAL_TUNING]
    for rel, first in items:
        p = base / rel
        if not p.exists():
            continue
        cam = Path(rel).stem if p.is_file() else p.name
        zones = [make_zone(z, rel) for z in _real_zones(rel)]
        specs.append(CameraSpec(str(p), cam, zones, parse_time(NIGHT_START), start_index=first))
    if not specs:
        return {"skipped": f"no real footage under {base}"}
    res = watch_sources(
        specs,
        None,
        None,
        wcfg,
        once=True,
        clips_dir=out / "clips" / ("real-held-out" if held_out else "real"),
    )
    # duration_s is the last analysed frame's time from the file start: subtract the skipped frames.
    seconds = {}
    for s in specs:
        r = res.cameras[s.camera]
        skipped = 0.0
        if s.start_index > 1:
            from relaytrack.source import probe

            skipped = (s.start_index - 1) / probe(s.uri).fps
        seconds[s.camera] = max(0.0, r.duration_s - skipped)
    hours = sum(seconds.values()) / 3600.0
    frames = {
        "mot15/PETS09-S2L1": "frames 1-300", "mot15/TUD-Campus": "all 71", "mot15/TUD-Stadtmitte": "all 179",
        "pedestrian-video/vtest.avi": "frames 301-795",
    }  # fmt: skip
    out_d = {
        "set": "held_out" if held_out else "tuning",
        "footage": {rel: frames.get(rel, "all") for rel, _ in items if (base / rel).exists()},
        "cameras": len(specs),
        "camera_hours": round(hours, 4),
        "false_alarms": len(res.alerts),
        "false_alarms_per_camera_hour": round(len(res.alerts) / hours, 2) if hours else None,
        "max_score": max((r.max_score for r in res.cameras.values()), default=0.0),
        "threshold": wcfg.alert.threshold,
        "per_camera": {
            c: {
                "seconds": round(seconds[c], 1),
                "frames": r.frames,
                "alerts": r.alerts,
                "pose_runs": r.pose_runs,
            }
            for c, r in res.cameras.items()
        },
        "alerts": [a.public() for a in res.alerts],
    }
    # With so little real footage, the count only bounds the rate (Poisson 95 % upper limit / hours).
    upper = {0: 3.0, 1: 4.74, 2: 6.3, 3: 7.75}.get(len(res.alerts))
    out_d["upper_95_per_camera_hour"] = round(upper / hours, 1) if hours and upper else None
    return out_d


def _town_row(label: str, t: dict, live: dict | None = None) -> list[str]:
    lat = "" if live is None else (
        f"{live['processing_latency_median']}/{live['processing_latency_max']} (live-paced, {live['dropped']} dropped)"
    )  # fmt: skip
    return [
        label, str(t["events"]), str(t["alerts"]), str(t["recall"]), str(t["precision"]),
        f"{t['latency']}/{t['latency_max']}", str(t["latency_action"]), lat, "", "", "",
    ]  # fmt: skip


def _real_row(label: str, r: dict) -> list[str]:
    up = f" (<{r['upper_95_per_camera_hour']} @95%)" if r.get("upper_95_per_camera_hour") else ""
    return [
        label, "0", str(r["false_alarms"]), "", "", "", "", "", str(r["camera_hours"]),
        f"{r['false_alarms']} (max score {r['max_score']}, threshold {r['threshold']})",
        f"{r['false_alarms_per_camera_hour']}{up}",
    ]  # fmt: skip


def run_bench(
    out: Path,
    towns: list[Path] | None = None,
    scenes: int = 3,
    real: bool = True,
    watch_config: Path | None = None,
    echo: Callable[..., Any] = print,
    held_out: list[Path] | None = None,
    real_held_out: bool = False,
) -> dict[str, Any]:
    """towns: the tuning set (rendered here when empty); held_out: towns never looked at while tuning,
    reported in their own row; real: false alarms on the real tuning footage; real_held_out: also on vtest
    frames 301-795 (for the independent evaluation)."""
    from rich.table import Table

    from relaytrack.ui import console

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wcfg = load_watch_config(watch_config)
    dirs = _town_dirs(out, list(towns or []), scenes, echo)
    res: dict[str, Any] = {"config": wcfg.model_dump()}
    echo("tuning towns ...")
    res["towns"] = run_towns(dirs, out, wcfg, echo)
    if held_out:
        echo("held-out towns ...")
        res["held_out"] = run_towns([Path(h) for h in held_out], out, wcfg, echo)
    echo("live-paced latency ...")
    res["live"] = run_live(dirs[0], out, wcfg, echo)
    if real:
        echo("real footage (false alarms; tuning frames) ...")
        res["real"] = run_real(out, wcfg, echo)
    if real_held_out:
        echo("real footage (false alarms; held-out vtest frames 301-795) ...")
        res["real_held_out"] = run_real(out, wcfg, echo, held_out=True)
    table = Table(title="bench watch (courier alerts)")
    for col in ("set", "events", "alerts", "recall", "precision", "time-to-alert s (median/max)",
                "from hand action s", "processing latency s", "camera-h", "false alarms", "FA / camera-h"):  # fmt: skip
        table.add_column(col)
    t = res["towns"]
    table.add_row(*_town_row(f"towns, tuning ({len(t['towns'])})", t, res["live"]))
    if "held_out" in res:
        h = res["held_out"]
        table.add_row(*_town_row(f"towns, held out ({len(h['towns'])})", h))
    r = res.get("real", {})
    if r and "skipped" not in r:
        table.add_row(*_real_row("real, tuning: PETS09-S2L1 fr 1-300, TUD-Campus, TUD-Stadtmitte", r))
    rh = res.get("real_held_out", {})
    if rh and "skipped" not in rh:
        table.add_row(*_real_row("real, held out: vtest fr 301-795", rh))
    console.print(table)
    final = res.get("held_out", t)
    fa = [x for x in (r, rh) if x and x.get("false_alarms_per_camera_hour") is not None]
    res["targets"] = {
        "recall>=0.9": final["recall"] is not None and final["recall"] >= 0.9,
        "fa_per_camera_hour<=1": bool(fa) and all(x["false_alarms_per_camera_hour"] <= 1.0 for x in fa),
    }
    return res
