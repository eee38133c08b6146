"""`relaytrack bench reprocess`: index at a low rate and re-process on demand, against indexing at full rate.

On the relay bench's hard towns (`relaytrack town generate --decoys 3 --crowd 2`, 12 cameras x 1 minute; tuning
seeds of `relay-towns` only, which tune the re-processing's settings and the low-rate tracking; `held_out` scores
601-606 once), each town is ingested twice through the real pipeline: (a) every camera at `full_fps` (5 fps;
the relay bench's store of the town is reused when it has one); (b) every camera at `low_fps` (1 fps) with motion
gating; each index then learns its own appearance model (`reid train` + `reid apply`). The relay runs on (b)
without re-processing, and on copies of (b) with `pipeline.reprocessor.Reprocessor` as its refine callback in each
way of `around` (`look`: the `top` low-rate sightings most like the origin in each candidate window refined at
`full_fps`; `sightings`: every low-rate sighting's span; `window`: whole windows), and with
`pipeline.ondemand_relay.relay_on_demand` for `missed` (the origin refined, then only the windows linked to the
route's ends with nobody like the origin, the people the index missed added, in rounds). Every relay starts from the
first hit of a search for the suspect's Korean description that is the suspect (the operator's confirmation),
on map links, with the default relay parameters. Scores: route F1 by identity (`relay.evaluate.route_scores`,
identities from the ground-truth boxes, re-processed sightings included) and the analysed frames of each
condition (ingest + re-processing), and their ratio.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from relaytrack.bench.relay_heldout import FULL_MAP, MethodScore, set_links
from relaytrack.bench.seeds import HELD_OUT, TUNING, check_tuning
from relaytrack.bench.town_ingest import ingest_cameras
from relaytrack.pipeline.reprocessor import AROUND  # the ways compared, all by default

# The relay bench's held-out towns. Re-processing was scored on 601-603 (session 12); 604-606 (appended for the
# relay alone in session 13, never run through this bench) were added in session 17 before its held-out run,
# with the "missed" way fixed on the tuning towns: three routes were too few to tell anything apart. 607-609
# (appended for the relay in session 19) are not in it: this bench's figures stay on the six it was scored on.
REPROCESS_HELD_OUT = HELD_OUT["relay-towns"][:6]
# The tuning towns its settings were decided on (session 17); the relay's later tuning towns are not in its default.
REPROCESS_TUNING = TUNING["relay-towns"][:6]


@dataclass
class Options:
    # The relay bench's hard towns (12 cameras x 1 minute, 3 look-alike decoys, crowd x2): on the 4-camera
    # towns this bench first used, the full-rate relay scored F1 0, so no comparison meant anything.
    cameras: int = 12
    minutes: float = 1.0
    decoys: int = 3
    crowd: float = 2.0
    learn_reid: bool = True  # each index learns its own appearance model after ingest, as a deployment does
    full_fps: float = 5.0
    low_fps: float = 1.0
    hops: int = 10
    around: tuple[str, ...] = AROUND
    top: int = 1  # "look": the low-rate sightings most like the origin re-processed per window


def _identities(conn, tdir: Path, net: dict) -> dict[int, int | None]:
    from relaytrack.bench.truth import sighting_identities

    ids: dict[int, int | None] = {}
    for cam in net["cameras"]:
        gt = tdir / "mot" / cam["id"] / "gt" / "gt.txt"
        if gt.is_file():
            ids.update(sighting_identities(conn, cam["id"], gt))
    return ids


def _origin(conn, truth: dict, identities: dict[int, int | None]) -> int | None:
    from relaytrack.search.engine import search_description
    from relaytrack.search.query import parse_text

    hits = search_description(conn, parse_text(truth["suspect"]["description_ko"]), top=20).hits
    confirmed = [h.sighting.id for h in hits if identities.get(h.sighting.id) == truth["suspect"]["id"]]
    return confirmed[0] if confirmed else (hits[0].sighting.id if hits else None)


def _learn(store, say: Callable[[str], None]) -> dict[str, Any]:
    """`reid train` then `reid apply` on the store, as a deployment (and the relay bench) does."""
    from relaytrack.errors import InputError
    from relaytrack.reid import train as reid_train

    try:
        rep = reid_train.train(store)
        reid_train.apply(store)
    except InputError as err:
        say(f"  reid: {err}")
        return {"error": str(err)}
    return {"tracklets": rep.tracklets}


def _reuse_relay_store(db: Path, tdir: Path, cameras: int, opts: Options) -> bool:
    """Copy the relay bench's store of the same town (`bench relay` ingests at 5 fps, every frame, then
    learns its appearance model: this bench's full-rate condition when `full_fps` is that rate) instead of
    ingesting it again."""
    import shutil

    src = tdir.with_suffix(".db")
    if not opts.learn_reid or not src.is_file() or not complete_at(src, opts.full_fps, cameras):
        return False
    shutil.copyfile(src, db)
    return True


def complete_at(db: Path, fps: float, cameras: int) -> bool:
    """Whether the store `db` holds a complete ingest of `cameras` sources, every one analysed at `fps`."""
    from relaytrack.store import Store

    with Store(db) as st:
        done = st.one(
            "SELECT COUNT(*) FROM sources WHERE status='complete' AND reprocess_of IS NULL"
            " AND ABS(analysed_fps - ?) < 1e-6",
            (fps,),
        )[0]
    return done == cameras


def _full_frames(store, cfg) -> int:
    """Frames a complete ingest without gating analysed: fixed by each source's length, rate and grid."""
    from relaytrack.source.open import analysed_indices

    rows = store.query(
        "SELECT frames_total, fps FROM sources WHERE reprocess_of IS NULL AND status='complete'"
    )
    return sum(len(analysed_indices(int(n), float(f), cfg.source.analyse_fps)) for n, f in rows)


def _score(store, tdir: Path, net: dict, truth: dict, origin: int, hops: int, refine=None) -> dict[str, Any]:
    from relaytrack.config import RelayConfig
    from relaytrack.relay.engine import relay
    from relaytrack.relay.evaluate import route_scores

    t0 = time.perf_counter()
    rounds = None
    if refine is not None and refine.around in ("origin", "missed"):
        from relaytrack.pipeline.ondemand_relay import relay_on_demand

        done = relay_on_demand(store, origin, hops, refine, params=RelayConfig())
        route, rounds = done.route, [asdict(r) for r in done.rounds]
    else:
        route = relay(store, origin, hops, params=RelayConfig(), refine=refine)
    out: dict[str, Any] = {"relay_s": round(time.perf_counter() - t0, 1), "reprocess_frames": 0}
    if rounds is not None:
        out["rounds"] = rounds
    if refine is not None:
        out["reprocess_frames"] = refine.frames
        out["windows"] = len(refine.windows)
        out["superseded"] = sum(w.superseded for w in refine.windows)
    ids = _identities(store.conn, tdir, net)  # re-processed sightings included
    score = MethodScore(FULL_MAP)
    score.add(route_scores(route, truth["suspect"]["route"], ids, truth["suspect"]["id"]))
    out["score"] = score.to_dict()
    out["sequence"] = [h.sighting.camera for h in route.hops]
    return out


def run_condition(
    seed: int, opts: Options, tdir: Path, db: Path, low: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    """One town, one index: ingest (a complete full-rate store of an earlier run is reused), relay, score.
    For the low-rate index: the relay without re-processing, then on a copy of the store each way of
    re-processing on demand (the whole window, the low-rate sightings' spans)."""
    import shutil

    from relaytrack import town as town_mod
    from relaytrack.config import load_config
    from relaytrack.pipeline.reprocessor import Reprocessor
    from relaytrack.store import Store

    net = yaml.safe_load((tdir / "cameras.yaml").read_text(encoding="utf-8"))
    truth = town_mod.load_truth(tdir)
    over = {"source.analyse_fps": opts.low_fps if low else opts.full_fps, "source.motion_gate": low}
    cfg = load_config(None, over)
    out: dict[str, Any] = {}
    reuse, frames = False, 0
    # A low-rate store's analysed frames depend on motion gating, so they are kept beside it to reuse it.
    kept = db.with_suffix(".ingest.json")
    if db.exists() and (not low or kept.is_file()):
        # Only a store analysed at this run's rate: the store's name says full or low, not the rate, and a
        # `--low-fps 2` run must not score the 1 fps index of an earlier run.
        reuse = complete_at(db, cfg.source.analyse_fps, len(net["cameras"]))
        if reuse and low:
            out.update(json.loads(kept.read_text(encoding="utf-8")))
            frames = out.pop("frames")
            say(f"  the {opts.low_fps:g} fps store of an earlier run is reused")
    if not reuse and not low and _reuse_relay_store(db, tdir, len(net["cameras"]), opts):
        reuse = True
        say(f"  the relay bench's {opts.full_fps:g} fps store of this town is reused")
    if not reuse:
        if db.exists():
            db.unlink()
        with Store(db) as store:
            t0 = time.perf_counter()
            frames = ingest_cameras(store, tdir, net, cfg, say)
            out["ingest_s"] = round(time.perf_counter() - t0, 1)
            if opts.learn_reid:
                out["reid"] = _learn(store, say)
        if low:
            kept.write_text(json.dumps({**out, "frames": frames}), encoding="utf-8")
    with Store(db) as store, store.tx() as conn:
        set_links(conn, "map", [])
    store = Store(db)
    out["ingest_frames"] = frames if low else _full_frames(store, cfg)
    ids = _identities(store.conn, tdir, net)
    origin = _origin(store.conn, truth, ids)
    out["origin"] = origin
    out["origin_is_suspect"] = origin is not None and ids.get(origin) == truth["suspect"]["id"]
    store.close()
    if origin is None:
        return out
    with Store(db) as store:
        r = out["relay"] = _score(store, tdir, net, truth, origin, opts.hops)
    say(f"  {out['ingest_frames']} frames analysed; relay F1 {r['score']['f1']:.3f}")
    if low:
        for around in opts.around:
            say(f"relay with on-demand re-processing at {opts.full_fps:g} fps, around={around}")
            copy = db.with_name(f"{db.stem}-{around}.db")
            shutil.copyfile(db, copy)
            with Store(copy) as store:
                from relaytrack.store.sightings import get_sighting

                refine = Reprocessor(
                    store,
                    load_config(None),
                    fps=opts.full_fps,
                    around=around,
                    reference=get_sighting(store.conn, origin),
                    top=opts.top,
                )
                r = out[f"reprocess_{around}"] = _score(store, tdir, net, truth, origin, opts.hops, refine)
            say(f"  F1 {r['score']['f1']:.3f}, {r['reprocess_frames']} frames re-processed, {r['relay_s']} s")
    return out


def run(
    seeds: list[int], opts: Options, work: Path, say: Callable[[str], None] = print, *, held_out: bool = False
) -> dict[str, Any]:
    """Tuning seeds only, or (`held_out`) exactly the relay bench's held-out towns, scored, never tuned on."""
    if held_out and sorted(seeds) != sorted(REPROCESS_HELD_OUT):
        raise ValueError(f"held-out runs score exactly {REPROCESS_HELD_OUT}, not {seeds}")
    from relaytrack import town as town_mod

    work.mkdir(parents=True, exist_ok=True)
    towns = []
    names = {
        "full": f"{opts.full_fps:g} fps",
        "low": f"{opts.low_fps:g} fps gated",
    }
    labels = {"window": "windows", "sightings": "spans", "look": f"top {opts.top} by look",
              "origin": "the origin refined", "missed": "origin + missed at ends"}  # fmt: skip
    names.update({f"reprocess_{k}": f"{opts.low_fps:g} fps + {labels[k]}" for k in opts.around})
    scores = {k: MethodScore(v) for k, v in names.items()}
    extra = dict.fromkeys(names, 0)
    frames_full = frames_low = 0
    for seed in seeds:
        if not held_out:
            check_tuning("relay-towns", seed)
        name = f"town-s{seed}-c{opts.cameras}-m{opts.minutes:g}-d{opts.decoys}-x{opts.crowd:g}"
        tdir = work / name
        say(f"render {name}")
        town_mod.generate(
            seed=seed,
            cameras=opts.cameras,
            minutes=opts.minutes,
            out_dir=tdir,
            decoys=opts.decoys,
            crowd=opts.crowd,
        )
        say(f"ingest at {opts.full_fps:g} fps")
        a = run_condition(seed, opts, tdir, work / f"{name}-full.db", False, say)
        say(f"ingest at {opts.low_fps:g} fps, motion-gated; relay with on-demand re-processing")
        b = run_condition(seed, opts, tdir, work / f"{name}-low.db", True, say)
        towns.append({"seed": seed, "town": str(tdir), "full": a, "low": b})
        frames_full += a["ingest_frames"]
        frames_low += b["ingest_frames"]
        for key, r in (("full", a.get("relay")), ("low", b.get("relay"))) + tuple(
            (f"reprocess_{k}", b.get(f"reprocess_{k}")) for k in opts.around
        ):
            if r is None:
                continue
            s = r["score"]
            agg = scores[key]
            for f in ("routes", "hops", "correct", "visits", "covered"):
                setattr(agg, f, getattr(agg, f) + s[f])
            extra[key] += r["reprocess_frames"]
    ref = scores["full"].f1
    rows = {}
    for k, sc in scores.items():
        frames = (frames_full if k == "full" else frames_low) + extra[k]
        ratio = frames / frames_full if frames_full else 0.0
        rows[k] = {
            **sc.to_dict(),
            "frames": frames,
            "reprocess_frames": extra[k],
            "frames_ratio": ratio,
            "f1_delta": sc.f1 - ref,
            "met": k.startswith("reprocess") and abs(sc.f1 - ref) <= 0.02 and ratio <= 0.30,
            # The one-sided reading, beside the target as written: not more than 0.02 below full rate.
            "no_worse": k != "full" and sc.f1 >= ref - 0.02 and ratio <= 0.30,
        }
    return {
        "seeds": seeds,
        "held_out": held_out,
        "options": opts.__dict__,
        "conditions": rows,
        "target": "route F1 within 0.02 of full rate with <= 30 % of its analysed frames",
        "met": any(r["met"] for r in rows.values()),
        "towns": towns,
    }
