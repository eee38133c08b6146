"""`relaytrack bench relay`: relay accuracy against a plain baseline and ablations, and relay latency at scale.

Every method runs on the same stores in the same run:
- baseline_colour: colour histogram (thumbnail HSV, or the colour names on detection-level stores), no topology;
- appearance: embedding cosine only, no topology, no travel time;
- appearance+attributes;
- +topology: candidates only on linked cameras, edge consistency, window = link [min, max];
- +travel_time (full relay); and full with travel times refined from other people's confirmed hops;
- full (legacy): the full relay as first written (RelayConfig.legacy()), the "before" of the robustness work.
Rendered towns (`--town DIR --db DB`, repeatable) add the suspect's route accuracy (from the middle sighting and
averaged over every suspect sighting as origin) per town and the mean, legacy vs robust.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.config import RelayConfig
from relaytrack.errors import InputError
from relaytrack.relay.candidates import CandidateFinder
from relaytrack.relay.engine import relay
from relaytrack.relay.evaluate import retrieval_metrics, route_accuracy, route_accuracy_ids
from relaytrack.store import Store
from relaytrack.store.sightings import get_sighting

METHODS: dict[str, RelayConfig] = {
    "baseline_colour": RelayConfig(
        appearance_fn="colour_hist", use_topology=False, use_time=False, use_attributes=False
    ),
    "appearance": RelayConfig(use_topology=False, use_time=False, use_attributes=False),
    "appearance+attributes": RelayConfig(use_topology=False, use_time=False),
    "+topology": RelayConfig(use_time=False),
    "+travel_time (full)": RelayConfig(),
    # The full relay as first written, before the robustness to real-pipeline output (RelayConfig.legacy()).
    "full (legacy)": RelayConfig.legacy(),
}
FULL, LEGACY = "+travel_time (full)", "full (legacy)"


def _new_acc() -> dict[str, float]:
    return {
        "correct": 0,
        "predicted": 0,
        "true": 0,
        "seq": 0.0,
        "exact": 0,
        "routes": 0,
        "r1": 0.0,
        "ap": 0.0,
        "nexthop": 0,
        "lat": [],
        "conf_sum": 0.0,
    }


def _finish(acc: dict[str, Any]) -> dict[str, Any]:
    n = max(acc["routes"], 1)
    lat = np.array(acc["lat"]) if acc["lat"] else np.zeros(1)
    return {
        "hop_precision": acc["correct"] / max(acc["predicted"], 1),
        "hop_recall": acc["correct"] / max(acc["true"], 1),
        "sequence_accuracy": acc["seq"] / n,
        "exact_routes": acc["exact"] / n,
        "routes": acc["routes"],
        "nexthop_rank1": acc["r1"] / max(acc["nexthop"], 1),
        "nexthop_mAP": acc["ap"] / max(acc["nexthop"], 1),
        "mean_confidence": acc["conf_sum"] / max(acc["predicted"], 1),
        "latency_p50_ms": float(np.percentile(lat, 50) * 1000),
        "latency_p95_ms": float(np.percentile(lat, 95) * 1000),
    }


def _next_hop(conn, params: RelayConfig, origin_id: int, a: int, b: int) -> tuple[float, float]:
    """rank-1 and AP of the true next sighting b among a method's candidates after a (one relevant item)."""
    origin = get_sighting(conn, origin_id)
    r = CandidateFinder(conn, origin, params, set(), set())
    cands = r.candidates(get_sighting(conn, a), "forward", {a})
    for rank, c in enumerate(cands, start=1):
        if c.s.id == b:
            return float(rank == 1), 1.0 / rank
    return 0.0, 0.0


def bench_synthetic(people: int, seeds: int) -> dict[str, Any]:
    from relaytrack.relay.network import refine_links
    from relaytrack.relay.synth import SynthConfig, generate

    accs = {m: _new_acc() for m in [*METHODS, "full+refined links"]}
    retr: dict[str, list[dict[str, float]]] = {"baseline_colour": [], "appearance": []}
    sizes = []
    for seed in range(seeds):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "synth.db")
            truth = generate(store, SynthConfig(people=people, seed=seed, grid=(5, 5)))
            conn = store.conn
            sizes.append(len(truth.identity))
            cams = {sid: get_sighting(conn, sid).camera for sid in truth.identity}
            # Evaluate on odd people; even people's true hops are the "confirmed" data for refinement.
            evals = [p for p, ids in truth.routes.items() if p % 2 == 1 and len(ids) >= 3]
            for name, params in METHODS.items():
                _run_method(conn, params, evals, truth, cams, accs[name])
            obs = []
            for p, ids in truth.routes.items():
                if p % 2 == 0:
                    for a, b in zip(ids, ids[1:], strict=False):
                        sa, sb = get_sighting(conn, a), get_sighting(conn, b)
                        off = {
                            c: conn.execute("SELECT clock_offset_s FROM cameras WHERE id=?", (c,)).fetchone()[
                                0
                            ]
                            for c in (sa.camera, sb.camera)
                        }
                        obs.append(
                            (
                                sa.camera,
                                sb.camera,
                                (sb.wall_start - off[sb.camera]) - (sa.wall_end - off[sa.camera]),
                            )
                        )
            with store.tx() as c2:
                refine_links(c2, observations=obs)
            _run_method(conn, METHODS["+travel_time (full)"], evals, truth, cams, accs["full+refined links"])
            # Global cross-camera retrieval (all sightings as queries, other cameras as gallery).
            ids = sorted(truth.identity)
            sights = [get_sighting(conn, i) for i in ids]
            pid = np.array([truth.identity[i] for i in ids])
            camarr = np.array([s.camera for s in sights])
            emb = np.stack([s.embedding for s in sights])
            from relaytrack.relay.terms import colour_hist

            cache: dict = {}
            col = np.stack([colour_hist(conn, s, cache) for s in sights])
            q = np.arange(len(ids))
            retr["appearance"].append(retrieval_metrics(emb, pid, camarr, q))
            retr["baseline_colour"].append(retrieval_metrics(col, pid, camarr, q))
            store.close()
    return {
        "store": f"{seeds} synthetic 5x5-camera grid towns, {people} people each ({sum(sizes)} sightings), "
        "look-alike crossing decoys, 10% missed sightings, 10% wrong edges",
        "methods": {k: _finish(v) for k, v in accs.items()},
        "retrieval": {
            k: {m: float(np.mean([x[m] for x in v])) for m in ("rank1", "mAP")} for k, v in retr.items()
        },
    }


def _run_method(
    conn, params: RelayConfig, evals: list[int], truth, cams: dict[int, str], acc: dict[str, Any]
) -> None:
    for p in evals:
        ids = truth.routes[p]
        origin = ids[len(ids) // 2]
        t = time.perf_counter()
        route = relay(conn, origin, 10, params=params)
        acc["lat"].append(time.perf_counter() - t)
        m = route_accuracy_ids(route, ids, truth.identity, p, cams)
        acc["correct"] += m["correct"]
        acc["predicted"] += m["predicted"]
        acc["true"] += m["true"]
        acc["seq"] += m["sequence_accuracy"]
        acc["exact"] += int(m["exact_sequence"])
        acc["routes"] += 1
        acc["conf_sum"] += sum(h.confidence for h in route.hops if h.sighting.id != origin)
        for a, b in zip(ids, ids[1:], strict=False):
            r1, ap = _next_hop(conn, params, origin, a, b)
            acc["r1"] += r1
            acc["ap"] += ap
            acc["nexthop"] += 1


# ---------------------------------------------------------------- a rendered town (truth.json + MOT GT)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, aw, ah = a
    bx1, by1, bw, bh = b
    ix = max(0.0, min(ax1 + aw, bx1 + bw) - max(ax1, bx1))
    iy = max(0.0, min(ay1 + ah, by1 + bh) - max(ay1, by1))
    inter = ix * iy
    return inter / max(aw * ah + bw * bh - inter, 1e-9)


def town_identities(conn, town: Path) -> dict[int, int]:
    """Sighting id -> global person id by majority vote of box IoU >= 0.5 against DIR/mot/<cam>/gt/gt.txt."""
    out: dict[int, int] = {}
    for gt in sorted((town / "mot").glob("*/gt/gt.txt")):
        cam = gt.parent.parent.name
        by_frame: dict[int, list[tuple[int, tuple[float, ...]]]] = {}
        for line in gt.read_text().splitlines():
            f = line.split(",")
            if len(f) >= 6:
                by_frame.setdefault(int(float(f[0])), []).append(
                    (int(float(f[1])), tuple(map(float, f[2:6])))
                )
        for (sid,) in conn.execute("SELECT id FROM sightings WHERE camera_id=?", (cam,)).fetchall():
            votes: dict[int, int] = {}
            for fr, _, x, y, w, h, _c in conn.execute(
                "SELECT frame, t, x, y, w, h, conf FROM boxes WHERE sighting_id=?", (sid,)
            ):
                best = max(
                    ((_iou((x, y, w, h), b), pid) for pid, b in by_frame.get(fr, [])), default=(0.0, None)
                )
                if best[0] >= 0.5:
                    votes[best[1]] = votes.get(best[1], 0) + 1
            if votes:
                out[sid] = max(votes, key=votes.get)
    return out


def bench_town(town: Path, db: Path | None, methods: dict[str, RelayConfig] | None = None) -> dict[str, Any]:
    methods = methods or METHODS
    truth_path = town / "truth.json"
    if not truth_path.is_file():
        raise InputError(f"{truth_path}: no truth.json (a town folder from `relaytrack town generate`)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    store = Store(db)
    conn = store.conn
    if not conn.execute("SELECT 1 FROM sightings LIMIT 1").fetchone():
        raise InputError(
            f"{store.path}: no sightings; import {town}/cameras.yaml and ingest {town}/videos first "
            "(or run `relaytrack demo`)"
        )
    ident = town_identities(conn, town)
    cams = {sid: cam for sid, cam in conn.execute("SELECT id, camera_id FROM sightings")}
    routes: dict[int, list[int]] = {}
    for sid, pid in sorted(
        ident.items(),
        key=lambda kv: conn.execute("SELECT wall_start FROM sightings WHERE id=?", (kv[0],)).fetchone()[0],
    ):
        routes.setdefault(pid, []).append(sid)

    class _T:
        identity = ident

    _T.routes = routes
    evals = [p for p, ids in routes.items() if len({cams[i] for i in ids}) >= 2]
    out: dict[str, Any] = {
        "store": str(store.path),
        "matched_sightings": len(ident),
        "people_on_2+_cameras": len(evals),
        "methods": {},
        "suspect": {},
    }
    suspect = truth.get("suspect") or {}
    sus_id = suspect.get("id")
    sus_ids = routes.get(_gt_id(sus_id, routes)) or [] if sus_id is not None else []
    out["suspect_sightings"] = len(sus_ids)
    out["suspect_from_each"] = {}
    for name, params in methods.items():
        acc = _new_acc()
        _run_method(conn, params, evals, _T, cams, acc)
        out["methods"][name] = _finish(acc)
        if sus_ids:
            route = relay(conn, sus_ids[len(sus_ids) // 2], 10, params=params)
            out["suspect"][name] = route_accuracy(route, suspect.get("route") or [])
            # The demo starts from whichever sighting search ranks first: average over every possible origin.
            accs = [
                route_accuracy(relay(conn, o, 10, params=params), suspect.get("route") or [])[
                    "sequence_accuracy"
                ]
                for o in sus_ids
            ]
            out["suspect_from_each"][name] = float(np.mean(accs))
    store.close()
    return out


def bench_towns(
    towns: list[Path], dbs: list[Path], methods: dict[str, RelayConfig] | None = None
) -> dict[str, Any]:
    """bench_town on each (town, store) pair, and the mean over towns of the suspect's route accuracy (from the
    middle sighting and from each sighting) and every person's camera-sequence accuracy, per method."""
    if len(towns) != len(dbs):
        raise InputError(f"{len(towns)} --town folders but {len(dbs)} --db stores: give one store per town")
    methods = methods or METHODS
    per = [bench_town(t, d, methods) for t, d in zip(towns, dbs, strict=True)]
    mean: dict[str, dict[str, float | None]] = {}
    for name in methods:
        sus = [r["suspect"][name]["sequence_accuracy"] for r in per if name in r["suspect"]]
        each = [r["suspect_from_each"][name] for r in per if name in r["suspect_from_each"]]
        mean[name] = {
            "suspect_route_accuracy": float(np.mean(sus)) if sus else None,
            "suspect_from_each": float(np.mean(each)) if each else None,
            "people_sequence_accuracy": float(
                np.mean([r["methods"][name]["sequence_accuracy"] for r in per])
            ),
            "hop_precision": float(np.mean([r["methods"][name]["hop_precision"] for r in per])),
            "hop_recall": float(np.mean([r["methods"][name]["hop_recall"] for r in per])),
        }
    return {"towns": [{"town": str(t), **r} for t, r in zip(towns, per, strict=True)], "mean": mean}


def _gt_id(raw: Any, routes: dict[int, list[int]]) -> int | None:
    try:
        i = int(str(raw).lstrip("Pp"))
    except ValueError:
        return None
    return i if i in routes else None


# ---------------------------------------------------------------- EPFL Laboratory GT (real, no video)


def bench_epfl() -> dict[str, Any] | None:
    from relaytrack.paths import data_dir

    root = data_dir() / "multicam" / "epfl-laboratory-6p"
    if not root.is_dir():
        return None
    fps, gap = 25.0, 25
    segs = []  # (cam, id, first, last)
    for cam_dir in sorted(root.glob("cam*")):
        rows: dict[int, list[int]] = {}
        for line in (cam_dir / "gt_mot.txt").read_text().splitlines():
            f = line.split(",")
            rows.setdefault(int(f[1]), []).append(int(f[0]))
        for pid, frames in rows.items():
            frames.sort()
            start = prev = frames[0]
            for fr in frames[1:] + [10**9]:
                if fr - prev > gap:
                    if prev - start >= 10:
                        segs.append((cam_dir.name, pid, start, prev))
                    start = fr
                prev = fr
    cams = np.array([s[0] for s in segs])
    ids = np.array([s[1] for s in segs])
    t0 = np.array([s[2] for s in segs], float) / fps
    t1 = np.array([s[3] for s in segs], float) / fps
    # Time-only cross-camera association: score = temporal IoU of the two tracklets.
    r1, aps = [], []
    from relaytrack.relay.evaluate import average_precision

    for q in range(len(segs)):
        mask = cams != cams[q]
        inter = np.clip(np.minimum(t1[mask], t1[q]) - np.maximum(t0[mask], t0[q]), 0, None)
        union = np.maximum(t1[mask], t1[q]) - np.minimum(t0[mask], t0[q])
        score = inter / np.maximum(union, 1e-9)
        rel = ids[mask] == ids[q]
        if rel.any():
            r1.append(float(rel[int(np.argmax(score))]))
            aps.append(average_precision(score, rel))
    # Random ranking for reference: expected rank-1 = share of relevant items.
    rnd = []
    for q in range(len(segs)):
        mask = cams != cams[q]
        rel = ids[mask] == ids[q]
        if rel.any():
            rnd.append(rel.mean())
    # Overlap statistics per camera pair: start offset of the same person's tracklets that overlap in time.
    pairs: dict[str, list[float]] = {}
    for i in range(len(segs)):
        for j in range(len(segs)):
            if cams[i] < cams[j] and ids[i] == ids[j] and min(t1[i], t1[j]) > max(t0[i], t0[j]):
                pairs.setdefault(f"{cams[i]}-{cams[j]}", []).append(float(t0[j] - t0[i]))
    return {
        "data": "EPFL Laboratory 6p: 4 overlapping cameras, GT tracklets (gaps > 1 s split them), no video",
        "tracklets": len(segs),
        "time_only_rank1": float(np.mean(r1)),
        "time_only_mAP": float(np.mean(aps)),
        "random_rank1": float(np.mean(rnd)),
        "overlap_start_offset_s": {
            k: {"n": len(v), "mean": float(np.mean(v)), "std": float(np.std(v))}
            for k, v in sorted(pairs.items())
        },
        "cannot_measure": "appearance re-id, attributes and edges (no video); overlapping indoor views have "
        "no travel gap, so only co-occurrence (time) association is measurable",
    }


# ---------------------------------------------------------------- latency at scale


def bench_scale(path: Path | str, queries: int, hops: int = 10, seed: int = 0) -> dict[str, Any]:
    store = Store(path)
    conn = store.conn
    n = conn.execute("SELECT MAX(id) FROM sightings").fetchone()[0] or 0
    if n == 0:
        raise InputError(f"{path}: empty store")
    count = conn.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
    ncam = conn.execute("SELECT COUNT(*) FROM cameras").fetchone()[0]
    rng = np.random.default_rng(seed)
    lat, lens = [], []
    origins = []
    while len(origins) < queries:
        sid = int(rng.integers(1, n + 1))
        row = conn.execute("SELECT id FROM sightings WHERE id=? AND kind='person'", (sid,)).fetchone()
        if row:
            origins.append(sid)
    relay(conn, origins[0], hops)  # warm the page cache once, as a running service would be
    has_truth = conn.execute("SELECT 1 FROM sqlite_master WHERE name='sim_truth'").fetchone() is not None
    correct = predicted = true = 0
    for sid in origins:
        t = time.perf_counter()
        route = relay(conn, sid, hops)
        lat.append(time.perf_counter() - t)
        lens.append(len(route.hops))
        if has_truth:  # the simulator's truth table, read only after the relay has answered
            ids = route.sighting_ids
            ident = dict(
                conn.execute(
                    f"SELECT sighting_id, identity FROM sim_truth WHERE sighting_id IN ({','.join('?' * len(ids))})",
                    ids,
                ).fetchall()
            )
            me = ident.get(sid)
            correct += sum(1 for i in ids if i != sid and ident.get(i) == me)
            predicted += len(ids) - 1
            true += conn.execute("SELECT COUNT(*) FROM sim_truth WHERE identity=?", (me,)).fetchone()[0] - 1
    backend = store.backend
    store.close()
    arr = np.array(lat)
    return {
        "store": str(path),
        "sightings": count,
        "cameras": ncam,
        "queries": queries,
        "hops": hops,
        "latency_p50_s": float(np.percentile(arr, 50)),
        "latency_p95_s": float(np.percentile(arr, 95)),
        "backend": backend,
        "mean_route_hops": float(np.mean(lens)),
        "target_s": 2.0,
        "hop_precision": correct / predicted if has_truth and predicted else None,
        "hop_recall": correct / true if has_truth and true else None,
        "meets_target": bool(np.percentile(arr, 95) < 2.0),
    }


def run_bench(
    *,
    town: Path | list[Path] | None,
    db: Path | list[Path] | None,
    synth_people: int,
    seeds: int,
    epfl: bool,
    scale_db: Path | None,
    scale_queries: int,
) -> dict[str, Any]:
    res: dict[str, Any] = {"synthetic": bench_synthetic(synth_people, seeds)} if seeds > 0 else {}
    towns = [town] if isinstance(town, Path) else list(town or [])
    dbs = [db] if isinstance(db, Path) else list(db or [])
    if len(towns) == 1:
        res["town"] = bench_town(towns[0], dbs[0] if dbs else None)
    elif towns:
        res["towns"] = bench_towns(towns, dbs)
    if epfl:
        res["epfl"] = bench_epfl()
    if scale_db is not None:
        res["scale"] = bench_scale(scale_db, scale_queries)
    return res


def print_report(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)

    def table(title: str, methods: dict[str, dict[str, float]]) -> None:
        t = Table(
            "method",
            "hop P",
            "hop R",
            "cam-seq acc",
            "exact",
            "next-hop r1",
            "next-hop mAP",
            "mean conf",
            "p50 ms",
            "p95 ms",
            title=title,
        )
        for name, m in methods.items():
            t.add_row(
                name,
                f"{m['hop_precision']:.3f}",
                f"{m['hop_recall']:.3f}",
                f"{m['sequence_accuracy']:.3f}",
                f"{m['exact_routes']:.3f}",
                f"{m['nexthop_rank1']:.3f}",
                f"{m['nexthop_mAP']:.3f}",
                f"{m['mean_confidence']:.3f}",
                f"{m['latency_p50_ms']:.0f}",
                f"{m['latency_p95_ms']:.0f}",
            )
        console.print(t)

    if "synthetic" in res:
        syn = res["synthetic"]
        table(f"relay on {syn['store']}", syn["methods"])
        for k, v in syn["retrieval"].items():
            console.print(f"cross-camera retrieval ({k}): rank-1 {v['rank1']:.3f}, mAP {v['mAP']:.3f}")
    if "town" in res:
        table(f"relay on town {res['town']['store']}", res["town"]["methods"])
        for k, v in res["town"]["suspect"].items():
            console.print(f"suspect route ({k}): {v}")
    if "towns" in res:
        for r in res["towns"]["towns"]:
            table(f"relay on town {r['town']} ({r['store']})", r["methods"])
        t = Table(
            "town",
            "suspect sightings",
            "suspect route: legacy",
            "robust",
            "from each sighting: legacy",
            "robust",
            "all people cam-seq: legacy",
            "robust",
            title="route accuracy per town, before (legacy) vs after (robust) in this run",
        )

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        for r in res["towns"]["towns"]:
            t.add_row(
                Path(r["town"]).name,
                str(r["suspect_sightings"]),
                f(r["suspect"].get(LEGACY, {}).get("sequence_accuracy")),
                f(r["suspect"].get(FULL, {}).get("sequence_accuracy")),
                f(r["suspect_from_each"].get(LEGACY)),
                f(r["suspect_from_each"].get(FULL)),
                f(r["methods"][LEGACY]["sequence_accuracy"]),
                f(r["methods"][FULL]["sequence_accuracy"]),
            )
        m = res["towns"]["mean"]
        t.add_row(
            "mean",
            "",
            f(m[LEGACY]["suspect_route_accuracy"]),
            f(m[FULL]["suspect_route_accuracy"]),
            f(m[LEGACY]["suspect_from_each"]),
            f(m[FULL]["suspect_from_each"]),
            f(m[LEGACY]["people_sequence_accuracy"]),
            f(m[FULL]["people_sequence_accuracy"]),
        )
        console.print(t)
    if res.get("epfl"):
        e = res["epfl"]
        console.print(
            f"EPFL ({e['tracklets']} GT tracklets): time-only cross-camera rank-1 {e['time_only_rank1']:.3f}"
            f" (random {e['random_rank1']:.3f}), mAP {e['time_only_mAP']:.3f}. Cannot measure: "
            f"{e['cannot_measure']}"
        )
    if "scale" in res:
        s = res["scale"]
        console.print(
            f"scale: {s['sightings']} sightings, {s['cameras']} cameras: {s['hops']}-hop relay p50 "
            f"{s['latency_p50_s']:.3f} s, p95 {s['latency_p95_s']:.3f} s (target < 2 s) over {s['queries']} routes, "
            f"mean {s['mean_route_hops']:.1f} hops; hop precision {s['hop_precision']}, recall {s['hop_recall']}"
        )
