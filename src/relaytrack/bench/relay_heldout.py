"""`relaytrack bench relay`, the held-out part: routes scored by identity on towns nobody tuned on.

Two kinds of town, both with seeds fixed in `bench.seeds` before tuning (`HELD_OUT["relay"]` for the
detection-level simulator, `HELD_OUT["relay-towns"]` for rendered hard towns); `--tuning` runs the same on
`TUNING` seeds instead and refuses a held-out one (`check_tuning`).

- Detection-level (`relay.synth`, `SynthConfig.hard`): the simulator's own edge model (true headings off the
  register's, jittered streets, a random spot in a 16:9 frame), per-camera embedding shift, look-alike
  clusters, crossing decoys, missed sightings. Suspects: the first `suspects` people seen on >= 3 cameras.
- Rendered (`relaytrack town generate --decoys --crowd`, ingested through the real pipeline): the suspect,
  from the first search hit for its Korean description that the operator confirms is the suspect (the first
  hit that is, by the ground-truth boxes: the operator's judgement, the one place truth is read before scoring).

Every method relays from the same origin on the same store; only the links differ between the link rows:
- full relay on map links (the register alone: positions and headings, `cameras import` defaults),
  on learned links (`relay.learn_links` from the store's own sightings, no labels), on oracle links (the
  simulator's true transitions / the town's links-truth.yaml);
- baseline with topology on map links: from the current sighting, the linked cameras' sightings inside the
  link's travel-time window, the best colour match (ties: nearest the expected time), hop by hop;
- appearance alone: the relay with no topology, no travel time, no attributes.
Scores: `relay.evaluate.route_scores` (hops that are the suspect / the suspect's visits covered, the origin
excluded), summed over suspects and towns (micro), and the camera sequence of each method's route.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from relaytrack.bench.seeds import TUNING, check_tuning, held_out
from relaytrack.config import RelayConfig
from relaytrack.records import Link
from relaytrack.relay.evaluate import RouteScore, route_scores
from relaytrack.relay.learn_links import learn_links, store_learned
from relaytrack.relay.link_truth import LinkComparison, compare_links
from relaytrack.relay.route import Hop, Route
from relaytrack.store import Store

WALKED_MIN = 3  # a true link counts as walked in the footage from this many transitions there
FULL_MAP, FULL_LEARNED, FULL_ORACLE = "full relay, map links", "full relay, learned links", "full relay, oracle links"
BASE_TOPO, BASE_APP = "baseline: linked camera in window + colour", "baseline: appearance alone"
# (method, links it runs on)
METHODS: tuple[tuple[str, str], ...] = (
    (FULL_MAP, "map"),
    (FULL_LEARNED, "learned"),
    (FULL_ORACLE, "oracle"),
    (BASE_TOPO, "map"),
    (BASE_APP, "map"),
)
APPEARANCE_ONLY = RelayConfig(use_topology=False, use_time=False, use_attributes=False)
MIN_COLOUR = 0.6  # the topology baseline's colour cosine below which a linked camera's sighting is nobody


@dataclass
class MethodScore:
    """Route scores summed over suspects (micro precision/recall/F1)."""

    method: str
    routes: int = 0
    hops: int = 0
    correct: int = 0
    visits: int = 0
    covered: int = 0

    def add(self, s: RouteScore) -> None:
        self.routes += 1
        self.hops += s.hops
        self.correct += s.correct
        self.visits += s.visits
        self.covered += s.covered

    @property
    def precision(self) -> float:
        return self.correct / self.hops if self.hops else (1.0 if self.visits == 0 else 0.0)

    @property
    def recall(self) -> float:
        return self.covered / self.visits if self.visits else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class TownScore:
    town: str
    seed: int
    kind: str  # synthetic | rendered
    methods: dict[str, MethodScore] = field(default_factory=dict)
    links: dict[str, LinkComparison] = field(default_factory=dict)  # map / learned against the oracle
    unestimated: int = 0  # register neighbours whose link the traffic could not settle
    true_sequence: list[str] = field(default_factory=list)  # the first suspect's
    sequences: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "town": self.town,
            "seed": self.seed,
            "kind": self.kind,
            "methods": {k: v.to_dict() for k, v in self.methods.items()},
            "links": {k: v.to_dict() for k, v in self.links.items()},
            "unestimated": self.unestimated,
            "true_sequence": self.true_sequence,
            "sequences": self.sequences,
            "notes": self.notes,
        }


# ---------------------------------------------------------------- links of each condition


def set_links(conn, kind: str, oracle: list[dict[str, Any]]) -> Any:
    """Make the store's links those of `kind`: map (inferred from the register's positions and headings, the
    `cameras import` defaults), learned (map first, then learned from the sightings), oracle (the true links
    only). Returns the LearnResult for learned, else None."""
    from relaytrack.relay.network import all_cameras, camera_mounts, infer_links, save_link

    conn.execute("DELETE FROM camera_links")
    if kind == "oracle":
        for d in oracle:
            save_link(conn, _link(d))
        return None
    cams = all_cameras(conn)
    for ln in infer_links(cams, cams, mode="walk", mounts=camera_mounts(conn)):
        save_link(conn, ln)
    if kind == "learned":
        res = learn_links(conn)
        store_learned(conn, res)
        return res
    return None


def _link(d: dict[str, Any]) -> Link:
    mean, std = float(d["mean_s"]), float(d.get("std_s") or max(1.0, abs(float(d["mean_s"])) * 0.25))
    return Link(
        str(d["src"]),
        str(d["dst"]),
        d.get("exit_edge") or None,
        d.get("entry_edge") or None,
        mean,
        std,
        float(d.get("min_s", mean - 3 * std)),
        float(d.get("max_s", mean + 3 * std)),
        str(d.get("mode") or "walk"),
        "file",
    )


def _stored_links(conn) -> list[Link]:
    from relaytrack.relay.network import row_to_link

    return [row_to_link(r) for r in conn.execute("SELECT * FROM camera_links")]


# ---------------------------------------------------------------- the baseline with topology


def topology_colour_route(conn, origin_id: int, hops: int = 10) -> Route:
    """The plain baseline with topology: hop by hop (forwards, then backwards from the origin), among the
    sightings on cameras linked to the current one whose true time falls in the link's [min, max] window, take
    the best colour match (cosine >= MIN_COLOUR; ties: nearest the link's mean time); stop when none."""
    from relaytrack.relay.network import links_from, links_to
    from relaytrack.relay.terms import colour_hist
    from relaytrack.store.sightings import SIGHTING_COLUMNS, get_sighting, row_to_sighting

    off = {r[0]: r[1] or 0.0 for r in conn.execute("SELECT id, clock_offset_s FROM cameras")}
    origin = get_sighting(conn, origin_id)
    cache: dict = {}
    ref = colour_hist(conn, origin, cache)
    used = {origin.id}
    route = [Hop(origin, 1.0, "origin")]
    for direction in ("forward", "backward"):
        cur = origin
        for _ in range(hops):
            best: tuple[float, float, Any] | None = None
            fwd = direction == "forward"
            for ln in (links_from if fwd else links_to)(conn, cur.camera, "walk"):
                other = ln.dst if fwd else ln.src
                hi = ln.upper_s
                if fwd:
                    t = cur.wall_end - off.get(cur.camera, 0.0)
                    lo_t, hi_t = t + ln.min_s, t + hi
                    col = "wall_start"
                else:
                    t = cur.wall_start - off.get(cur.camera, 0.0)
                    lo_t, hi_t = t - hi, t - ln.min_s
                    col = "wall_end"
                o = off.get(other, 0.0)
                rows = conn.execute(
                    f"SELECT {SIGHTING_COLUMNS} FROM sightings WHERE camera_id=? AND kind=? AND {col} BETWEEN ? AND ?",
                    (other, origin.kind, lo_t + o, hi_t + o),
                ).fetchall()
                for r in rows:
                    c = row_to_sighting(r)
                    if c.id in used:
                        continue
                    h = colour_hist(conn, c, cache)
                    sim = float(ref @ h) if ref is not None and h is not None else 0.0
                    dt = abs(((c.wall_start - o) - t if fwd else t - (c.wall_end - o)) - ln.mean_s)
                    if sim >= MIN_COLOUR and (best is None or (sim, -dt) > best[:2]):
                        best = (sim, -dt, c)
            if best is None:
                break
            cur = best[2]
            used.add(cur.id)
            route.append(Hop(cur, best[0], direction))
    route.sort(key=lambda h: h.sighting.wall_start)
    return Route(origin=origin_id, hops=route)


def run_method(conn, method: str, origin: int, hops: int) -> Route:
    from relaytrack.relay.engine import relay

    if method == BASE_TOPO:
        return topology_colour_route(conn, origin, hops)
    return relay(conn, origin, hops, params=APPEARANCE_ONLY if method == BASE_APP else RelayConfig())


def _score_methods(
    store: Store,
    oracle: list[dict[str, Any]],
    cases: list[tuple[int, list[dict[str, Any]], int]],
    identities: dict[int, int | None],
    town: TownScore,
    hops: int,
    walked: set[tuple[str, str]] | None = None,
) -> None:
    """Every method on every case (origin, true visits, suspect), link condition by link condition. `walked`:
    the camera pairs the footage's people walked at least WALKED_MIN times (rendered towns), which restrict a
    second comparison of the links to those true links (what traffic could teach)."""
    town.methods = {m: MethodScore(m) for m, _ in METHODS}
    walked_truth = [d for d in oracle if (str(d["src"]), str(d["dst"])) in (walked or set())]
    for kind in ("map", "learned", "oracle"):
        with store.tx() as conn:
            learned = set_links(conn, kind, oracle)
        if kind != "oracle":
            town.links[kind] = compare_links(_stored_links(store.conn), oracle)
            if walked is not None:
                town.links[f"{kind}_walked"] = compare_links(_stored_links(store.conn), walked_truth)
        if learned is not None:
            town.unestimated = len(learned.unestimated)
            town.notes["learned_links"] = len(learned.links)
            town.links["learned_only"] = compare_links(learned.links, oracle)
        for method, links in METHODS:
            if links != kind:
                continue
            for k, (origin, visits, suspect) in enumerate(cases):
                route = run_method(store.conn, method, origin, hops)
                town.methods[method].add(route_scores(route, visits, identities, suspect))
                if k == 0:
                    town.sequences[method] = route.cameras
    if cases:
        town.true_sequence = [v["camera"] for v in cases[0][1]]


# ---------------------------------------------------------------- detection-level towns


def synthetic_town(seed: int, *, people: int, suspects: int, hops: int) -> TownScore:
    from relaytrack.relay.synth import SynthConfig, generate
    from relaytrack.store.sightings import get_sightings

    town = TownScore(f"synthetic 5x5 seed {seed}", seed, "synthetic")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "synth.db")
        truth = generate(store, SynthConfig.hard(seed, people=people))
        cases = []
        for p, ids in sorted(truth.routes.items()):
            sights = sorted(get_sightings(store.conn, ids), key=lambda s: s.wall_start)
            if len({s.camera for s in sights}) < 3:
                continue
            visits = [{"camera": s.camera, "start": s.start, "end": s.end} for s in sights]
            cases.append((sights[0].id, visits, p))
            if len(cases) >= suspects:
                break
        town.notes.update(people=people, sightings=len(truth.identity), suspects=len(cases))
        _score_methods(store, truth.links, cases, dict(truth.identity), town, hops)
        store.close()
    return town


# ---------------------------------------------------------------- rendered hard towns


@dataclass(frozen=True, slots=True)
class TownOptions:
    cameras: int = 12
    minutes: float = 1.0  # 12 cameras x 1 minute: render + ingest about a quarter of an hour on 2 cores
    decoys: int = 3
    crowd: float = 2.0
    fps: float = 5.0

    def name(self, seed: int) -> str:
        """The folder (and, with .db, the store) of a town of this shape in a work folder."""
        return f"town-s{seed}-c{self.cameras}-m{self.minutes:g}-d{self.decoys}-x{self.crowd:g}"


def rendered_town(seed: int, opts: TownOptions, work: Path, hops: int, say: Callable[[str], None]) -> TownScore:
    """Render (or reuse) a hard town, import its register, ingest every camera, search the suspect's
    description, relay from the operator-confirmed first hit."""
    from relaytrack import town as town_mod
    from relaytrack.bench.truth import footage_transitions, stored_retrieval, town_identities
    from relaytrack.config import load_config
    from relaytrack.pipeline.ingest import Stages, ingest
    from relaytrack.relay.network import import_network
    from relaytrack.search.engine import search_description
    from relaytrack.search.query import parse_text
    from relaytrack.source.open import parse_time

    name = opts.name(seed)
    tdir = work / name
    t0 = time.perf_counter()
    town_mod.generate(
        seed=seed, cameras=opts.cameras, minutes=opts.minutes, out_dir=tdir, decoys=opts.decoys, crowd=opts.crowd
    )
    score = TownScore(str(tdir), seed, "rendered")
    score.notes["render_s"] = round(time.perf_counter() - t0, 1)
    db = work / f"{name}.db"
    store = Store(db)
    net = yaml.safe_load((tdir / "cameras.yaml").read_text(encoding="utf-8"))
    if not store.conn.execute("SELECT 1 FROM sightings LIMIT 1").fetchone():
        t0 = time.perf_counter()
        import_network(store, tdir / "cameras.yaml")
        cfg = load_config(None, {"source.analyse_fps": opts.fps})
        stages = Stages.load(cfg)
        for cam in net["cameras"]:
            say(f"ingest {name} {cam['id']}")
            ingest(store, str(tdir / cam["source"]), cam["id"], cfg, stages, start_wall=parse_time(cam.get("start_time")))
        score.notes["ingest_s"] = round(time.perf_counter() - t0, 1)
        # As a deployment does: the store's own appearance model, learned without labels, then re-embedded.
        from relaytrack.errors import InputError
        from relaytrack.reid import train as reid_train

        try:
            rep = reid_train.train(store)
            reid_train.apply(store)
            score.notes["reid_tracklets"] = rep.tracklets
        except InputError as err:
            say(f"reid: {err}")
    truth = town_mod.load_truth(tdir)
    identities = town_identities(store.conn, tdir, [c["id"] for c in net["cameras"]])
    suspect = truth["suspect"]["id"]
    hits = search_description(store.conn, parse_text(truth["suspect"]["description_ko"]), top=20).hits
    confirmed = [h.sighting.id for h in hits if identities.get(h.sighting.id) == suspect]
    origin = confirmed[0] if confirmed else (hits[0].sighting.id if hits else None)
    oracle = yaml.safe_load((tdir / "links-truth.yaml").read_text(encoding="utf-8")).get("links") or []
    score.notes.update(
        decoys=len(truth.get("decoys") or []),
        cameras=len(net["cameras"]),
        origin=origin,
        origin_is_suspect=bool(confirmed),
        sightings=store.conn.execute("SELECT COUNT(*) FROM sightings").fetchone()[0],
    )
    stored = stored_retrieval(store.conn, identities)
    if stored is not None and stored.queries:
        score.notes.update(stored_rank1=round(stored.rank1, 4), stored_mAP=round(stored.mAP, 4),
                           stored_queries=stored.queries)
    cases = [(origin, truth["suspect"]["route"], suspect)] if origin is not None else []
    walked = {pair for pair, gaps in footage_transitions(tdir).items() if len(gaps) >= WALKED_MIN}
    score.notes["walked_links"] = len(walked & {(str(d["src"]), str(d["dst"])) for d in oracle})
    _score_methods(store, oracle, cases, identities, score, hops, walked)
    store.close()
    return score


# ---------------------------------------------------------------- the run


def run_held_out(
    *,
    synth_seeds: int,
    people: int = 240,
    suspects: int = 20,
    towns: int = 1,
    town_opts: TownOptions | None = None,
    work: Path | None = None,
    tuning: bool = False,
    hops: int = 12,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """The held-out table's figures. tuning=True: the same on TUNING seeds (development), each checked."""
    if tuning:
        s_seeds, t_seeds = TUNING["relay"][:synth_seeds], TUNING["relay-towns"][:towns]
        for s in (*s_seeds, *t_seeds):
            check_tuning("relay", s)
    else:
        s_seeds, t_seeds = held_out("relay", synth_seeds), held_out("relay-towns", towns)
    opts = town_opts or TownOptions()
    per: list[TownScore] = []
    for s in s_seeds:
        say(f"synthetic town seed {s}")
        per.append(synthetic_town(s, people=people, suspects=suspects, hops=hops))
    if t_seeds:
        work = work or Path(tempfile.mkdtemp(prefix="relay-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        for s in t_seeds:
            say(f"rendered town seed {s}")
            per.append(rendered_town(s, opts, work, hops, say))
    return {
        "protocol": protocol(s_seeds, t_seeds, people, suspects, opts, tuning),
        "towns": [t.to_dict() for t in per],
        "pooled": {k: _pool([t for t in per if t.kind == k]) for k in ("synthetic", "rendered")},
    }


def _pool(towns: list[TownScore]) -> dict[str, Any]:
    if not towns:
        return {}
    out: dict[str, Any] = {}
    for m, _ in METHODS:
        acc = MethodScore(m)
        for t in towns:
            s = t.methods[m]
            acc.routes += s.routes
            acc.hops += s.hops
            acc.correct += s.correct
            acc.visits += s.visits
            acc.covered += s.covered
        out[m] = acc.to_dict()
    scored = [t.notes for t in towns if t.notes.get("stored_queries")]
    if scored:
        n = sum(x["stored_queries"] for x in scored)
        out["stored_reid"] = {"rank1": round(sum(x["stored_rank1"] * x["stored_queries"] for x in scored) / n, 4),
                              "mAP": round(sum(x["stored_mAP"] * x["stored_queries"] for x in scored) / n, 4),
                              "queries": n}
    for kind in ("map", "learned", "learned_only", "map_walked", "learned_walked"):
        cs = [t.links[kind] for t in towns if kind in t.links]
        if cs:
            found = sum(c.correct for c in cs)
            out[f"links_{kind}"] = {
                "precision": found / max(sum(c.learned for c in cs), 1),
                "recall": found / max(sum(c.true for c in cs), 1),
                "recall_within_20pct": sum(c.within_20pct for c in cs) / max(sum(c.true for c in cs), 1),
            }
    return out


LINK_ROWS = (
    ("links_map", "map links vs oracle"),
    ("links_learned", "map + learned links vs oracle"),
    ("links_learned_only", "learned links alone vs oracle (what `cameras links --learn --truth` prints)"),
    ("links_map_walked", f"map links vs the true links walked >= {WALKED_MIN} times in the footage"),
    ("links_learned_walked", f"map + learned links vs the true links walked >= {WALKED_MIN} times in footage"),
)


def protocol(s_seeds, t_seeds, people: int, suspects: int, opts: TownOptions, tuning: bool) -> list[str]:
    split = "TUNING seeds (development run, not a result)" if tuning else "HELD_OUT seeds, fixed in bench/seeds.py before tuning, never tuned on"
    return [
        f"seeds: {split}; detection-level {list(s_seeds)}, rendered {list(t_seeds)}",
        f"detection-level: 5x5-camera grid, {people} people, simulator's own edge model (register headings off "
        "by ~30 deg, streets jittered 15 deg), per-camera embedding shift, look-alike clusters, crossing decoys, "
        f"10 % missed sightings, 10 % wrong edges; the first {suspects} people seen on >= 3 cameras, relayed from "
        "their first sighting",
        f"rendered: town generate --cameras {opts.cameras} --minutes {opts.minutes:g} --decoys {opts.decoys} "
        f"--crowd {opts.crowd:g}, register imported without links, every camera ingested at {opts.fps:g} fps, "
        "the store's appearance model learned without labels (reid train + apply); "
        "relayed from the first search hit for the suspect's description that is the suspect (the operator's "
        "confirmation, judged by the gt boxes)",
        "links: map = register positions/headings (cameras import defaults); learned = cameras links --learn "
        "on the same store (no labels); oracle = true transitions (links-truth.yaml)",
        "scores: route_scores by identity, origin excluded: precision = hops that are the suspect / hops, "
        "recall = suspect's visits covered / visits; summed over routes (micro); nothing tuned on these seeds",
    ]


def print_held_out(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)
    console.print("[bold]protocol[/bold]")
    for line in res["protocol"]:
        console.print(f"  {line}")
    for kind, pooled in res["pooled"].items():
        if not pooled:
            continue
        t = Table("method", "routes", "hops", "correct", "visits", "covered", "precision", "recall", "F1",
                  title=f"relay by identity, {kind} towns (pooled)")
        for m, _ in METHODS:
            s = pooled[m]
            t.add_row(m, str(s["routes"]), str(s["hops"]), str(s["correct"]), str(s["visits"]),
                      str(s["covered"]), f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}")
        console.print(t)
        for lk, what in LINK_ROWS:
            if lk in pooled:
                v = pooled[lk]
                # Against the walked links only, a stored link nobody walked is not wrong: no precision there.
                prec = "" if lk.endswith("_walked") else f"precision {v['precision']:.3f}, "
                console.print(
                    f"{what}: {prec}recall {v['recall']:.3f}, within 20 % travel time {v['recall_within_20pct']:.3f}"
                )
        if "stored_reid" in pooled:
            v = pooled["stored_reid"]
            console.print(f"stored person sightings, cross-camera re-identification with the store's model: "
                          f"rank-1 {v['rank1']:.3f}, mAP {v['mAP']:.3f} ({v['queries']} queries)")
    for town in res["towns"]:
        if town["kind"] != "rendered" and town is not res["towns"][0]:
            continue
        console.print(f"[bold]{town['town']}[/bold] {town['notes']}")
        console.print(f"  truth:   {' > '.join(town['true_sequence'])}")
        for m, seq in town["sequences"].items():
            s = town["methods"][m]
            console.print(f"  {m}: {' > '.join(seq)}  (P {s['precision']:.2f} R {s['recall']:.2f} F1 {s['f1']:.2f})")
