"""`relaytrack bench search`: latency and recall of description and example search on a simulated city.

Recall is measured against exact search in the same run: every sighting's attributes scored with the same
scoring function (relaytrack.search.score.score_columns) over the whole store for description queries, and a
NumPy brute-force cosine top-K over every stored vector for example queries. Description recall counts a
returned sighting as correct when its exact score reaches the exact K-th best score (ties at the cut-off
are interchangeable). Example search goes through the store's vector shards (relaytrack.store.shards: district x
day, exact re-rank), built first when the store has none or they are behind it. A plain baseline is timed
beside them: sqlite-vec's own exact (full) scan.

The figures the issue's contract names: {"sightings", "cameras", "description": {"p50_ms", "p95_ms",
"recall_at_20"}, "example": {...the same}} (with --top 20, the default), plus more detail.
The exact references are read a page at a time into arrays (attributes as score columns, vectors as one float32
matrix): a 10^7-sighting store needs about 4 GB of memory for them.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.search.engine import search_description, search_example
from relaytrack.search.query import Query
from relaytrack.search.score import ATTR_COLUMNS, Columns, score_columns
from relaytrack.store import Store, shard_store, vectors

PAGE = 250_000  # rows per read of the exact references


def _pct(xs: list[float]) -> dict[str, float]:
    a = np.array(xs) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "max_ms": round(float(a.max()), 1),
        "n": len(xs),
    }


def _ensure_store(
    db: Path | str | None, sightings: int, cameras: int, seed: int
) -> tuple[Path | str, dict | None]:
    from relaytrack.store.pg import is_url
    from relaytrack.town.city import simulate_city

    db = db or Path(tempfile.gettempdir()) / f"relaytrack-city-{sightings}-s{seed}.db"
    db = db if is_url(db) else Path(db)
    if is_url(db) or db.exists():  # a PostgreSQL database is opened to see whether it is filled
        with Store(db) as st:
            n = st.one("SELECT COUNT(*) FROM sightings")[0]
            meta = st.meta("sim_city")
        if n:
            return db, ({**json.loads(meta), "reused": True} if meta else {"reused": True})
    summary = simulate_city(db, cameras=cameras, sightings=sightings, seed=seed)
    return db, summary | {"reused": False}


def _description_queries(conn, n: int, rng: np.random.Generator) -> list[Query]:
    rows = conn.execute(
        "SELECT kind, upper_color, lower_color, items, vehicle_type, vehicle_color, plate FROM "
        "sim_identities ORDER BY random() LIMIT ?",
        (n,),
    ).fetchall()
    if not rows:  # a real store: describe what was actually seen
        rows = [
            (r[0], r[1], r[2], json.dumps(list(json.loads(r[3]))), r[4], r[5], r[6])
            for r in conn.execute(
                "SELECT kind, upper_color, lower_color, items, vehicle_type, vehicle_color, plate FROM sightings "
                "ORDER BY random() LIMIT ?",
                (n,),
            )
        ]
    out = []
    for kind, up, lo, items, vt, vc, plate in rows:
        its = json.loads(items or "[]")
        if kind == "person":
            form = rng.integers(4)  # mixes of what witnesses say: both colours, one colour, + an item
            q = Query(
                kind="person",
                upper=up if form != 2 else None,
                lower=lo if form in (0, 2) else None,
                items=its[:1] if form in (0, 3) else [],
            )
            if not q.has_attributes():
                q.upper = up
        else:
            q = Query(
                kind="vehicle",
                vehicle_type=vt,
                vehicle_color=vc,
                plate=plate[-4:] if plate and rng.random() < 0.3 else None,
            )
        out.append(q)
    return out


def _concat(parts: list[Columns]) -> Columns:
    if not parts:
        return Columns.from_rows([])
    return Columns(
        ids=np.concatenate([p.ids for p in parts]),
        upper=np.concatenate([p.upper for p in parts]),
        upper_conf=np.concatenate([p.upper_conf for p in parts]),
        lower=np.concatenate([p.lower for p in parts]),
        lower_conf=np.concatenate([p.lower_conf for p in parts]),
        items=np.concatenate([p.items for p in parts]),
        vehicle_type=np.concatenate([p.vehicle_type for p in parts]),
        vehicle_color=np.concatenate([p.vehicle_color for p in parts]),
        plates=[x for p in parts for x in p.plates],
    )


def _attr_columns(conn) -> dict[str, Columns]:
    """Every sighting's attributes as score columns per kind, read a page at a time (keyset on id)."""
    parts: dict[str, list[Columns]] = {"person": [], "vehicle": []}
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT {ATTR_COLUMNS} FROM sightings WHERE id > ? ORDER BY id LIMIT ?", (last, PAGE)
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        for kind in parts:
            sel = [r for r in rows if (r[1] == "person") == (kind == "person")]
            if sel:
                parts[kind].append(Columns.from_rows(sel))
    return {k: _concat(v) for k, v in parts.items()}


def _all_vectors(conn, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit float32 matrix) of every embedded sighting, filled a page at a time into one array."""
    ids = np.empty(n, np.int64)
    mat: np.ndarray | None = None
    got, last = 0, 0
    while True:
        rows = conn.execute(
            "SELECT id, embedding FROM sightings WHERE id > ? AND embedding IS NOT NULL ORDER BY id LIMIT ?",
            (last, PAGE),
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        block = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        if mat is None:
            mat = np.empty((n, block.shape[1]), np.float32)
        k = min(len(rows), n - got)
        ids[got : got + k] = [r[0] for r in rows[:k]]
        mat[got : got + k] = block[:k] / np.maximum(np.linalg.norm(block[:k], axis=1, keepdims=True), 1e-12)
        got += k
    return ids[:got], (mat[:got] if mat is not None else np.zeros((0, 0), np.float32))


def _ensure_shards(store: Store) -> dict[str, Any]:
    """The store's vector shards, built (or brought up to date) first when it has none or they lag."""
    conn = store.conn
    idx = shard_store.open_for(conn)
    lag = (
        conn.execute(
            "SELECT COUNT(*) FROM sightings WHERE id > ? AND embedding IS NOT NULL", (idx.indexed_upto,)
        ).fetchone()[0]
        if idx is not None
        else None
    )
    out: dict[str, Any] = {"built_s": 0.0}
    if idx is None or lag:
        rep = shard_store.build(store)
        out["built_s"] = rep.seconds
        idx = shard_store.open_for(conn)
    assert idx is not None
    kinds: dict[str, int] = {}
    for i in idx.shards.values():
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    out.update(
        root=str(idx.root),
        shards=len(idx.shards),
        by_kind=kinds,
        districts=len({k.district for k in idx.shards}),
        days=len({k.day for k in idx.shards}),
        vectors=sum(i.count for i in idx.shards.values()),
    )
    return out


def run_bench(
    db: Path | str | None,
    *,
    sightings: int,
    cameras: int,
    queries: int,
    top: int,
    nprobe: int | None,
    seed: int,
    engine: str = "threads",
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    db, sim = _ensure_store(db, sightings, cameras, seed)
    build_s = time.perf_counter() - t
    res: dict[str, Any] = {"db": str(db), "store_build_s": round(build_s, 1), "simulation": sim, "top": top}
    with Store(db) as st:
        conn = st.conn
        n = conn.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
        res["sightings"] = n
        res["cameras"] = conn.execute("SELECT COUNT(*) FROM cameras").fetchone()[0]
        res["shards"] = _ensure_shards(st)
        res["engine"] = engine
        res["nprobe"] = nprobe or "per shard: 1/8 of its lists, at least 8"
        # Exact references need every row in memory once.
        t = time.perf_counter()
        cols = _attr_columns(conn)
        n_emb = conn.execute("SELECT COUNT(*) FROM sightings WHERE embedding IS NOT NULL").fetchone()[0]
        all_ids, mat = _all_vectors(conn, n_emb)
        res["reference_load_s"] = round(time.perf_counter() - t, 1)

        # Description search.
        lat, rec, exact_lat = [], [], []
        for q in _description_queries(conn, queries, rng):
            t = time.perf_counter()
            r = search_description(conn, q, top=top)
            lat.append(time.perf_counter() - t)
            t = time.perf_counter()
            sc = score_columns(q, cols[q.kind])
            exact_lat.append(time.perf_counter() - t)
            k = min(top, int((sc.score > 0).sum()))
            if k == 0:
                continue
            kth = np.partition(sc.score, -k)[-k]
            exact_of = dict(
                zip(
                    sc.ids[sc.score >= kth - 1e-6].tolist(),
                    sc.score[sc.score >= kth - 1e-6].tolist(),
                    strict=True,
                )
            )
            got = [h.sighting.id for h in r.hits[:k]]
            rec.append(sum(1 for g in got if g in exact_of) / k)
        res["description"] = {
            **_pct(lat),
            f"recall_at_{top}": round(float(np.mean(rec)), 4) if rec else None,
            f"recall@{top}": round(float(np.mean(rec)), 4) if rec else None,
            "exact_numpy_in_ram": _pct(exact_lat),
        }

        # Example (vector) search: stored sightings' embeddings as the photos.
        qrows = rng.choice(len(all_ids), min(queries, len(all_ids)), replace=False)
        truth = dict(
            conn.execute(
                "SELECT sighting_id, identity FROM sim_truth WHERE sighting_id IN ("
                + ",".join(str(int(all_ids[i])) for i in qrows)
                + ")"
            ).fetchall()
        )
        lat, rec, exact_lat, same = [], [], [], []
        strategies: dict[str, int] = {}
        problems: list[Any] = []
        for qi in qrows:
            qid, v = int(all_ids[qi]), mat[qi]
            t = time.perf_counter()
            r = search_example(conn, v, top=top, exclude=qid, nprobe=nprobe, shard_engine=engine)
            lat.append(time.perf_counter() - t)
            strategies[r.stats.get("strategy", "?")] = strategies.get(r.stats.get("strategy", "?"), 0) + 1
            problems += r.stats.get("shard_problems", [])
            t = time.perf_counter()
            sims = mat @ v
            sims[qi] = -np.inf
            best = np.argpartition(-sims, top)[:top]
            exact_lat.append(time.perf_counter() - t)
            kth = sims[best].min()
            ok = set(all_ids[sims >= kth - 1e-5].tolist())
            got = [h.sighting.id for h in r.hits]
            rec.append(sum(1 for g in got if g in ok) / top)
            if qid in truth and got:
                ident = truth[qid]
                ti = dict(
                    conn.execute(
                        "SELECT sighting_id, identity FROM sim_truth WHERE sighting_id IN ("
                        + ",".join(map(str, got))
                        + ")"
                    ).fetchall()
                )
                same.append(sum(1 for g in got if ti.get(g) == ident) / len(got))
        res["example"] = {
            **_pct(lat),
            f"recall_at_{top}": round(float(np.mean(rec)), 4),
            f"recall@{top}": round(float(np.mean(rec)), 4),
            "strategies": strategies,
            "shard_problems": problems,
            "exact_numpy_in_ram": _pct(exact_lat),
            "same_identity_share": round(float(np.mean(same)), 4) if same else None,
        }
        # Baseline: sqlite-vec's exact scan of the same table (what a store without an index does).
        lat = []
        if vectors.count(conn):
            for qi in qrows[: min(5, len(qrows))]:
                t = time.perf_counter()
                vectors.knn(conn, mat[qi], top, exact=True)
                lat.append(time.perf_counter() - t)
        res["baseline_vec0_full_scan"] = _pct(lat) if lat else None
    return res


def print_report(res: dict[str, Any]) -> None:
    from rich.table import Table

    from relaytrack.ui import console

    sh = res["shards"]
    console.print(
        f"store {res['db']}: {res['sightings']:,} sightings on {res['cameras']:,} cameras; {sh['shards']} vector "
        f"shards ({sh['districts']} districts x {sh['days']} days; {sh['by_kind']}), engine {res['engine']}, "
        f"nprobe {res['nprobe']}; store build/reuse {res['store_build_s']} s, shards built in {sh['built_s']} s",
        highlight=False,
    )
    k = res["top"]
    t = Table("query", "p50 ms", "p95 ms", "max ms", f"recall@{k}", "n", title="relaytrack bench search")
    for name, key in (("description (tiers)", "description"), ("example (vector shards)", "example")):
        d = res[key]
        t.add_row(
            name, str(d["p50_ms"]), str(d["p95_ms"]), str(d["max_ms"]), str(d[f"recall@{k}"]), str(d["n"])
        )
        e = d["exact_numpy_in_ram"]
        t.add_row(
            "  exact NumPy (all rows in RAM)",
            str(e["p50_ms"]),
            str(e["p95_ms"]),
            str(e["max_ms"]),
            "1.0",
            str(e["n"]),
        )
    b = res["baseline_vec0_full_scan"]
    if b:
        t.add_row(
            "baseline: vec0 full scan",
            str(b["p50_ms"]),
            str(b["p95_ms"]),
            str(b["max_ms"]),
            "1.0",
            str(b["n"]),
        )
    console.print(t)
    for p in res["example"].get("shard_problems", []):
        console.print(f"shard {p['shard']}: {p['error']} (rebuilt: {p['rebuilt']})", highlight=False)
    if res["example"].get("same_identity_share") is not None:
        console.print(
            f"example search: share of top-{k} that is the same simulated identity: "
            f"{res['example']['same_identity_share']}",
            highlight=False,
        )
