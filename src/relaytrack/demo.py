"""`relaytrack demo`: the whole job on a synthetic town, scored against its ground truth.

Generate (or reuse) a town; import its camera network; ingest every camera through the real pipeline; as
user `demo` on case DEMO-0001, search for the suspect from the Korean description, relay from the best hit
camera to camera, write the route report; run the courier watch on the residential cameras; print an
accuracy summary. The search starts from the text alone; the truth is read before scoring in one place only,
the investigator's judgement: the route is relayed from the first search hit that is the suspect ("an
operator-confirmed first sighting", as `bench relay` does), and the unattended pick (the best-supported route
from the top three hits, no truth read) is relayed and scored beside it (`route_unattended`).

The town's cameras.yaml is a register without links. `links="truth"` also imports the town's links-truth.yaml
(the oracle: the links derived from simulated walks, as the demo always had); `links="register"` relays on the
links inferred from the register alone (positions, headings). `decoys` look-alikes of the suspect walk the
town; the route is scored by identity (route_precision/route_recall/route_f1: hops that are the suspect,
the suspect's visits found, the origin excluded) beside the older camera-and-time route_accuracy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from relaytrack.config import Config, load_config
from relaytrack.errors import InputError
from relaytrack.paths import home_dir
from relaytrack.source.open import analysed_indices, parse_time, probe
from relaytrack.store import Store

Say = Callable[[str], None]


@dataclass
class DemoOptions:
    seed: int = 7
    cameras: int = 8
    minutes: float | None = None
    db: Path | None = None
    out: Path | None = None
    fps: float = 5.0
    hops: int = 10
    watch: bool = True
    # Detector recall over each whole video, not its start, where the town is emptiest; every 9th frame (a
    # frame a second) keeps the check at a fifth of the ingest's detector work on 2 cores (every 3rd frame
    # cost two thirds of it). `bench town` is the full measurement.
    recall_frames: int | None = None
    recall_every: int = 9
    candidates: int = 3
    # The route is relayed from the first hit that is the suspect, as an investigator would confirm it (read
    # from the truth: the demo has nobody at the screen); False: only the unattended pick among the top hits.
    operator: bool = True
    decoys: int = 2  # the hard case by default: people dressed like the suspect
    reid: bool = True  # learn the store's appearance model after ingest and re-embed with it
    links: str = "register"  # register: map-inferred only (a real register has no links) | truth: oracle


LINK_MODES = ("truth", "register")


@dataclass
class DemoResult:
    figures: dict = field(default_factory=dict)
    report: Path | None = None


def _network(town: Path) -> dict:
    return yaml.safe_load((town / "cameras.yaml").read_text(encoding="utf-8"))


def run_demo(opts: DemoOptions, say: Say, progress_factory) -> DemoResult:
    from relaytrack import town as town_mod
    from relaytrack.bench.truth import sighting_identities, tracking_scores
    from relaytrack.evidence.access import authorize, case_search, ensure_demo_identity, hidden_sightings
    from relaytrack.pipeline.ingest import Stages, ingest
    from relaytrack.relay import (
        import_network,
        relay,
        route_accuracy,
        write_route_geojson,
        write_route_html,
        write_route_json,
    )
    from relaytrack.relay.evaluate import route_scores
    from relaytrack.search.engine import search_description
    from relaytrack.search.query import parse_text

    if opts.links not in LINK_MODES:
        raise InputError(f"links {opts.links!r} unknown; valid: {', '.join(LINK_MODES)}")
    t_start = time.perf_counter()
    out = opts.out or home_dir() / "demo"
    out.mkdir(parents=True, exist_ok=True)
    minutes = opts.minutes if opts.minutes is not None else town_mod.DEFAULT_MINUTES
    town_dir = out / (
        f"town-s{opts.seed}-c{opts.cameras}-m{minutes:g}" + (f"-d{opts.decoys}" if opts.decoys else "")
    )
    # One store per town and link mode: a store keeps the sightings and file links of what it was given before.
    db = opts.db or out / f"demo-s{opts.seed}-c{opts.cameras}-m{minutes:g}-d{opts.decoys}-{opts.links}.db"
    figures: dict = {}

    # 1. The town.
    with progress_factory() as bar:
        task = bar.add_task("render town", total=None)

        def town_progress(done: int, total: int, message: str = "") -> None:
            bar.update(task, completed=done, total=total, description=f"render {message}".strip())

        town_mod.generate(
            seed=opts.seed,
            cameras=opts.cameras,
            minutes=minutes,
            out_dir=town_dir,
            progress=town_progress,
            decoys=opts.decoys,
        )
    truth = town_mod.load_truth(town_dir)
    net = _network(town_dir)
    figures["decoys"] = len(truth.get("decoys") or [])
    figures["links"] = opts.links
    say(f"town: {town_dir} ({len(net['cameras'])} cameras, {figures['decoys']} look-alike decoys)")

    # 2. Store, identity, camera network.
    store = Store(db)
    with store.tx() as conn:
        user, case = ensure_demo_identity(conn, store.path)
    summary = import_network(store, town_dir / "cameras.yaml")
    if opts.links == "truth":
        oracle = import_network(store, town_dir / "links-truth.yaml")
        summary["links_given"] = oracle["links_given"]
        # The oracle's links replace the map links of every camera it has a link from; count what is left.
        summary["links_inferred"] = store.conn.execute(
            "SELECT COUNT(*) FROM camera_links WHERE source = 'map'"
        ).fetchone()[0]
    say(
        f"camera network: {summary['cameras']} cameras, {summary.get('links_given', 0)} links given "
        f"({opts.links}), {summary.get('links_inferred', 0)} inferred"
    )

    # 3. Ingest every camera through the real pipeline.
    cfg: Config = load_config(None, {"source.analyse_fps": opts.fps})
    stages = Stages.load(cfg)
    analysed: dict[str, list[int]] = {}
    seqs: dict[str, Path] = {}
    n_sightings = 0
    with progress_factory() as bar:
        for cam in net["cameras"]:
            src = town_dir / cam["source"]
            task = bar.add_task(f"ingest {cam['id']}", total=None)
            res = ingest(
                store,
                str(src),
                cam["id"],
                cfg,
                stages,
                start_wall=parse_time(cam.get("start_time")),
                progress=lambda i, n, task=task: bar.update(task, completed=i, total=n),
            )
            if res.status == "failed":
                say(f"[red]ingest {cam['id']} failed:[/red] {res.error}")
                continue
            n_sightings += res.sightings
            info = probe(str(src))
            analysed[cam["id"]] = analysed_indices(info.frames or 0, info.fps, opts.fps)
            seqs[cam["id"]] = town_dir / "mot" / cam["id"]
    say(f"ingest: {n_sightings} sightings")

    # 4. Accuracy of detection and tracking against the town's ground truth.
    rec = town_mod.measure_detector_recall(town_dir, max_frames=opts.recall_frames, every=opts.recall_every)
    figures["detector_recall"] = round(float(rec["recall"]), 4)
    figures["detector_recall_frames"] = rec["frames"]
    track = tracking_scores(store.conn, seqs, analysed)
    figures["tracking_idf1"] = round(track.get("IDF1", 0.0) / 100, 4)
    figures["tracking_hota"] = round(track.get("HOTA", 0.0) / 100, 4)
    figures["tracking_mota"] = round(track.get("MOTA", 0.0) / 100, 4)

    identities: dict[int, int | None] = {}
    for cam, seq in seqs.items():
        identities.update(sighting_identities(store.conn, cam, seq / "gt" / "gt.txt"))
    suspect_id = truth["suspect"]["id"]

    # 4b. Appearance learned from this store's own tracklets (no labels read), the store re-embedded with it:
    # what a deployment does with its footage (`relaytrack reid train` + `reid apply`). The cross-camera rank-1
    # of the stored sightings by true identity is measured before and after (scoring only).
    if opts.reid:
        from relaytrack.reid import train as reid_train

        before = _reid_rank1(store, identities)
        try:
            rep = reid_train.train(store)
            applied = reid_train.apply(store)
            after = _reid_rank1(store, identities)
            figures["reid"] = {"tracklets": rep.tracklets, "dim": rep.dim, "train_s": round(rep.seconds, 1),
                               "embedded": applied["embedded"], "rank1_before": before, "rank1_after": after}
            say(f"reid: learned from {rep.tracklets} tracklets in {rep.seconds:.1f} s, {applied['embedded']} "
                f"sightings re-embedded; cross-camera rank-1 of stored sightings {before} -> {after}")
        except InputError as err:
            say(f"[yellow]reid: {err}[/yellow]")

    # 5. Investigation: description -> search -> relay, all under the demo case.
    text = truth["suspect"]["description_ko"]
    ctx = authorize(store.conn, store.path, user=user, case=case, action="search")
    query = parse_text(text)
    # Through the case gate like every search (the same hits on a store no other case holds anything of).
    found, _ = case_search(ctx, lambda k: search_description(store.conn, query, top=k), 20)
    hits = found.hits
    ctx.log(detail={"text": text, "query": query.to_json()}, result_ids=[h.sighting.id for h in hits])
    say(f"search «{text}» → {query.human()}: {len(hits)} hits")
    suspect_ranks = [k for k, h in enumerate(hits, 1) if identities.get(h.sighting.id) == suspect_id]
    figures["search_first_suspect_rank"] = suspect_ranks[0] if suspect_ranks else None
    figures["search_precision_at_5"] = round(
        sum(1 for r in suspect_ranks if r <= 5) / max(min(5, len(hits)), 1), 4
    )

    route = None
    report = out / "report.html"
    if hits:
        rctx = authorize(store.conn, store.path, user=user, case=case, action="relay")

        def relay_from(origin: int):
            r = relay(store, origin, hops=opts.hops, case=case, hidden=hidden_sightings(store.conn, case))
            support = sum(h.confidence for h in r.hops if h.sighting.id != origin)
            rctx.log(
                detail={"from": origin, "hops": opts.hops, "cameras": r.cameras, "support": round(support, 3)},
                result_ids=r.sighting_ids,
            )
            return r, support

        # Unattended: relay from each of the top hits and keep the route that hangs together best (most
        # confident hops over most cameras). Among look-alikes in the suspect's clothes this often follows one
        # of them: a description cannot tell them apart.
        tried = []
        for k, hit in enumerate(hits[: opts.candidates]):
            r, support = relay_from(hit.sighting.id)
            tried.append((support, len(set(r.cameras)), -k, r))
        unattended = max(tried, key=lambda x: x[:3])[3]
        say(
            "relay candidates: "
            + "; ".join(f"#{t[3].origin} → {len(t[3].hops)} hops, support {t[0]:.2f}" for t in tried)
        )
        # The investigator's pick, as the relay's target is stated ("from an operator-confirmed first
        # sighting"): the first hit that is the suspect. The demo has no investigator at the screen, so this one
        # judgement reads the truth, exactly as `bench relay` does; the unattended route is scored beside it.
        picked = next((h.sighting.id for h in hits if identities.get(h.sighting.id) == suspect_id), None)
        route, figures["route_origin"] = unattended, "unattended"
        if opts.operator and picked is not None:
            known = [t[3] for t in tried if t[3].origin == picked]
            route = known[0] if known else relay_from(picked)[0]
            figures["route_origin"] = "operator"
        start = route.origin
        write_route_json(route, out / "route.json")
        write_route_geojson(route, store, out / "route.geojson")
        write_route_html(route, store, report, title=f"DEMO-0001 · {text}")
        acc = route_accuracy(route, truth["suspect"]["route"])
        figures["route_accuracy"] = round(float(acc["sequence_accuracy"]), 4)
        figures["route_hops_found"] = int(acc["hops_found"])
        figures["route_hops_true"] = int(acc["hops_true"])
        # By identity: a hop counts only if it is the suspect (a decoy on the right camera does not).
        score = route_scores(route, truth["suspect"]["route"], identities, suspect_id)
        figures["route_precision"] = round(score.precision, 4)
        figures["route_recall"] = round(score.recall, 4)
        figures["route_f1"] = round(score.f1, 4)
        figures["route_hops_correct"] = score.correct
        figures["route_hops_predicted"] = score.hops
        figures["route_visits_found"] = score.covered
        figures["route_visits_true"] = score.visits
        figures["route_start_is_suspect"] = identities.get(start) == suspect_id
        alone = route_scores(unattended, truth["suspect"]["route"], identities, suspect_id)
        figures["route_unattended"] = {
            "origin": unattended.origin,
            "start_is_suspect": identities.get(unattended.origin) == suspect_id,
            "precision": round(alone.precision, 4),
            "recall": round(alone.recall, 4),
            "f1": round(alone.f1, 4),
        }
        say(f"relay from sighting {start} ({figures['route_origin']}): {' → '.join(route.cameras)}")
    else:
        figures.update(
            route_accuracy=0.0,
            route_hops_found=0,
            route_hops_true=len(truth["suspect"]["route"]),
            route_precision=0.0,
            route_recall=0.0,
            route_f1=0.0,
        )
        report.write_text(
            "<!doctype html><meta charset=utf-8><title>relaytrack demo</title>"
            "<p>No sighting matched the suspect's description; no route.</p>"
        )
    figures["route_true_cameras"] = [h["camera"] for h in truth["suspect"]["route"]]

    # 6. Courier watch on the residential cameras (those with hiding-spot zones).
    figures["events_recall"] = None
    figures["events_precision"] = None
    if opts.watch:
        figures.update(_run_watch(town_dir, db, truth, say))

    figures["report"] = str(report)
    figures["db"] = str(db)
    figures["seconds"] = round(time.perf_counter() - t_start, 1)
    store.close()
    return DemoResult(figures, report)


def _run_watch(town_dir: Path, db: Path, truth: dict, say: Say) -> dict:
    """The courier watch on the town's residential cameras (those with hiding-spot zones), scored against
    the couriers' true drop events."""
    from relaytrack.watch import evaluate_events, sources_from_network, watch_sources

    sources = [s for s in sources_from_network(town_dir / "cameras.yaml") if s.zones]
    if not sources:
        say("courier watch: no camera of this town has hiding-spot zones")
        return {}
    # The footage is already in the store from the ingest; the watch only needs its own tracks.
    result = watch_sources(sources, db_path=db, once=True, store_sightings=False)
    ev = evaluate_events(result.alerts, truth)
    say(
        f"courier watch: {len(result.alerts)} alerts on {len(sources)} residential cameras, "
        f"{ev['matched']} of {ev['events']} drops found"
    )
    return {
        "events_recall": ev["recall"],
        "events_precision": ev["precision"],
        "events_latency_s": ev["latency"],
        "events_true": ev["events"],
        "alerts": ev["alerts"],
    }


def summary_lines(f: dict) -> list[str]:
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f}%"

    picked = "  (the first hit that is the suspect, as an investigator confirms it)" if (
        f.get("route_origin") == "operator") else ""
    u = f.get("route_unattended")
    unattended = (
        f"{pct(u['precision'])} / {pct(u['recall'])} / {pct(u['f1'])}  (the best-supported route from the top "
        f"hits, no truth read; starts on the suspect: {'yes' if u['start_is_suspect'] else 'no'})"
        if u else "n/a"
    )
    return [
        f"detector recall (IoU 0.5)     {pct(f.get('detector_recall'))}",
        f"tracking IDF1 / HOTA          {pct(f.get('tracking_idf1'))} / {pct(f.get('tracking_hota'))}",
        f"search: first true hit rank   {f.get('search_first_suspect_rank')}",
        f"route accuracy (in order)     {pct(f.get('route_accuracy'))}  "
        f"({f.get('route_hops_found')} of {f.get('route_hops_true')} true hops)",
        f"route by identity P / R / F1  {pct(f.get('route_precision'))} / {pct(f.get('route_recall'))} / "
        f"{pct(f.get('route_f1'))}  ({f.get('route_hops_correct', 0)} of {f.get('route_hops_predicted', 0)} "
        f"hops the suspect, {f.get('route_visits_found', 0)} of {f.get('route_visits_true', 0)} visits found)",
        f"route relayed from            {f.get('route_origin', 'n/a')} pick{picked}",
        f"unattended pick P / R / F1    {unattended}",
        f"look-alike decoys in the town {f.get('decoys', 0)}  (links: {f.get('links', 'truth')})",
        f"courier events recall / prec. {pct(f.get('events_recall'))} / {pct(f.get('events_precision'))}",
        f"report                        {f.get('report')}",
        f"seconds                       {f.get('seconds')}",
    ]


def write_json(path: Path, figures: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str))


def _reid_rank1(store: Store, identities: dict[int, int | None]) -> float | None:
    """Cross-camera rank-1 of the stored person sightings that are a known person (ground truth: scoring only)."""
    from relaytrack.bench.truth import stored_retrieval

    res = stored_retrieval(store.conn, identities)
    return round(res.rank1, 3) if res is not None and res.queries else None
