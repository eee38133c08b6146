"""Shard search fanned out as Ray tasks: the same code on a local Ray (started here) and on a cluster address.

Shards travel through Ray's object store (the driver reads each shard file once per version and puts its bytes
there), so worker nodes need no view of the driver's disk. Each worker process keeps the indexes it has
deserialised, keyed by shard and version, so later queries pay only the search. The exact re-rank and any
rebuild of a bad shard stay with the driver, which holds the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from relaytrack.errors import StoreError
from relaytrack.store.shards import ShardAnswer, ShardInfo, probes, search_one

if TYPE_CHECKING:
    from relaytrack.store.shards import ShardIndex

_WORKER_CACHE: dict[str, tuple[int, Any]] = {}  # shard name -> (version, index), per Ray worker process


def _search_task(
    name: str, version: int, count: int, box: list, kind: str, query: np.ndarray, k: int, nprobe: int
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """On a worker: the shard's top-k (ids, distances), or the error that made it unreadable."""
    import faiss
    import ray

    got = _WORKER_CACHE.get(name)
    try:
        if got is None or got[0] != version:
            blob = ray.get(box[0])  # boxed so Ray does not fetch it when the worker already holds the index
            index = faiss.deserialize_index(np.asarray(blob, dtype=np.uint8))
            if index.ntotal != count:
                raise ValueError(f"holds {index.ntotal} vectors, the manifest says {count}")
            got = (version, index)
            _WORKER_CACHE[name] = got
        ids, d = search_one(got[1], kind, query, k, nprobe)
        return ids, d, None
    except Exception as err:  # a corrupt shard must not fail the other shards' tasks
        _WORKER_CACHE.pop(name, None)
        return np.zeros(0, np.int64), np.zeros(0, np.float32), f"{name}: unreadable on a Ray worker ({err})"


class RayFanout:
    """A Ray connection for shard searches: `address` None starts a local Ray with `num_cpus` CPUs."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as err:
            raise StoreError(
                "the ray shard engine needs Ray, an optional extra: pip install 'relaytrack[distributed]'"
            ) from err
        self.ray = ray
        self.address = address
        self._started = False
        if not self.ray.is_initialized():
            kw: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address:
                self.ray.init(address=address, **kw)
            else:
                self.ray.init(num_cpus=num_cpus, **kw)
            self._started = True
        self._task = self.ray.remote(num_cpus=1)(_search_task)
        self._refs: dict[str, tuple[int, Any]] = {}

    def _ref(self, index: ShardIndex, info: ShardInfo) -> Any:
        got = self._refs.get(info.key.name)
        if got is None or got[0] != info.version:
            path = index.root / info.key.file
            blob = np.fromfile(path, dtype=np.uint8) if path.is_file() else np.zeros(0, np.uint8)
            got = (info.version, self.ray.put(blob))
            self._refs[info.key.name] = got
        return got[1]

    def search(
        self, index: ShardIndex, infos: list[ShardInfo], query: np.ndarray, k: int, nprobe: int | None
    ) -> list[ShardAnswer]:
        futures = [
            self._task.remote(
                i.key.name,
                i.version,
                i.count,
                [self._ref(index, i)],
                i.kind,
                query,
                k,
                probes(index.params, i.nlist, nprobe),
            )
            for i in infos
        ]
        return [
            ShardAnswer(info.key, ids, d, err)
            for info, (ids, d, err) in zip(infos, self.ray.get(futures), strict=True)
        ]

    def close(self) -> None:
        self._refs.clear()
        if self._started:
            self.ray.shutdown()
            self._started = False
