"""Many sources at once: a local process pool, or Ray actors on one machine or a cluster.

Every worker runs the same per-camera `ingest` (resumable, idempotent by source fingerprint) with its own
store connection and its own models. ONNX sessions get `max(1, cores // workers)` intra-op threads so that
the workers together use the machine's cores once, not `workers` times over.

Writes from several processes into one SQLite file are safe: WAL mode, a 30 s busy timeout, and `ingest`
commits in short `BEGIN IMMEDIATE` transactions (one every `commit_every` frames), so writers queue for
milliseconds, not seconds. A kill -9 of the whole pool leaves each source at its last checkpoint; the same
command run again resumes every one of them.

With Ray (`run_ray`), ingest workers are actors that load their models once and take sources one after
another from the driver's queue (`relaytrack.pipeline.raypool`). `mode="shared"` has every actor write to the
one store path (a local cluster, or a cluster with a shared file system that does proper locking, which NFS
often does not). `mode="shards"` is for machines that share nothing: each actor ingests a source into a shard
store on its own node (kept there, so a retried job resumes), returns a snapshot of it, and the driver merges
the snapshots into the main store (`relaytrack.store.merge`), idempotent by (source fingerprint, track id).

The driver must open (and so migrate) the main store before starting workers: migrations are not meant to
race.
"""

from __future__ import annotations

import hashlib
import os
import queue as queue_mod
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from relaytrack.config import Config
from relaytrack.errors import RelaytrackError
from relaytrack.pipeline.ingest import IngestResult, Stages, ingest

ProgressFn = Callable[[int, int, int | None], None]  # (job index, frame reached, frames total)
DoneFn = Callable[[int, IngestResult], None]  # (job index, result), in completion order

RAY_EXTRA_HINT = (
    "--engine ray needs Ray, an optional extra: pip install 'relaytrack[distributed]' "
    "(or `.venv/bin/pip install -e '.[distributed]'`)"
)


@dataclass(frozen=True)
class Job:
    uri: str
    camera: str
    start_wall: float | None = None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_workers(workers: int, n_jobs: int) -> int:
    """0 means one per core; never more workers than sources."""
    if workers < 0:
        raise RelaytrackError(f"--workers {workers}: give 0 (one per core) or a positive number")
    w = cores() if workers == 0 else workers
    return max(1, min(w, max(1, n_jobs)))


def threads_per_worker(workers: int) -> int:
    return max(1, cores() // max(1, workers))


def with_threads(cfg: Config, threads: int) -> Config:
    """The config with both ONNX stages set to `threads` intra-op threads."""
    return cfg.model_copy(
        update={
            "detect": cfg.detect.model_copy(update={"threads": threads}),
            "describe": cfg.describe.model_copy(update={"threads": threads}),
        }
    )


def failed_result(job: Job, err: BaseException | str) -> IngestResult:
    msg = err if isinstance(err, str) else f"{job.uri}: {type(err).__name__}: {err}"
    if isinstance(err, RelaytrackError):
        msg = str(err) if job.uri in str(err) else f"{job.uri}: {err}"
    return IngestResult(uri=job.uri, camera=job.camera, status="failed", error=msg)


# ---- one worker process's state (a pool worker or a Ray worker; each loads its models once) ------------------

_WORKER: dict = {}


def _stages(cfg: Config) -> Stages:
    key = cfg.model_dump_json()
    if _WORKER.get("stages_key") != key:
        _WORKER["stages"] = Stages.load(cfg)
        _WORKER["stages_key"] = key
    return _WORKER["stages"]


def ingest_job(
    db_path: str | Path,
    job: Job,
    cfg: Config,
    report: ProgressFn | None,
    index: int,
    *,
    stages: Stages | None = None,
) -> IngestResult:
    """Open the store, ingest one source, close. Never raises: errors come back in the result. `timings`
    gains "wall" and "cpu" (this process's CPU seconds: what capacity planning counts as core-seconds)."""
    from relaytrack.store import Store

    t0, c0 = time.perf_counter(), time.process_time()
    try:
        stages = stages or _stages(cfg)
        with Store(db_path) as store:
            res = ingest(
                store,
                job.uri,
                job.camera,
                cfg,
                stages,
                start_wall=job.start_wall,
                progress=(lambda i, n: report(index, i, n)) if report else None,
            )
    except Exception as err:  # a broken model, a store error: this source fails, the others go on
        res = failed_result(job, err)
    res.timings["wall"] = time.perf_counter() - t0
    res.timings["cpu"] = time.process_time() - c0
    return res


def _pool_init(cfg_json: str, q) -> None:
    import signal

    # Ctrl-C goes to the parent, which shuts the pool down; workers are killed with it, resumable.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["cfg"] = Config.model_validate_json(cfg_json)
    _WORKER["queue"] = q


def _pool_run(db_path: str, job: Job, index: int) -> IngestResult:
    q = _WORKER["queue"]
    last = [0.0]

    def report(k: int, i: int, n: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25:  # a few updates a second is plenty for a progress bar
            last[0] = now
            q.put((k, i, n))

    return ingest_job(db_path, job, _WORKER["cfg"], report, index)


# ---- local process pool ----------------------------------------------------------------------------------------


def run_local(
    db_path: str | Path,
    jobs: list[Job],
    cfg: Config,
    workers: int,
    *,
    progress: ProgressFn | None = None,
    on_done: DoneFn | None = None,
    threads: int | None = None,
) -> list[IngestResult]:
    """Ingest `jobs` with a pool of `workers` processes (0 = one per core); results in job order. Each
    worker's ONNX sessions get `threads` threads (default: the cores shared out among the workers)."""
    import multiprocessing as mp

    n = resolve_workers(workers, len(jobs))
    wcfg = with_threads(cfg, threads or threads_per_worker(n))
    # spawn, not fork: the parent may hold SQLite and ONNX runtime state that must not be shared.
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    results: list[IngestResult | None] = [None] * len(jobs)
    with ProcessPoolExecutor(
        n, mp_context=ctx, initializer=_pool_init, initargs=(wcfg.model_dump_json(), q)
    ) as pool:
        futs: dict[Future, int] = {
            pool.submit(_pool_run, str(db_path), job, k): k for k, job in enumerate(jobs)
        }
        pending = set(futs)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(q, progress)
                for f in done:
                    k = futs[f]
                    try:
                        res = f.result()
                    except Exception as err:  # the worker process died (killed, out of memory)
                        res = failed_result(
                            jobs[k], f"{jobs[k].uri}: worker process died ({type(err).__name__}: {err})"
                        )
                    results[k] = res
                    if on_done:
                        on_done(k, res)
        except KeyboardInterrupt:
            # Stop now rather than wait for every running source: each is resumable from its checkpoint.
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    _drain(q, progress)
    return [r for r in results if r is not None]


def _drain(q, progress: ProgressFn | None) -> None:
    while True:
        try:
            k, i, n = q.get_nowait()
        except (queue_mod.Empty, OSError, ValueError):
            return
        if progress:
            progress(k, i, n)


# ---- Ray ---------------------------------------------------------------------------------------------------------


def import_ray():
    try:
        import ray
    except ImportError as err:
        raise RelaytrackError(RAY_EXTRA_HINT) from err
    return ray


def shard_name(job: Job) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.camera)[:60]
    return f"{safe}-{hashlib.sha1(job.uri.encode()).hexdigest()[:12]}.db"


def run_ray(
    db_path: str | Path,
    jobs: list[Job],
    cfg: Config,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    actors: int | None = None,
    cpus_per_task: int = 1,
    mode: str = "shared",
    shard_dir: str | Path | None = None,
    on_done: DoneFn | None = None,
) -> list[IngestResult]:
    """Ingest `jobs` on Ray actors (`relaytrack.pipeline.raypool`) that load their models once and take one
    source after another from the driver's queue: on the cluster at `address`, on the Ray this process already
    joined, or on a local Ray started here with `num_cpus` CPUs (default: all). `actors` defaults to as many as
    the CPUs hold, never more than there are sources; each reserves `cpus_per_task` CPUs and gives its ONNX
    sessions that many threads. Results in job order."""
    from relaytrack.pipeline.raypool import ActorPool, actor_slots

    if mode not in ("shared", "shards"):
        raise RelaytrackError(f"ray mode {mode!r}: use 'shared' or 'shards'")
    if cpus_per_task < 1:
        raise RelaytrackError(f"--ray-cpus-per-task {cpus_per_task}: give 1 or more")
    if actors is not None and actors < 1:
        raise RelaytrackError(f"ray actors {actors}: give 1 or more")
    if not jobs:
        return []
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        kw: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus or cores(), **kw)
        started = True
    try:
        n = min(actors or actor_slots(ray, cpus_per_task), len(jobs))
        with ActorPool(ray, cfg, n, cpus_per_task) as pool:
            return pool.run(str(db_path), jobs, mode=mode, shard_dir=shard_dir, on_done=on_done)
    finally:
        if started:
            ray.shutdown()
