"""Ray ingest workers as actors: each loads the detector and embedder once and ingests many sources.

A Ray task per source would load the models again for every source (seconds on a small machine, more than a
short clip's ingest). An `IngestWorker` actor loads them when it starts and keeps them; the driver holds the
jobs in a priority queue (`JobQueue`) and hands the next one to whichever actor is free, so a slow source never
holds up the queue behind it and an urgent job (an on-demand re-processing) overtakes the backlog. The same
code runs on a local Ray (`ray.init(num_cpus=...)`) and on a cluster (`ray.init(address=...)`): actors are
placed by Ray, each reserving `cpus_per_worker` CPUs and running its ONNX sessions on that many threads.

Store modes are those of `relaytrack.pipeline.parallel`: `shared` (every actor writes the one store) or
`shards` (each actor writes a shard store on its own node and returns a snapshot the driver merges).

An actor that dies (killed, out of memory, node lost) is restarted by Ray (`max_restarts`) and the job it was
running is retried there (`max_task_retries`); ingest resumes from its checkpoint, so a retry is cheap. A job
that kills its actor past those retries fails alone, and the pool starts a fresh actor in its place.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.config import Config
from relaytrack.errors import RelaytrackError
from relaytrack.pipeline.ingest import IngestResult, Stages
from relaytrack.pipeline.parallel import Job, failed_result, ingest_job, shard_name, with_threads

DoneFn = Callable[[int, IngestResult], None]  # (job index, result), in completion order

# Restarts of one actor and retries of the job it was running; beyond them the job fails alone.
MAX_RESTARTS = 2


@dataclass(order=True)
class _Queued:
    priority: int
    seq: int
    index: int = field(compare=False)
    job: Job = field(compare=False)


class JobQueue:
    """Jobs waiting for a free actor: the lowest priority number first, then first come first served."""

    def __init__(self) -> None:
        self._heap: list[_Queued] = []
        self._seq = itertools.count()

    def push(self, index: int, job: Job, priority: int = 0) -> None:
        heapq.heappush(self._heap, _Queued(priority, next(self._seq), index, job))

    def pop(self) -> tuple[int, Job]:
        q = heapq.heappop(self._heap)
        return q.index, q.job

    def __len__(self) -> int:
        return len(self._heap)


class IngestWorker:
    """The actor's body (wrapped with `ray.remote` at run time: Ray is an optional extra). Lives in one worker
    process; `ingest` calls run one after another on the models loaded here."""

    def __init__(self, cfg_json: str) -> None:
        self.cfg = Config.model_validate_json(cfg_json)
        t0 = time.perf_counter()
        self.load_error: str | None = None
        try:
            self.stages: Stages | None = Stages.load(self.cfg)
        except Exception as err:  # a broken model: every job says so instead of the actor dying unexplained
            self.stages, self.load_error = None, f"{type(err).__name__}: {err}"
        self.load_s = time.perf_counter() - t0
        self.jobs = 0

    def info(self) -> dict:
        """Where the actor runs and how long its models took to load (returns once they are loaded)."""
        return {"pid": os.getpid(), "node": socket.gethostname(), "load_s": self.load_s, "jobs": self.jobs}

    def ingest(
        self, db_path: str, job: Job, shard_dir: str | None, camera_row: dict | None
    ) -> tuple[IngestResult, bytes | None]:
        """One source. Shared mode: into the main store. Shard mode: into a shard kept on this node; returns
        (result, snapshot bytes of the shard) for the driver to merge."""
        self.jobs += 1
        if self.stages is None:
            return failed_result(job, f"{job.uri}: models failed to load: {self.load_error}"), None
        if shard_dir is None:
            if "://" not in db_path and not Path(db_path).is_file():
                # The driver created it, so this node does not see the driver's disk: writing a fresh store
                # here would scatter sightings over the nodes.
                msg = f"{job.uri}: store {db_path} is not visible on Ray node {socket.gethostname()}; use --shards"
                return failed_result(job, msg), None
            return ingest_job(db_path, job, self.cfg, None, 0, stages=self.stages), None
        return self._ingest_shard(job, Path(shard_dir).expanduser() / shard_name(job), camera_row)

    def _ingest_shard(
        self, job: Job, shard: Path, camera_row: dict | None
    ) -> tuple[IngestResult, bytes | None]:
        from relaytrack.store import Store

        try:
            shard.parent.mkdir(parents=True, exist_ok=True)
            with Store(shard) as store, store.tx() as conn:
                if camera_row:  # the camera's configured start time and size live in the main store
                    cols = list(camera_row)
                    conn.execute(
                        f"INSERT INTO cameras({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
                        " ON CONFLICT DO NOTHING",
                        tuple(camera_row.values()),
                    )
        except Exception as err:
            return failed_result(job, err), None
        res = ingest_job(shard, job, self.cfg, None, 0, stages=self.stages)
        snap = shard.with_suffix(f".snap-{os.getpid()}.db")
        try:
            with Store(shard) as store:
                store.conn.execute("VACUUM INTO ?", (str(snap),))  # a consistent copy, WAL folded in
            return res, snap.read_bytes()
        finally:
            snap.unlink(missing_ok=True)


def actor_slots(ray, cpus_per_worker: int) -> int:
    """How many actors of `cpus_per_worker` CPUs the cluster can hold now."""
    cpus = ray.available_resources().get("CPU", 0.0) or ray.cluster_resources().get("CPU", 1.0)
    return max(1, int(cpus) // cpus_per_worker)


class ActorPool:
    """`n` ingest actors and the driver's dispatch loop. Start it once, `run` as many batches as wanted
    (the models stay loaded between them), `close` at the end."""

    def __init__(self, ray, cfg: Config, n: int, cpus_per_worker: int = 1) -> None:
        if n < 1 or cpus_per_worker < 1:
            raise RelaytrackError(f"ray pool of {n} actors with {cpus_per_worker} CPUs each: give 1 or more")
        self.ray = ray
        self.cpus_per_worker = cpus_per_worker
        self.cfg_json = with_threads(cfg, cpus_per_worker).model_dump_json()
        self._cls = ray.remote(
            num_cpus=cpus_per_worker, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS
        )(IngestWorker)
        self.actors = [self._new() for _ in range(n)]
        self.replaced = 0

    def _new(self):
        return self._cls.remote(self.cfg_json)

    def ready(self) -> list[dict]:
        """Wait until every actor has loaded its models; their `info()`."""
        return self.ray.get([a.info.remote() for a in self.actors])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []

    def __enter__(self) -> ActorPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(
        self,
        db_path: str | Path,
        jobs: list[Job],
        *,
        priorities: list[int] | None = None,
        mode: str = "shared",
        shard_dir: str | Path | None = None,
        on_done: DoneFn | None = None,
    ) -> list[IngestResult]:
        """Ingest `jobs` (lowest priority number first, then in order) on the pool's actors; results in job
        order. Shard mode merges each returned shard into the main store as it arrives."""
        from relaytrack.store import Store

        if mode not in ("shared", "shards"):
            raise RelaytrackError(f"ray mode {mode!r}: use 'shared' or 'shards'")
        if priorities is not None and len(priorities) != len(jobs):
            raise RelaytrackError(f"{len(priorities)} priorities for {len(jobs)} jobs: give one per job")
        db = str(db_path)
        shards = mode == "shards"
        remote_dir = str(shard_dir) if shard_dir else "~/.relaytrack/shards"
        camera_rows: dict[str, dict | None] = {}
        if shards:
            with Store(db) as main:
                for job in jobs:
                    row = main.one("SELECT * FROM cameras WHERE id=?", (job.camera,))
                    camera_rows[job.camera] = dict(row) if row is not None else None
        queue = JobQueue()
        for k, job in enumerate(jobs):
            queue.push(k, job, priorities[k] if priorities else 0)
        results: list[IngestResult | None] = [None] * len(jobs)
        idle = list(self.actors)
        running: dict = {}  # object ref -> (actor, job index)
        with tempfile.TemporaryDirectory(prefix="relaytrack-shards-") as tmp:
            while queue or running:
                while queue and idle:
                    k, job = queue.pop()
                    actor = idle.pop()
                    ref = actor.ingest.remote(
                        db, job, remote_dir if shards else None, camera_rows.get(job.camera)
                    )
                    running[ref] = (actor, k)
                done, _ = self.ray.wait(list(running), num_returns=1)
                for ref in done:
                    actor, k = running.pop(ref)
                    res, alive = self._collect(ref, jobs[k], db, Path(tmp) / f"shard-{k}.db")
                    idle.append(actor if alive else self._replace(actor))
                    results[k] = res
                    if on_done:
                        on_done(k, res)
        return [r for r in results if r is not None]

    def _collect(self, ref, job: Job, db: str, local: Path) -> tuple[IngestResult, bool]:
        """The job's result (its shard merged), and whether its actor is still alive."""
        from relaytrack.store import Store
        from relaytrack.store.merge import merge_shard

        try:
            res, snapshot = self.ray.get(ref)
        except self.ray.exceptions.RayActorError as err:  # the actor died past its restarts
            return failed_result(job, f"{job.uri}: ray worker died ({type(err).__name__})"), False
        except Exception as err:  # the call failed past its retries (node lost, a pickling error)
            return failed_result(job, f"{job.uri}: ray task failed ({type(err).__name__})"), True
        if snapshot is None:
            return res, True
        local.write_bytes(snapshot)
        try:
            with Store(db) as main:
                rep = merge_shard(main, local)
            if res.source_id is not None:
                res.source_id = rep.source_ids.get(res.source_id, res.source_id)
        except RelaytrackError as err:
            res = failed_result(job, f"{job.uri}: merging its shard failed: {err}")
        finally:
            local.unlink(missing_ok=True)
        return res, True

    def _replace(self, dead):
        self.ray.kill(dead)
        self.replaced += 1
        fresh = self._new()
        self.actors = [fresh if a is dead else a for a in self.actors]
        return fresh
