"""The sqlite-vec index over sighting embeddings.

Its width comes from the embedder (recorded in meta on first use), never a constant; a store built with one
embedder refuses vectors of another width with a clear error.

Large stores get an inverted-file (IVF) layout: the vec0 table is partitioned by `cell`, the nearest of
`nlist` spherical k-means centroids (kept in `vec_ivf`). A query scans only the `nprobe` cells whose
centroids are nearest to it, plus cell 0, where vectors added since the last `build_ivf` wait. A brute-force
scan of 1M x 128 floats costs ~0.35 s on one core; probing 32 of 1000 cells scans ~3% of that.
Until `build_ivf` runs (small stores) everything sits in cell 0 and `knn` is exact.
Stores created before the partitioned layout keep their flat table and are exact; `build_ivf` converts them.

On PostgreSQL (no pgvector here) the same table is a plain one, (sighting_id, cell, embedding BYTEA) with an
index on cell, always partitioned: `knn` reads the probed cells' vectors and ranks them with NumPy. The sharded
FAISS index (`relaytrack.store.shards`) is what scales past memory on either backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from relaytrack.errors import StoreError

TABLE = "vec_sightings"
IVF_TABLE = "vec_ivf"
DEFAULT_NPROBE = 32
UNASSIGNED = 0  # cell of vectors added after the last build_ivf (or before any)


def dim(conn) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key='embedding_dim'").fetchone()
    return int(row[0]) if row else None


def _is_pg(conn) -> bool:
    return getattr(conn, "backend", "sqlite") == "postgresql"


def _create_table(conn, width: int) -> None:
    if _is_pg(conn):
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (sighting_id BIGINT PRIMARY KEY,"
            " cell BIGINT NOT NULL DEFAULT 0, embedding BYTEA NOT NULL)"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_cell ON {TABLE}(cell)")
        return
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0(sighting_id INTEGER PRIMARY KEY,"
        f" cell INTEGER PARTITION KEY, embedding float[{int(width)}] distance_metric=cosine)"
    )


def ensure_index(conn, width: int) -> None:
    have = dim(conn)
    if have is None:
        _create_table(conn, width)
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedding_dim', ?)", (str(int(width)),)
        )
    elif have != width:
        raise StoreError(
            f"embedding width {width} does not match this store's index ({have}); "
            "use the same embedder as the store was built with, or a new store"
        )


def embedder(conn) -> tuple[str | None, str | None]:
    """(identity, model) of the embedder whose vectors this store holds: identity hashes the weights, model
    is the path of a trained model the store should be embedded with (None: the configured default)."""
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('embedder_id', 'embedder_model')"))
    return rows.get("embedder_id"), rows.get("embedder_model")


def bind_embedder(conn, identity: str, model: str | None = None) -> None:
    """Record which embedder the store's vectors come from; a different one is refused (vectors of two
    models in one index would rank by accident). A store with vectors but no record (older stores) adopts
    the first embedder of the same width."""
    have, _ = embedder(conn)
    if have is not None and have != identity:
        raise StoreError(
            f"this store's vectors come from embedder {have}, not {identity}; re-embed it with "
            "`relaytrack reid apply` or configure the embedder it was built with (describe.embedder)"
        )
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder_id', ?)", (identity,))
    if model is not None:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder_model', ?)", (model,))


def reset(conn) -> None:
    """Drop the index and its embedder record (the sightings' own embedding column is the caller's): the
    next vectors define the width again. For re-embedding a whole store with another model."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"DROP TABLE IF EXISTS {IVF_TABLE}")
    conn.execute("DELETE FROM meta WHERE key IN ('embedding_dim', 'embedder_id', 'embedder_model')")


def partitioned(conn) -> bool:
    if _is_pg(conn):
        return True
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name=?", (TABLE,)).fetchone()
    return bool(row and "partition key" in row[0].lower())


def centroids(conn) -> np.ndarray | None:
    """The IVF centroids (nlist, D) float32, or None when the store has no IVF yet."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name=?", (IVF_TABLE,)).fetchone() is None:
        return None
    row = conn.execute(f"SELECT value FROM {IVF_TABLE} WHERE key='centroids'").fetchone()
    if row is None:
        return None
    d = dim(conn)
    return np.frombuffer(row[0], dtype=np.float32).reshape(-1, d)


def assign_cells(cents: np.ndarray | None, vectors: np.ndarray) -> np.ndarray:
    """Cell per vector: 1 + index of the nearest centroid (cosine); UNASSIGNED without centroids."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    if cents is None:
        return np.full(len(vectors), UNASSIGNED, dtype=np.int64)
    out = np.empty(len(vectors), dtype=np.int64)
    for i in range(0, len(vectors), 65536):  # bounded memory for (chunk, nlist) score matrices
        out[i : i + 65536] = (vectors[i : i + 65536] @ cents.T).argmax(axis=1) + 1
    return out


def _normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-12)


def add(conn, sighting_id: int, embedding: np.ndarray) -> None:
    vec = np.ascontiguousarray(embedding, dtype=np.float32).reshape(-1)
    add_many(conn, [sighting_id], vec[None, :])


def add_many(
    conn, ids: Iterable[int], vectors: np.ndarray, *, cents: np.ndarray | None = None, replace: bool = True
) -> None:
    """Insert (or replace) many vectors at once; the caller owns the transaction. replace=False skips the
    delete of earlier copies (bulk loads of new ids)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    vectors = vectors.reshape(len(vectors), -1)
    if len(vectors) == 0:
        return
    ensure_index(conn, vectors.shape[1])
    ids = [int(i) for i in ids]
    if not partitioned(conn):
        conn.executemany(
            f"INSERT OR REPLACE INTO {TABLE}(sighting_id, embedding) VALUES (?, ?)",
            zip(ids, (v.tobytes() for v in vectors), strict=True),
        )
        return
    cells = assign_cells(cents if cents is not None else centroids(conn), _normalise(vectors))
    # vec0 has no upsert on partition keys: delete first so re-adding a sighting moves it.
    if replace:
        conn.executemany(f"DELETE FROM {TABLE} WHERE sighting_id=?", ((i,) for i in ids))
    conn.executemany(
        f"INSERT INTO {TABLE}(sighting_id, cell, embedding) VALUES (?, ?, ?)",
        zip(ids, cells.tolist(), (v.tobytes() for v in vectors), strict=True),
    )


def count(conn) -> int:
    if dim(conn) is None:
        return 0
    return int(conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0])


def knn(
    conn, query: np.ndarray, k: int = 50, *, nprobe: int | None = None, exact: bool = False
) -> list[tuple[int, float]]:
    """Nearest sightings by cosine distance: [(sighting_id, distance)], nearest first.

    With an IVF (after build_ivf) only the nprobe nearest cells and the unassigned cell are scanned
    (approximate; raise nprobe for recall); exact=True scans everything.
    """
    if dim(conn) is None:
        return []
    vec = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    ensure_index(conn, len(vec))
    k = max(1, min(int(k), 4096))  # vec0's limit on k
    cents = None if exact else centroids(conn)
    if _is_pg(conn):
        return _knn_scan(conn, vec, k, cents, nprobe)
    if cents is None or not partitioned(conn):
        rows = conn.execute(
            f"SELECT sighting_id, distance FROM {TABLE} WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (vec.tobytes(), k),
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]
    nprobe = max(1, min(int(nprobe or DEFAULT_NPROBE), len(cents)))
    if nprobe * 4 > len(cents):  # probing a large share of cells costs more than one full scan
        return knn(conn, vec, k, exact=True)
    sims = cents @ _normalise(vec)
    probe = np.argpartition(-sims, nprobe - 1)[:nprobe] + 1
    cells = [UNASSIGNED, *sorted(int(c) for c in probe)]
    # vec0 answers `cell IN (...)` with the k nearest of each cell; merge them.
    rows = conn.execute(
        f"SELECT sighting_id, distance FROM {TABLE} WHERE embedding MATCH ? AND k = ?"
        f" AND cell IN ({','.join('?' * len(cells))})",
        (vec.tobytes(), k, *cells),
    ).fetchall()
    rows.sort(key=lambda r: r[1])
    return [(int(r[0]), float(r[1])) for r in rows[:k]]


def _knn_scan(conn, vec: np.ndarray, k: int, cents: np.ndarray | None, nprobe: int | None):
    """PostgreSQL: read the probed cells' vectors (all of them without an IVF) and rank by cosine."""
    if cents is None:
        rows = conn.execute(f"SELECT sighting_id, embedding FROM {TABLE}").fetchall()
    else:
        nprobe = max(1, min(int(nprobe or DEFAULT_NPROBE), len(cents)))
        probe = np.argpartition(-(cents @ _normalise(vec)), nprobe - 1)[:nprobe] + 1
        cells = [UNASSIGNED, *sorted(int(c) for c in probe)]
        rows = conn.execute(
            f"SELECT sighting_id, embedding FROM {TABLE} WHERE cell IN ({','.join('?' * len(cells))})", cells
        ).fetchall()
    if not rows:
        return []
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    mat = _normalise(
        np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=np.float32).reshape(len(rows), -1)
    )
    dist = 1.0 - mat @ _normalise(vec)
    top = np.argsort(dist, kind="stable")[:k] if len(dist) <= k else np.argpartition(dist, k - 1)[:k]
    top = top[np.argsort(dist[top], kind="stable")]
    return [(int(ids[i]), float(dist[i])) for i in top]


def train_centroids(sample: np.ndarray, nlist: int, *, iters: int = 12, seed: int = 0) -> np.ndarray:
    """Spherical k-means on L2-normalised vectors; returns (nlist, D) unit centroids."""
    x = _normalise(sample)
    rng = np.random.default_rng(seed)
    nlist = max(1, min(int(nlist), len(x)))
    c = x[rng.choice(len(x), nlist, replace=False)].copy()
    for _ in range(iters):
        a = assign_cells(c, x) - 1
        sums = np.zeros_like(c)
        np.add.at(sums, a, x)
        empty = np.bincount(a, minlength=nlist) == 0
        # Re-seed empty cells with random points so no centroid is wasted.
        sums[empty] = x[rng.choice(len(x), int(empty.sum()), replace=False)] if empty.any() else sums[empty]
        c = _normalise(sums)
    return c


def default_nlist(n: int) -> int:
    # ~1000 vectors per cell: one vec0 chunk (1024 slots) each, so little space is wasted.
    return int(np.clip(n // 1000, 16, 4096))


def save_centroids(conn, cents: np.ndarray) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {IVF_TABLE} (key TEXT PRIMARY KEY, value BLOB)")
    conn.execute(
        f"INSERT OR REPLACE INTO {IVF_TABLE}(key, value) VALUES ('centroids', ?)",
        (np.ascontiguousarray(cents, dtype=np.float32).tobytes(),),
    )


def build_ivf(conn, *, nlist: int | None = None, sample: int = 65536, seed: int = 0) -> dict:
    """(Re)build the IVF over every stored vector: train centroids on a sample, rewrite the table
    partitioned by cell. Caller owns the transaction. Returns {"vectors", "nlist"}."""
    d = dim(conn)
    if d is None:
        return {"vectors": 0, "nlist": 0}
    ids = np.array([r[0] for r in conn.execute(f"SELECT sighting_id FROM {TABLE}")], dtype=np.int64)
    if len(ids) == 0:
        return {"vectors": 0, "nlist": 0}
    vecs = np.empty((len(ids), d), dtype=np.float32)
    for i, (sid, blob) in enumerate(conn.execute(f"SELECT sighting_id, embedding FROM {TABLE}")):
        vecs[i] = np.frombuffer(blob, dtype=np.float32)
        ids[i] = sid
    nlist = nlist or default_nlist(len(ids))
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(ids), min(sample, len(ids)), replace=False)
    cents = train_centroids(vecs[pick], nlist, seed=seed)
    conn.execute(f"DROP TABLE {TABLE}")
    _create_table(conn, d)
    save_centroids(conn, cents)
    for i in range(0, len(ids), 100_000):
        add_many(conn, ids[i : i + 100_000].tolist(), vecs[i : i + 100_000], cents=cents, replace=False)
    return {"vectors": int(len(ids)), "nlist": int(len(cents))}


# (id(conn), kind, lo, hi, ...) -> (conn, value): the connection is held so that its id is not reused while
# cached (SQLite connections take no weak references); a few entries only.
_BACKGROUND: dict[tuple, tuple[Any, tuple[float, float] | None]] = {}


def background(conn, kind: str, sample: int = 400, seed: int = 7) -> tuple[float, float] | None:
    """Mean and spread of cosine similarity between random sightings of different cameras: what "unrelated"
    looks like for this store's embedder. Ids are sampled by primary key, so it is fast on any store size;
    the value is kept per connection until the store gains sightings or changes embedder (every search by
    example asks for it). Sightings superseded by a re-processed window are left out: with both versions of
    a person in the sample, that person would count as "unrelated" to themselves."""
    # Two queries: SQLite answers a lone MIN or MAX from the key, but MIN and MAX together scan the table
    # (0.2 s per million sightings, on every search by example).
    lo = conn.execute("SELECT MIN(id) FROM sightings").fetchone()[0]
    hi = conn.execute("SELECT MAX(id) FROM sightings").fetchone()[0]
    if lo is None:
        return None
    key = (id(conn), kind, lo, hi, sample, seed, embedder(conn)[0])
    got = _BACKGROUND.get(key)
    if got is None or got[0] is not conn:
        if len(_BACKGROUND) >= 16:
            _BACKGROUND.pop(next(iter(_BACKGROUND)))
        got = _BACKGROUND[key] = (conn, _background(conn, kind, lo, hi, sample, seed))
    return got[1]


def _background(conn, kind: str, lo: int, hi: int, sample: int, seed: int) -> tuple[float, float] | None:
    rng = np.random.default_rng(seed)
    ids = sorted(set(rng.integers(lo, hi + 1, size=min(sample * 3, hi - lo + 1)).tolist()))
    rows = conn.execute(
        f"SELECT camera_id, embedding FROM sightings WHERE id IN ({','.join('?' * len(ids))})"
        " AND kind=? AND embedding IS NOT NULL AND superseded_by IS NULL",
        [*ids, kind],
    ).fetchall()[:sample]
    if len(rows) < 8:
        return None
    cams = np.array([r[0] for r in rows])
    emb = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
    sim = emb @ emb.T
    mask = cams[:, None] != cams[None, :]
    vals = sim[np.triu(mask, 1)]
    if len(vals) < 10:
        return None
    return float(vals.mean()), max(float(vals.std()), 0.02)
