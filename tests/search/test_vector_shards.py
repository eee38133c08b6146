"""Vector shards (district x Seoul day): routing, growth from flat buffer to IVF-Flat to IVF-PQ, exact re-rank,
recall against exact search, corrupt shards rebuilt and reported, and their use by search by example."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from relaytrack.clock import KST
from relaytrack.paths import data_dir
from relaytrack.store.shards import (
    ShardIndex,
    ShardKey,
    ShardParams,
    VectorBatch,
    day_name,
    day_of,
    unit,
)

DIM = 32
T0 = datetime(2026, 11, 25, 0, 0, tzinfo=KST).timestamp()  # midnight in Seoul
SMALL = ShardParams(train_at=400, pq_at=1500, list_size=40, max_train=5000, shortlist=200)


class ArraySource:
    """A VectorSource over arrays (the store's role in the tests)."""

    def __init__(self, ids, vecs, districts, starts):
        self.ids, self.vecs, self.districts, self.starts = ids, vecs, np.asarray(districts), starts
        self.pos = {int(i): k for k, i in enumerate(ids)}
        self.rows_read = 0

    def vectors(self, ids):
        k = np.array([self.pos[int(i)] for i in ids if int(i) in self.pos], dtype=np.int64)
        self.rows_read += len(k)
        return self.ids[k], self.vecs[k]

    def shard_rows(self, key, upto):
        lo, hi = key.bounds()
        m = (self.districts == key.district) & (self.starts >= lo) & (self.starts < hi) & (self.ids <= upto)
        yield VectorBatch(self.ids[m], self.vecs[m], self.districts[m], self.starts[m], self.starts[m] + 5)


def _city(n, seed=0, districts=("강남구", "마포구", "중구"), days=2):
    """Clustered unit vectors (people seen several times, dressed-alike groups) over districts and days."""
    rng = np.random.default_rng(seed)
    groups = rng.standard_normal((40, DIM))
    people = groups[rng.integers(0, 40, n // 4)] * 0.8 + rng.standard_normal((n // 4, DIM))
    who = rng.integers(0, len(people), n)
    vecs = unit(people[who] + 0.45 * rng.standard_normal((n, DIM))).astype(np.float32)
    ids = np.arange(1, n + 1, dtype=np.int64)
    starts = np.sort(T0 + rng.uniform(0, days * 86400.0, n))
    dist = np.array(districts, dtype=object)[rng.integers(0, len(districts), n)]
    return ids, vecs, dist, starts


def _index(tmp_path, n=6000, params=SMALL, batch=1000, seed=0):
    ids, vecs, dist, starts = _city(n, seed)
    idx = ShardIndex(tmp_path / "shards", dim=DIM, params=params)
    for i in range(0, n, batch):
        s = slice(i, i + batch)
        idx.add(VectorBatch(ids[s], vecs[s], dist[s], starts[s], starts[s] + 8.0))
    idx.flush()
    return idx, ArraySource(ids, vecs, dist, starts)


def _corrupt(path: Path, data: bytes) -> None:
    """Replace a shard file with `data` the way a bad copy would land, as a new file: rewriting it in place would
    truncate a file that a live index of this process may hold memory-mapped (a bus error on its next read, not
    a reported problem). The shards' own writers also replace, never rewrite in place."""
    tmp = path.with_name(path.name + ".corrupt")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_routing_by_district_and_seoul_day(tmp_path):
    # 23:59:59 and 00:00:00 in Seoul fall on two days (15:00 UTC is the line), whatever the host's zone.
    assert day_name(day_of([T0 - 1.0])[0]) == "2026-11-24"
    assert day_name(day_of([T0])[0]) == "2026-11-25"
    assert ShardKey("2026-11-25", "중구").bounds() == (T0, T0 + 86400.0)
    idx = ShardIndex(tmp_path / "s", dim=DIM, params=SMALL)
    v = unit(np.random.default_rng(1).standard_normal((4, DIM)))
    # The second sighting starts before midnight and runs past it: it belongs to the first day's shard.
    idx.add(
        VectorBatch(
            np.array([1, 2, 3, 4]),
            v,
            ["강남구", "강남구", "마포구", "강남구"],
            np.array([T0 + 100, T0 + 86390, T0 + 200, T0 + 86400 + 50]),
            np.array([T0 + 110, T0 + 86420, T0 + 210, T0 + 86400 + 60]),
        )
    )
    idx.flush()
    idx = ShardIndex(tmp_path / "s")
    names = {k.name: i.count for k, i in idx.shards.items()}
    assert names == {"강남구 2026-11-25": 2, "강남구 2026-11-26": 1, "마포구 2026-11-25": 1}
    pick = lambda **kw: [i.key.name for i in idx.shards_for(**kw)]  # noqa: E731
    assert pick(districts=["강남구"]) == ["강남구 2026-11-25", "강남구 2026-11-26"]
    assert pick(time_from=T0 + 86400 + 5, time_to=T0 + 86400 + 15) == ["강남구 2026-11-25"]  # the late one
    assert pick(districts=["마포구"], time_from=T0 + 86400) == []
    assert pick(time_from=T0 + 86400 + 30) == ["강남구 2026-11-26"]
    hits = idx.search(v[3], 5, districts=["강남구"], time_from=T0 + 86400 + 30).hits
    assert [h.sighting_id for h in hits] == [4]


def test_incremental_add_before_and_after_training(tmp_path):
    ids, vecs, dist, starts = _city(4000, seed=2, districts=("중구",), days=1)
    src = ArraySource(ids, vecs, dist, starts)
    idx = ShardIndex(tmp_path / "s", dim=DIM, params=SMALL)
    kinds = []
    for i in range(0, 4000, 250):
        s = slice(i, i + 250)
        idx.add(VectorBatch(ids[s], vecs[s], dist[s], starts[s], starts[s] + 1))
        idx.flush()
        idx = ShardIndex(tmp_path / "s")  # every stage survives a reopen
        (info,) = idx.shards.values()
        kinds.append(info.kind)
        assert info.count == i + 250 and idx.indexed_upto == ids[s][-1]
        # Whatever the stage, every vector added so far is found as its own nearest neighbour.
        for j in (0, i // 2, i + 249):
            assert idx.search(vecs[j], 1, source=src).hits[0].sighting_id == ids[j]
    assert kinds[0] == "flat" and "ivfflat" in kinds and kinds[-1] == "ivfpq"
    assert kinds.index("ivfflat") == 1 and kinds.index("ivfpq") == 5  # trained at 400, then at 1500


def test_flat_buffer_is_exact_and_rerank_is_exact(tmp_path):
    idx, src = _index(tmp_path, n=12000, batch=2000)
    assert {i.kind for i in idx.shards.values()} == {"ivfpq"}
    q = src.vecs[17]
    res = idx.search(q, 20, source=src)
    assert res.exact and res.candidates >= 20
    sims = src.vecs[[src.pos[h.sighting_id] for h in res.hits]] @ q
    # The similarities reported are the exact cosines, in falling order.
    assert np.allclose([h.similarity for h in res.hits], sims, atol=1e-5)
    assert all(a.similarity >= b.similarity for a, b in zip(res.hits, res.hits[1:], strict=False))
    # Without the store the index's own (PQ-approximate) distances come back, and they differ.
    approx = idx.search(q, 20)
    assert not approx.exact
    assert not np.allclose(
        [h.similarity for h in approx.hits],
        src.vecs[[src.pos[h.sighting_id] for h in approx.hits]] @ q,
        atol=1e-4,
    )


def test_sharded_recall_against_exact(tmp_path):
    idx, src = _index(tmp_path, n=12000, batch=1500, seed=4)
    rng = np.random.default_rng(9)
    rec = []
    for qi in rng.choice(len(src.ids), 40, replace=False):
        q = src.vecs[qi]
        got = {h.sighting_id for h in idx.search(q, 20, source=src).hits}
        exact = src.ids[np.argsort(-(src.vecs @ q))[:20]]
        rec.append(len(got & set(exact.tolist())) / 20)
    assert np.mean(rec) >= 0.9, np.mean(rec)
    # A one-list probe with no room to re-rank loses recall: the threshold above can fail.
    poor = []
    for qi in rng.choice(len(src.ids), 20, replace=False):
        q = src.vecs[qi]
        got = {h.sighting_id for h in idx.search(q, 20, source=src, nprobe=1, shortlist=20).hits}
        poor.append(len(got & set(src.ids[np.argsort(-(src.vecs @ q))[:20]].tolist())) / 20)
    assert np.mean(poor) < np.mean(rec)


def test_corrupt_shard_is_rebuilt_and_reported(tmp_path):
    idx, src = _index(tmp_path, n=6000)
    names = sorted(idx.shards)
    bad, cut = names[0], names[1]
    _corrupt(idx.root / bad.file, b"not a faiss index")
    data = (idx.root / cut.file).read_bytes()
    _corrupt(idx.root / cut.file, data[: len(data) // 2])
    fresh = ShardIndex(idx.root)
    q = src.vecs[5]
    res = fresh.search(q, 20, source=src)
    assert {p.shard for p in res.problems} == {bad.name, cut.name}
    counts = {k.name: i.count for k, i in fresh.shards.items()}
    assert all(
        p.rebuilt and p.vectors == counts[p.shard] == idx.shards[k].count
        for p, k in zip(
            sorted(res.problems, key=lambda p: p.shard), sorted([bad, cut], key=lambda k: k.name), strict=True
        )
    )
    assert len(res.shards) == len(names)  # every shard searched, the bad ones after their rebuild
    exact = src.ids[np.argsort(-(src.vecs @ q))[:20]]
    assert len({h.sighting_id for h in res.hits} & set(exact.tolist())) >= 18
    again = ShardIndex(idx.root).search(q, 20, source=src)
    assert again.problems == [] and [h.sighting_id for h in again.hits] == [h.sighting_id for h in res.hits]
    # Without a store to rebuild from, the bad shard is reported and the others still answer.
    _corrupt(idx.root / bad.file, b"junk")
    alone = ShardIndex(idx.root).search(q, 20)
    assert [p.shard for p in alone.problems] == [bad.name] and not alone.problems[0].rebuilt
    assert len(alone.hits) == 20


needs_seoul = pytest.mark.skipif(
    not (data_dir() / "seoul" / "cctv").is_dir(), reason="../shared/data/seoul not present"
)


@needs_seoul
def test_store_shards_build_update_and_search(tmp_path):
    from relaytrack.search.engine import search_example
    from relaytrack.store import Store, shard_store
    from relaytrack.town.city import simulate_city

    db = tmp_path / "city.db"
    simulate_city(db, cameras=80, sightings=3000, seed=1, dim=16, hours=30)
    with Store(db) as st:
        conn = st.conn
        ids = [r[0] for r in conn.execute("SELECT id FROM sightings ORDER BY id")]
        emb = {
            r[0]: np.frombuffer(r[1], np.float32) for r in conn.execute("SELECT id, embedding FROM sightings")
        }
        q = emb[ids[10]]
        before = search_example(conn, q, top=10, exclude=ids[10])
        assert before.stats["strategy"] in ("vector-index", "filtered")
        # Index the first 2000 only: the rest are the tail, compared exactly.
        src = shard_store.StoreVectors(conn, batch=500)
        idx = ShardIndex(shard_store.shard_dir(st), dim=16, embedder=None)
        for _, b in zip(range(4), src.rows_after(0), strict=False):  # 4 pages of 500
            idx.add(b)
        idx.flush()
        with st.tx():
            shard_store._set_meta(conn, shard_store.META_KEY, str(idx.root))
        sharded = shard_store.open_for(conn)
        got = shard_store.knn(conn, sharded, q, 30)
        assert got.tail == 1000
        mat = np.stack([emb[i] for i in ids])
        exact = np.array(ids)[np.argsort(-(mat @ q / np.linalg.norm(mat, axis=1)))[:30]]
        assert [i for i, _ in got.nearest] == exact.tolist()  # small shards are flat: exact, tail included
        res = search_example(conn, q, top=10, exclude=ids[10])
        assert res.stats["strategy"] == "vector-shards"
        assert [h.sighting.id for h in res.hits] == [h.sighting.id for h in before.hits]
        rep = shard_store.build(st)
        assert rep.added == 1000 and not rep.rebuilt_all and rep.vectors == 3000
        assert {k.day for k in shard_store.open_for(conn).shards} == {"2026-11-25", "2026-11-26"}
        # A corrupt shard file: the search still answers, says which shard was rebuilt.
        key = max(shard_store.open_for(conn).shards.values(), key=lambda i: i.count).key
        _corrupt(shard_store.shard_dir(st) / key.file, b"\0" * 64)
        res = search_example(conn, q, top=10, exclude=ids[10])
        assert [p["shard"] for p in res.stats["shard_problems"]] == [key.name]
        assert [h.sighting.id for h in res.hits] == [h.sighting.id for h in before.hits]


def _ray_fanout_check(root: str) -> None:
    """The Ray fan-out against the threads on the same shards (a bad one included). Run in a child process by
    the test below: Ray replaces the process's fault handlers and leaves threads and shared-memory mappings
    behind after `ray.shutdown()`, and a later test in the same process died once of a bus error with no trace."""
    idx, src = _index(Path(root), n=6000)
    q = src.vecs[42]
    threads = idx.search(q, 20, source=src)
    _corrupt(idx.root / sorted(idx.shards)[2].file, b"junk")  # unreadable on the Ray worker too
    fresh = ShardIndex(idx.root)
    try:
        ray = fresh.search(q, 20, source=src, engine="ray", workers=2)
        again = fresh.search(q, 20, source=src, engine="ray", workers=2)  # workers keep their shards
    finally:
        fresh.close()
    assert [p.shard for p in ray.problems] == [sorted(idx.shards)[2].name] and ray.problems[0].rebuilt
    assert [h.sighting_id for h in ray.hits] == [h.sighting_id for h in threads.hits]
    assert again.problems == [] and [h.sighting_id for h in again.hits] == [
        h.sighting_id for h in threads.hits
    ]


@pytest.mark.slow
def test_ray_fanout_matches_threads(tmp_path):
    pytest.importorskip("ray")
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_vector_shards as t; "
    code += f"t._ray_fanout_check({str(tmp_path)!r}); print('ray fan-out ok')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "ray fan-out ok" in run.stdout, run.stderr[-3000:]


@needs_seoul
def test_city_without_its_own_vector_table_searches_through_shards(tmp_path):
    from relaytrack.search.engine import search_sighting
    from relaytrack.store import Store, shard_store, vectors
    from relaytrack.town.city import simulate_city

    simulate_city(tmp_path / "a.db", cameras=50, sightings=1500, seed=2, dim=16)
    simulate_city(tmp_path / "b.db", cameras=50, sightings=1500, seed=2, dim=16, vec_index=False)
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        q = "SELECT id, embedding FROM sightings ORDER BY id"
        assert a.query(q) == b.query(q)  # the same city either way
        assert vectors.count(b.conn) == 0 and vectors.dim(b.conn) == 16
        shard_store.build(b)
        for sid in (3, 700, 1400):
            ra, rb = search_sighting(a.conn, sid, top=10), search_sighting(b.conn, sid, top=10)
            assert rb.stats["strategy"] == "vector-shards" and ra.stats["strategy"] == "vector-index"
            assert [h.sighting.id for h in ra.hits] == [h.sighting.id for h in rb.hits]


def src_with(src, ids, vecs):
    return ArraySource(
        np.r_[src.ids, ids + 10_000, ids + 20_000],
        np.r_[src.vecs, vecs, vecs],
        np.r_[src.districts, src.districts[: 2 * len(ids)]],
        np.r_[src.starts, src.starts[: 2 * len(ids)]],
    )


def test_reader_follows_a_writer_without_false_alarms(tmp_path):
    idx, src = _index(tmp_path, n=3000)
    reader = ShardIndex(idx.root)
    writer = ShardIndex(idx.root)
    ids, vecs, dist, starts = _city(600, seed=7)
    writer.add(VectorBatch(ids + 10_000, vecs, dist, starts, starts + 1))
    writer.flush()
    res = reader.search(vecs[0], 5)  # its manifest is older than the shard files now
    assert res.problems == [] and res.hits[0].sighting_id == ids[0] + 10_000
    # A reader keeps the shards it has opened until it reopens them: consistent, never a false alarm.
    writer.add(VectorBatch(ids + 20_000, vecs, dist, starts, starts + 1))
    writer.flush()
    assert reader.search(vecs[0], 5).problems == []
    assert ShardIndex(idx.root).search(vecs[0], 5, source=src_with(src, ids, vecs)).hits[0].sighting_id in (
        ids[0] + 10_000,
        ids[0] + 20_000,
    )


def test_shard_rewritten_in_place_is_reloaded_not_read(tmp_path):
    idx, src = _index(tmp_path, n=3000)
    reader = ShardIndex(idx.root)
    q = src.vecs[5]
    first = reader.search(q, 10, source=src)
    key = next(k for k, i in reader.shards.items() if i.kind != "flat")
    assert key in reader._open  # memory-mapped by the first search
    # A copy over the file (in place, same inode): reading the old mapping past the new end would be a bus error.
    (reader.root / key.file).write_bytes(b"junk")
    res = reader.search(q, 10, source=src)
    assert [p.shard for p in res.problems] == [key.name] and res.problems[0].rebuilt
    assert [h.sighting_id for h in res.hits] == [h.sighting_id for h in first.hits]
