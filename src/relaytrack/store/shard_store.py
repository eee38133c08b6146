"""A store's vector shards: where they live, reading the store for them, building them, searching them.

`relaytrack.store.shards` knows FAISS and files but no SQL. This module is its bridge to a store:
`StoreVectors` reads embeddings with portable SQL (`?` placeholders, no engine-specific functions), `build`
indexes every sighting not yet indexed (and starts over when the store's embedder or width changed), and
`open_for` finds a store's shards for a search: the directory is recorded in the store's meta table by
`build`, so whichever backend the store runs on says where its shards are.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.store import vectors
from relaytrack.store.shards import (
    MANIFEST,
    ShardIndex,
    ShardKey,
    ShardParams,
    ShardProblem,
    VectorBatch,
    unit,
)

log = logging.getLogger(__name__)

META_KEY = "vector_shards"
TAIL_WARN = (
    50_000  # sightings newer than the shards are compared exactly; past this many, say to run city index
)
_OPEN: dict[Path, tuple[float, ShardIndex]] = {}  # root -> (manifest mtime, index): loaded shards stay open


def shard_dir(store: Any) -> Path:
    """Where a store keeps its vector shards: beside a SQLite file, `X.db` -> `X.db.shards/`."""
    return Path(str(store.path) + ".shards")


@dataclass
class BuildReport:
    root: str
    added: int
    indexed_upto: int
    shards: int
    by_kind: dict[str, int]
    vectors: int
    rebuilt_all: bool
    problems: list[ShardProblem] = field(default_factory=list)
    seconds: float = 0.0


class StoreVectors:
    """The `VectorSource` of one store connection."""

    def __init__(self, conn: Any, batch: int = 50_000) -> None:
        self.conn, self.batch = conn, batch
        self._districts: dict[str, str] | None = None

    def districts(self) -> dict[str, str]:
        if self._districts is None:
            self._districts = {
                r[0]: r[1] or "" for r in self.conn.execute("SELECT id, district FROM cameras").fetchall()
            }
        return self._districts

    def _batch(self, rows: list[Any]) -> VectorBatch:
        dmap = self.districts()
        return VectorBatch(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(len(rows), -1),
            [dmap.get(r[1], "") for r in rows],
            np.array([r[2] for r in rows], dtype=np.float64),
            np.array([r[3] for r in rows], dtype=np.float64),
        )

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        got_ids, blobs = [], []
        ids = [int(i) for i in ids]
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            for sid, blob in self.conn.execute(
                f"SELECT id, embedding FROM sightings WHERE id IN ({','.join('?' * len(chunk))})"
                " AND embedding IS NOT NULL",
                chunk,
            ):
                got_ids.append(sid)
                blobs.append(blob)
        if not got_ids:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.array(got_ids, dtype=np.int64), np.frombuffer(b"".join(blobs), np.float32).reshape(
            len(blobs), -1
        )

    def rows_after(self, after: int) -> Iterator[VectorBatch]:
        """Every embedded sighting with id > after, in id order, a batch at a time (keyset pages)."""
        last = int(after)
        while True:
            rows = self.conn.execute(
                "SELECT id, camera_id, wall_start, wall_end, embedding FROM sightings"
                " WHERE id > ? AND embedding IS NOT NULL ORDER BY id LIMIT ?",
                (last, self.batch),
            ).fetchall()
            if not rows:
                return
            yield self._batch(rows)
            last = rows[-1][0]

    def shard_rows(self, key: ShardKey, upto: int) -> Iterator[VectorBatch]:
        start, end = key.bounds()
        cur = self.conn.execute(
            "SELECT id, camera_id, wall_start, wall_end, embedding FROM sightings"
            " WHERE wall_start >= ? AND wall_start < ? AND id <= ? AND embedding IS NOT NULL"
            " AND camera_id IN (SELECT id FROM cameras WHERE COALESCE(district, '') = ?)",
            (start, end, int(upto), key.district),
        )
        while rows := cur.fetchmany(self.batch):
            yield self._batch(rows)


def _set_meta(conn: Any, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def build(
    store: Any,
    root: str | Path | None = None,
    *,
    params: ShardParams | None = None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Add every embedded sighting the shards do not hold yet (all of them the first time, or with `rebuild`,
    or when the store's embedder changed since), write the shards and record their directory in the store."""
    t0 = time.perf_counter()
    conn = store.conn
    root = Path(root) if root else shard_dir(store)
    width, emb = vectors.dim(conn), vectors.embedder(conn)[0]
    if width is None:  # no vector index yet: the width comes from the stored embeddings, if any
        row = conn.execute("SELECT embedding FROM sightings WHERE embedding IS NOT NULL LIMIT 1").fetchone()
        width = len(row[0]) // 4 if row else None
    idx = None
    if (root / MANIFEST).exists() and not rebuild:
        try:
            idx = ShardIndex(root, params=params)
        except Exception:
            idx = None  # an unreadable manifest: start over
        if idx is not None and (idx.dim != width or idx.embedder != emb):
            idx = None
    rebuilt_all = idx is None
    if idx is None:
        if root.exists():
            shutil.rmtree(root)
        if width is None:
            return BuildReport(str(root), 0, 0, 0, {}, 0, True, seconds=round(time.perf_counter() - t0, 2))
        idx = ShardIndex(root, dim=width, embedder=emb, params=params)
    _OPEN.pop(root.resolve(), None)
    src = StoreVectors(conn)
    todo = conn.execute(
        "SELECT COUNT(*) FROM sightings WHERE id > ? AND embedding IS NOT NULL", (idx.indexed_upto,)
    ).fetchone()[0]
    added, problems = 0, []
    for b in src.rows_after(idx.indexed_upto):
        problems += idx.add(b, source=src)
        added += len(b)
        if progress:
            progress(added, todo)
    idx.flush()
    with store.tx():
        _set_meta(conn, META_KEY, str(root.resolve()))
    kinds: dict[str, int] = {}
    for i in idx.shards.values():
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    return BuildReport(
        str(root),
        added,
        idx.indexed_upto,
        len(idx.shards),
        kinds,
        sum(i.count for i in idx.shards.values()),
        rebuilt_all,
        problems,
        round(time.perf_counter() - t0, 2),
    )


def open_for(conn: Any) -> ShardIndex | None:
    """The store's shards when they exist and hold this store's embedder's vectors, else None (search then
    uses the store's own vector index). Opened shards stay open for the next search in this process."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    if not row:
        return None
    root = Path(row[0]).resolve()
    try:
        mtime = (root / MANIFEST).stat().st_mtime
    except OSError:
        return None
    got = _OPEN.get(root)
    if got is None or got[0] != mtime:
        if got is not None:
            got[1].close()
        try:
            got = (mtime, ShardIndex(root))
        except Exception:
            return None
        _OPEN[root] = got
    idx = got[1]
    if idx.dim != vectors.dim(conn) and vectors.dim(conn) is not None:
        return None
    if idx.embedder != vectors.embedder(conn)[0]:
        return None
    return idx


@dataclass
class ShardedKnn:
    """Nearest sightings through the shards: (sighting id, cosine distance), nearest first, and what it did."""

    nearest: list[tuple[int, float]]
    shards: int
    candidates: int
    tail: int  # sightings newer than the shards, compared exactly
    problems: list[ShardProblem]


def knn(
    conn: Any,
    idx: ShardIndex,
    query: np.ndarray,
    k: int,
    *,
    districts: Sequence[str] | None = None,
    time_from: float | None = None,
    time_to: float | None = None,
    nprobe: int | None = None,
    engine: str = "threads",
) -> ShardedKnn:
    """The k nearest through the shards, plus an exact pass over the sightings added since they were built
    (the tail: slow when long, so a warning says to bring the shards up to date)."""
    tail = conn.execute(
        "SELECT COUNT(*) FROM sightings WHERE id > ? AND embedding IS NOT NULL", (idx.indexed_upto,)
    ).fetchone()[0]
    if tail > TAIL_WARN:
        log.warning("%d sightings are newer than the vector shards; run `relaytrack city index`", tail)
    src = StoreVectors(conn)
    res = idx.search(
        query,
        k,
        districts=districts,
        time_from=time_from,
        time_to=time_to,
        source=src,
        nprobe=nprobe,
        engine=engine,
    )
    near = [(h.sighting_id, 1.0 - h.similarity) for h in res.hits]
    if tail:
        q = unit(np.ravel(query))
        for b in src.rows_after(idx.indexed_upto):
            sims = unit(b.vectors) @ q
            top = np.argsort(-sims)[:k]
            near += [(int(b.ids[i]), float(1.0 - sims[i])) for i in top]
        near = sorted(near, key=lambda x: (x[1], x[0]))[:k]
    return ShardedKnn(near, len(res.shards), res.candidates, int(tail), res.problems)
