"""Sharded on-disk vector index: one FAISS index per district x day (Seoul time).

Why shards: a city day is of the order of 10^8 sightings. One index over all of them outgrows memory and makes
"these three districts, last night" scan everything. An investigation touches a few districts and hours, so
the index is cut along exactly those axes (district x calendar day in Seoul) and a query opens only the shards
its place and time window touch; each shard is a file opened memory-mapped, so only what a search reads is
paged in.

A shard's kind follows its size (chosen when it is trained):
- `flat`: fewer than `train_at` vectors. An exact buffer (IndexFlat): too few vectors to train on, and scanning
  a few thousand costs less than probing an IVF.
- `ivfflat`: trained once it holds `train_at` vectors. Full float vectors in the inverted lists, so distances
  are exact within the probed lists; at this size the vectors are cheap to keep, and product quantisation's
  codebooks (256 centroids per sub-space) would be trained on too few vectors to be good.
- `ivfpq`: re-trained once when it grows past `pq_at`, from its own exact vectors (the store is not read):
  codes of dim/4 bytes instead of dim*4 (16x smaller) keep large shards small on disk and in page cache and
  fast to scan; what the approximation costs in ranking is won back by the exact re-rank below.
Vectors are scaled to unit length and indexed by L2 distance, which ranks exactly as cosine similarity does.

Search: the shards of the window are searched in parallel (a thread pool, FAISS releases the GIL; or Ray tasks,
`relaytrack.store.shards_ray`), their candidates merged by index distance, and the best `shortlist` re-ranked
exactly against the stored float vectors, which the caller's `VectorSource` reads from the store (this module
knows no SQL). A shard file that cannot be read (corrupt, truncated, missing, wrong count or width) is reported
in the result, rebuilt from the store through the same source and searched; the other shards go on meanwhile.

Files: `ROOT/manifest.json` (width, embedder, the highest sighting id indexed, and per shard its kind, count,
time span and version) and `ROOT/<day>/<district hash>.faiss`; every file is written to a temporary name and
renamed into place, so a reader never sees half a shard.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from relaytrack.errors import StoreError

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DAY_S = 86400.0
_KST_S = 9 * 3600.0  # Seoul: UTC+9 all year (relaytrack.clock.KST; the store layer does not import it)
_EPOCH = date(1970, 1, 1)


# ---- records ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ShardKey:
    """A shard: one district ("" for cameras without one) on one calendar day in Seoul."""

    day: str  # YYYY-MM-DD, Seoul time
    district: str

    @property
    def name(self) -> str:
        return f"{self.district or '(no district)'} {self.day}"

    @property
    def file(self) -> str:
        # District names are Korean: a short hash keeps file names plain; the manifest keeps the name.
        return f"{self.day}/{hashlib.sha1(self.district.encode()).hexdigest()[:12]}.faiss"

    def bounds(self) -> tuple[float, float]:
        """Epoch seconds of the day's start (00:00 in Seoul) and of the next day's start."""
        start = (date.fromisoformat(self.day) - _EPOCH).days * DAY_S - _KST_S
        return start, start + DAY_S


@dataclass
class ShardInfo:
    """A shard's manifest entry."""

    key: ShardKey
    count: int = 0
    kind: str = "flat"  # flat | ivfflat | ivfpq
    nlist: int = 0
    first: float = float("inf")  # earliest wall_start of its vectors
    last: float = float("-inf")  # latest wall_end (a sighting may run past midnight)
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "key"}
        return {"district": self.key.district, "day": self.key.day, **d}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ShardInfo:
        return cls(
            ShardKey(d["day"], d["district"]),
            d["count"],
            d["kind"],
            d["nlist"],
            d["first"],
            d["last"],
            d["version"],
        )


@dataclass(frozen=True)
class VectorBatch:
    """Sightings to index: ids, embeddings (n, dim), their cameras' districts and their wall-clock spans."""

    ids: np.ndarray
    vectors: np.ndarray
    districts: Sequence[str]
    wall_start: np.ndarray
    wall_end: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class ShardHit:
    sighting_id: int
    similarity: float  # cosine; exact after the re-rank, from the index distance otherwise


@dataclass(frozen=True)
class ShardProblem:
    """A shard that could not be searched as it was: why, and whether it was rebuilt from the store."""

    shard: str
    file: str
    error: str
    rebuilt: bool
    vectors: int = 0  # after the rebuild


@dataclass
class ShardAnswer:
    """One shard's candidates (index distances, smaller is nearer), or why it could not be searched."""

    key: ShardKey
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    distances: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    error: str | None = None


@dataclass
class ShardSearch:
    hits: list[ShardHit]
    shards: list[str]  # names of the shards searched
    problems: list[ShardProblem]
    candidates: int  # merged candidates re-ranked exactly
    engine: str
    exact: bool  # True when the hits were re-ranked against the stored vectors


@dataclass(frozen=True)
class ShardParams:
    train_at: int = 20_000  # flat buffer -> IVF-Flat
    pq_at: int = 200_000  # IVF-Flat -> IVF-PQ
    list_size: int = 200  # vectors per inverted list at training time (lists then fill as the shard grows)
    max_train: int = 50_000  # training sample
    # Searching (not kept in the manifest): the share of a shard's lists probed per query, at least min_probe
    # (1/8: recall@20 0.99 on a 1M-sighting city, 1/16 0.95), and the candidates re-ranked exactly.
    probe_share: float = 1 / 8
    min_probe: int = 8
    shortlist: int = 200  # at least k


BUILD_PARAMS = ("train_at", "pq_at", "list_size", "max_train")


class VectorSource(Protocol):
    """The store, as far as the index needs it (any SQL backend)."""

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, their float32 embeddings) for the given sighting ids; missing ids are left out."""
        ...

    def shard_rows(self, key: ShardKey, upto: int) -> Iterable[VectorBatch]:
        """Every embedded sighting of the shard's district whose wall_start falls on its day, id <= upto."""
        ...


class ShardError(StoreError):
    """A shard file that cannot be used."""


# ---- helpers ---------------------------------------------------------------------------------------------


def day_of(walls: np.ndarray) -> np.ndarray:
    """Seoul calendar day of each epoch time, as days since 1970-01-01."""
    return np.floor((np.asarray(walls, dtype=np.float64) + _KST_S) / DAY_S).astype(np.int64)


def day_name(day: int) -> str:
    return (_EPOCH + timedelta(days=int(day))).isoformat()


def unit(v: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _pow2(x: float, lo: int, hi: int) -> int:
    return int(np.clip(2 ** round(np.log2(max(x, 1.0))), lo, hi))


def pq_m(dim: int) -> int:
    """Sub-quantisers for IVF-PQ: 4 dimensions each where the width allows (at most 64), else the largest
    divisor of the width up to 64; 0 when the width has no usable divisor (the shard then stays IVF-Flat)."""
    if dim % 4 == 0 and dim // 4 <= 64:
        return dim // 4
    best = max((m for m in range(1, 65) if dim % m == 0), default=0)
    return best if best >= 8 else 0


def dump(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float vectors) of a flat or IVF-Flat shard (both keep the exact vectors)."""
    if isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap):
        inner = faiss.downcast_index(index.index)
        return faiss.vector_to_array(index.id_map).astype(np.int64), inner.reconstruct_n(0, index.ntotal)
    ivf = faiss.extract_index_ivf(index)
    il = ivf.invlists
    ids, vecs = [], []
    for lst in range(ivf.nlist):
        n = il.list_size(lst)
        if n:
            ids.append(faiss.rev_swig_ptr(il.get_ids(lst), n).copy())
            codes = faiss.rev_swig_ptr(il.get_codes(lst), n * il.code_size).copy()
            vecs.append(codes.view(np.float32).reshape(n, ivf.d))
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, ivf.d), np.float32)
    return np.concatenate(ids).astype(np.int64), np.concatenate(vecs)


def search_one(
    index: Any, kind: str, query: np.ndarray, k: int, nprobe: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (ids, L2 distances) of one shard; a flat shard is exact."""
    k = max(1, min(int(k), int(index.ntotal)))
    if index.ntotal == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    if kind == "flat":
        d, i = index.search(query, k)
    else:
        nlist = faiss.extract_index_ivf(index).nlist
        d, i = index.search(query, k, params=faiss.SearchParametersIVF(nprobe=int(min(nprobe, nlist))))
    keep = i[0] >= 0
    return i[0][keep].astype(np.int64), d[0][keep].astype(np.float32)


def probes(params: ShardParams, nlist: int, nprobe: int | None) -> int:
    return int(nprobe) if nprobe else max(params.min_probe, int(round(nlist * params.probe_share)))


# ---- one shard in memory ---------------------------------------------------------------------------------


class Shard:
    """A shard being written: its FAISS index and manifest entry; trains itself as it grows."""

    def __init__(self, info: ShardInfo, dim: int, params: ShardParams, index: Any = None) -> None:
        self.info, self.dim, self.params = info, dim, params
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatL2(dim))

    def add(self, ids: np.ndarray, vecs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.index.add_with_ids(unit(vecs), np.ascontiguousarray(ids, dtype=np.int64))
        i = self.info
        i.count = int(self.index.ntotal)
        i.first = min(i.first, float(np.min(starts)))
        i.last = max(i.last, float(np.max(ends)))
        p = self.params
        grown = i.kind == "ivfflat" and i.count >= p.pq_at and pq_m(self.dim) > 0
        if (i.kind == "flat" and i.count >= p.train_at) or grown:
            self.retrain()

    def retrain(self) -> None:
        """Train the kind this size calls for on the shard's own vectors and move them in (once per kind)."""
        ids, vecs = dump(self.index)
        p = self.params
        m = pq_m(self.dim)
        kind = "ivfpq" if len(ids) >= p.pq_at and m else "ivfflat"
        nlist = _pow2(len(ids) / p.list_size, 16, 65536)
        quantizer = faiss.IndexFlatL2(self.dim)
        if kind == "ivfpq":
            index = faiss.IndexIVFPQ(quantizer, self.dim, nlist, m, 8)
            index.pq.cp.niter = (
                12  # the re-rank repairs what fewer k-means rounds cost; training stays seconds
            )
        else:
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist)
        index.cp.niter = 12
        rng = np.random.default_rng(len(ids))
        sample = vecs if len(vecs) <= p.max_train else vecs[rng.choice(len(vecs), p.max_train, replace=False)]
        index.train(sample)
        index.add_with_ids(vecs, ids)
        self.index = index
        self.info.kind, self.info.nlist = kind, nlist

    def save(self, root: Path) -> None:
        path = root / self.info.key.file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, path)
        self.info.version += 1


# ---- the index -------------------------------------------------------------------------------------------


class ShardIndex:
    """The shards under one directory. Writers call `add` ... `flush`; searchers call `search`."""

    def __init__(
        self,
        root: str | Path,
        *,
        dim: int | None = None,
        embedder: str | None = None,
        params: ShardParams | None = None,
    ) -> None:
        self.root = Path(root)
        self.params = params or ShardParams()
        self.shards: dict[ShardKey, ShardInfo] = {}
        self.indexed_upto = 0
        self.dim, self.embedder = dim, embedder
        # Read-only (version, file identity, index), memory-mapped: the identity (inode, size, mtime) is checked
        # before each use, because reading a mapping whose file was rewritten in place (a `cp` over it) kills the
        # process with a bus error, where a reload gives a reported problem at worst.
        self._open: dict[ShardKey, tuple[int, tuple[int, int, int], Any]] = {}
        self._writing: dict[ShardKey, Shard] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._ray: Any = None
        mf = self.root / MANIFEST
        if mf.exists():
            self._read_manifest(mf)
        elif dim is None:
            raise StoreError(f"{self.root}: no vector shards here (run `relaytrack city index`)")

    # -- manifest --
    def _read_manifest(self, mf: Path) -> None:
        try:
            m = json.loads(mf.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise StoreError(
                f"{mf}: unreadable shard manifest ({err}); rebuild with `relaytrack city index --rebuild`"
            ) from err
        if m.get("format") != FORMAT:
            raise StoreError(f"{mf}: shard format {m.get('format')} (this relaytrack reads {FORMAT})")
        self.dim, self.embedder, self.indexed_upto = int(m["dim"]), m.get("embedder"), int(m["indexed_upto"])
        # How the shards were built comes from the manifest; how to search them from this code (or the caller).
        built = {k: v for k, v in m.get("params", {}).items() if k in BUILD_PARAMS}
        self.params = ShardParams(**{**asdict(self.params), **built})
        self.shards = {(i := ShardInfo.from_json(s)).key: i for s in m["shards"]}

    def write_manifest(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        body = {
            "format": FORMAT,
            "dim": self.dim,
            "embedder": self.embedder,
            "indexed_upto": self.indexed_upto,
            "params": asdict(self.params),
            "shards": [self.shards[k].to_json() for k in sorted(self.shards)],
        }
        tmp = self.root / f".{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)

    # -- reading one shard --
    def _load(self, key: ShardKey, retry: bool = True) -> Any:
        """The shard's index for searching (memory-mapped where FAISS can), checked against the manifest."""
        info = self.shards[key]
        path = self.root / key.file
        try:
            st = path.stat()
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            raise ShardError(f"{path}: shard file missing")
        ident = (st.st_ino, st.st_size, st.st_mtime_ns)
        got = self._open.get(key)
        if got is not None and got[0] == info.version and got[1] == ident:
            return got[2]
        self._open.pop(key, None)
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if info.kind != "flat" else 0)
        except RuntimeError as err:
            raise ShardError(f"{path}: unreadable ({str(err).splitlines()[-1][:200]})") from err
        if index.d != self.dim or index.ntotal != info.count:
            if retry and self._refresh(key):  # a writer replaced the shard after this manifest was read
                return self._load(key, retry=False)
            raise ShardError(
                f"{path}: holds {index.ntotal} vectors of width {index.d}; the manifest says {info.count} of {self.dim}"
            )
        self._open[key] = (info.version, ident, index)
        return index

    def _refresh(self, key: ShardKey) -> bool:
        """Re-read the manifest's entry for one shard; True when it changed since this index read it."""
        try:
            m = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        for s in m.get("shards", []):
            info = ShardInfo.from_json(s)
            if info.key == key and info != self.shards.get(key):
                self.shards[key] = info
                return True
        return False

    def _writable(self, key: ShardKey, source: VectorSource | None, report: list[ShardProblem]) -> Shard:
        sh = self._writing.get(key)
        if sh is not None:
            return sh
        info = self.shards.get(key)
        if info is None or info.count == 0:
            sh = Shard(ShardInfo(key, version=info.version if info else 0), self.dim, self.params)
        else:
            info = replace(info)  # the manifest's entry changes at flush, with the file
            try:
                path = self.root / key.file
                index = faiss.read_index(str(path))
                if index.ntotal != info.count or index.d != self.dim:
                    raise ShardError(f"{path}: {index.ntotal} vectors, the manifest says {info.count}")
                sh = Shard(info, self.dim, self.params, index)
            except (RuntimeError, ShardError) as err:
                if source is None:
                    raise ShardError(f"shard {key.name}: {err}") from err
                sh = self._rebuilt(key, source)
                report.append(ShardProblem(key.name, key.file, str(err), True, sh.info.count))
        self._writing[key] = sh
        return sh

    # -- writing --
    def add(self, batch: VectorBatch, *, source: VectorSource | None = None) -> list[ShardProblem]:
        """Index a batch of sightings (kept in memory until `flush`). Returns shards that had to be rebuilt."""
        report: list[ShardProblem] = []
        if len(batch) == 0:
            return report
        vecs = np.ascontiguousarray(batch.vectors, dtype=np.float32).reshape(len(batch), -1)
        if self.dim is None:
            self.dim = vecs.shape[1]
        if vecs.shape[1] != self.dim:
            raise StoreError(f"embedding width {vecs.shape[1]} does not match the shards' {self.dim}")
        days = day_of(batch.wall_start)
        dist_names, dist_code = np.unique(
            np.asarray(batch.districts, dtype=object).astype(str), return_inverse=True
        )
        group = dist_code.astype(np.int64) * 1_000_000 + (days - days.min())
        order = np.argsort(group, kind="stable")
        cuts = np.flatnonzero(np.diff(group[order])) + 1
        for rows in np.split(order, cuts):
            key = ShardKey(day_name(days[rows[0]]), str(dist_names[dist_code[rows[0]]]))
            sh = self._writable(key, source, report)
            sh.add(batch.ids[rows], vecs[rows], batch.wall_start[rows], batch.wall_end[rows])
        self.indexed_upto = max(self.indexed_upto, int(np.max(batch.ids)))
        return report

    def flush(self) -> int:
        """Write every shard changed since the last flush, then the manifest. Returns the shards written."""
        n = len(self._writing)
        for sh in self._writing.values():
            sh.save(self.root)
            self.shards[sh.info.key] = sh.info
        self._writing.clear()
        self.write_manifest()
        return n

    def _rebuilt(self, key: ShardKey, source: VectorSource) -> Shard:
        prev = self.shards.get(key)
        info = ShardInfo(key, version=prev.version if prev else 0)
        sh = Shard(info, self.dim, self.params)
        for b in source.shard_rows(key, self.indexed_upto):
            if len(b):
                sh.add(b.ids, b.vectors, b.wall_start, b.wall_end)
        return sh

    def rebuild(self, key: ShardKey, source: VectorSource) -> ShardInfo:
        """Rebuild one shard from the store and write it (the manifest too)."""
        sh = self._rebuilt(key, source)
        sh.save(self.root)
        self.shards[key] = sh.info
        self._open.pop(key, None)
        self.write_manifest()
        log.warning("vector shard %s rebuilt from the store (%d vectors)", key.name, sh.info.count)
        return sh.info

    # -- searching --
    def shards_for(
        self,
        districts: Sequence[str] | None = None,
        time_from: float | None = None,
        time_to: float | None = None,
    ) -> list[ShardInfo]:
        """Shards the place and time window touch (a sighting counts where it overlaps the window)."""
        want = set(districts or ())
        return [
            i
            for k, i in sorted(self.shards.items())
            if i.count
            and (not want or k.district in want)
            and (time_from is None or i.last >= time_from)
            and (time_to is None or i.first <= time_to)
        ]

    def _answer(self, info: ShardInfo, query: np.ndarray, k: int, nprobe: int | None) -> ShardAnswer:
        try:
            index = self._load(info.key)
            ids, d = search_one(index, info.kind, query, k, probes(self.params, info.nlist, nprobe))
            return ShardAnswer(info.key, ids, d)
        except ShardError as err:
            return ShardAnswer(info.key, error=str(err))

    def search(
        self,
        query: np.ndarray,
        k: int = 20,
        *,
        districts: Sequence[str] | None = None,
        time_from: float | None = None,
        time_to: float | None = None,
        source: VectorSource | None = None,
        nprobe: int | None = None,
        shortlist: int | None = None,
        engine: str = "threads",
        workers: int | None = None,
        ray_address: str | None = None,
    ) -> ShardSearch:
        """The k sightings nearest to `query` among the shards of the window, best first. With a `source`, the
        merged short list is re-ranked exactly and unreadable shards are rebuilt from it."""
        if self.dim is None or len(np.ravel(query)) != self.dim:
            raise StoreError(f"query width {len(np.ravel(query))} does not match the shards' {self.dim}")
        q = unit(np.ravel(query))[None, :]
        infos = self.shards_for(districts, time_from, time_to)
        per_shard = max(int(k), int(shortlist or self.params.shortlist))
        if engine == "ray":
            from relaytrack.store.shards_ray import RayFanout

            if self._ray is None or self._ray.address != ray_address:
                self._ray = RayFanout(ray_address, num_cpus=workers)
            answers = self._ray.search(self, infos, q, per_shard, nprobe)
        elif engine == "threads":
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=workers or max(1, min(8, os.cpu_count() or 1)))
            answers = list(self._pool.map(lambda i: self._answer(i, q, per_shard, nprobe), infos))
        else:
            raise StoreError(f"shard search engine {engine!r}: use 'threads' or 'ray'")
        problems = []
        for a in answers:
            if a.error is None:
                continue
            if source is None:
                problems.append(ShardProblem(a.key.name, a.key.file, a.error, False))
                continue
            log.warning("vector shard %s: %s", a.key.name, a.error)
            info = self.rebuild(a.key, source)
            problems.append(ShardProblem(a.key.name, a.key.file, a.error, True, info.count))
            retry = self._answer(info, q, per_shard, nprobe)
            a.ids, a.distances, a.error = retry.ids, retry.distances, retry.error
        ids = np.concatenate([a.ids for a in answers if a.error is None] or [np.zeros(0, np.int64)])
        dist = np.concatenate([a.distances for a in answers if a.error is None] or [np.zeros(0, np.float32)])
        ids, first = np.unique(ids, return_index=True)
        dist = dist[first]
        best = np.argsort(dist, kind="stable")[:per_shard]
        cand, cd = ids[best], dist[best]
        if source is not None and len(cand):
            found, mat = source.vectors(cand)
            sims = unit(mat) @ q[0] if len(found) else np.zeros(0, np.float32)
            order = np.lexsort((found, -sims))[:k]
            hits = [ShardHit(int(found[i]), float(sims[i])) for i in order]
        else:  # unit vectors: |a-b|^2 = 2 - 2 cos
            hits = [ShardHit(int(i), float(1.0 - d / 2.0)) for i, d in zip(cand[:k], cd[:k], strict=True)]
        return ShardSearch(hits, [i.key.name for i in infos], problems, len(cand), engine, source is not None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._ray is not None:
            self._ray.close()
            self._ray = None
        self._open.clear()
