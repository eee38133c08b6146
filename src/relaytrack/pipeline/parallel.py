"""Many sources at once: a local process pool, or Ray tasks on one machine or a cluster.

Every worker runs the same per-camera `ingest` (resumable, idempotent by source fingerprint) with its own
store connection and its own models. ONNX sessions get `max(1, cores // workers)` intra-op threads so that
the workers together use the machine's cores once, not `workers` times over.

Writes from several processes into one SQLite file are safe: WAL mode, a 30 s busy timeout, and `ingest`
commits in short `BEGIN IMMEDIATE` transactions (one every `commit_every` frames), so writers queue for
milliseconds, not seconds. A kill -9 of the whole pool leaves each source at its last checkpoint; the same
command run again resumes every one of them.

With Ray, `mode="shared"` has every task write to the one store path (a local cluster, or a cluster with a
shared file system that does proper locking, which NFS often does not). `mode="shards"` is for machines that
share nothing: each task ingests into a shard store on its own node (kept there, so a retried task resumes),
returns a snapshot of it, and the driver merges the snapshots into the main store
(`relaytrack.store.merge`), idempotent by (source fingerprint, track id).

The driver must open (and so migrate) the main store before starting workers: migrations are not meant to
race.
"""

from __future__ import annotations

import hashlib
import os
import queue as queue_mod
import tempfile
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


def _failed(job: Job, err: BaseException | str) -> IngestResult:
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


def _ingest_job(
    db_path: str | Path, job: Job, cfg: Config, report: ProgressFn | None, index: int
) -> IngestResult:
    """Open the store, ingest one source, close. Never raises: errors come back in the result."""
    from relaytrack.store import Store

    t0 = time.perf_counter()
    try:
        stages = _stages(cfg)
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
        res = _failed(job, err)
    res.timings["wall"] = time.perf_counter() - t0
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

    return _ingest_job(db_path, job, _WORKER["cfg"], report, index)


# ---- local process pool ----------------------------------------------------------------------------------------


def run_local(
    db_path: str | Path,
    jobs: list[Job],
    cfg: Config,
    workers: int,
    *,
    progress: ProgressFn | None = None,
    on_done: DoneFn | None = None,
) -> list[IngestResult]:
    """Ingest `jobs` with a pool of `workers` processes (0 = one per core); results in job order."""
    import multiprocessing as mp

    n = resolve_workers(workers, len(jobs))
    wcfg = with_threads(cfg, threads_per_worker(n))
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
                        res = _failed(
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


def _ray_task(db_path: str, job: Job, cfg_json: str, shard_dir: str | None, camera_row: dict | None):
    """One source on a Ray worker. Shared mode: into the main store path. Shard mode: into a shard kept on
    the worker's node; returns (result, snapshot bytes of the shard)."""
    cfg = Config.model_validate_json(cfg_json)
    if shard_dir is None:
        if not Path(db_path).is_file():
            # The driver created it, so this node does not see the driver's disk: writing a fresh store
            # here would scatter sightings over the nodes.
            import socket

            msg = (
                f"{job.uri}: store {db_path} is not visible on Ray node {socket.gethostname()}; use --shards"
            )
            return _failed(job, msg), None
        return _ingest_job(db_path, job, cfg, None, 0), None
    from relaytrack.store import Store

    shard = Path(shard_dir).expanduser() / shard_name(job)
    try:
        with Store(shard) as store, store.tx() as conn:
            if camera_row:  # the camera's configured start time and size live in the main store
                cols = list(camera_row)
                conn.execute(
                    f"INSERT OR IGNORE INTO cameras({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                    tuple(camera_row.values()),
                )
    except Exception as err:
        return _failed(job, err), None
    res = _ingest_job(shard, job, cfg, None, 0)
    snap = shard.with_suffix(f".snap-{os.getpid()}.db")
    try:
        with Store(shard) as store:
            store.conn.execute("VACUUM INTO ?", (str(snap),))  # a consistent copy, WAL folded in
        return res, snap.read_bytes()
    finally:
        snap.unlink(missing_ok=True)


def run_ray(
    db_path: str | Path,
    jobs: list[Job],
    cfg: Config,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_task: int = 1,
    mode: str = "shared",
    shard_dir: str | Path | None = None,
    on_done: DoneFn | None = None,
) -> list[IngestResult]:
    """Ingest `jobs` as Ray tasks (one per source) on the cluster at `address`, or on a local Ray started here
    with `num_cpus` CPUs (default: all). Each task reserves `cpus_per_task` CPUs and gives its ONNX sessions
    that many threads. Results in job order."""
    if mode not in ("shared", "shards"):
        raise RelaytrackError(f"ray mode {mode!r}: use 'shared' or 'shards'")
    if cpus_per_task < 1:
        raise RelaytrackError(f"--ray-cpus-per-task {cpus_per_task}: give 1 or more")
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
        return _run_ray(
            ray,
            Path(db_path),
            jobs,
            with_threads(cfg, cpus_per_task),
            cpus_per_task,
            mode,
            shard_dir,
            on_done,
        )
    finally:
        if started:
            ray.shutdown()


def _run_ray(ray, db_path: Path, jobs, cfg, cpus_per_task, mode, shard_dir, on_done) -> list[IngestResult]:
    from relaytrack.store import Store
    from relaytrack.store.merge import merge_shard

    # Retries rerun a task whose worker died; ingest resumes from its checkpoint, so a retry is cheap.
    task = ray.remote(num_cpus=cpus_per_task, max_retries=2)(_ray_task)
    cfg_json = cfg.model_dump_json()
    shards = mode == "shards"
    remote_dir = str(shard_dir) if shard_dir else "~/.relaytrack/shards"
    camera_rows: dict[str, dict | None] = {}
    if shards:
        with Store(db_path) as main:
            for job in jobs:
                row = main.one("SELECT * FROM cameras WHERE id=?", (job.camera,))
                camera_rows[job.camera] = dict(row) if row is not None else None
    refs = {
        task.remote(
            str(db_path), job, cfg_json, remote_dir if shards else None, camera_rows.get(job.camera)
        ): k
        for k, job in enumerate(jobs)
    }
    results: list[IngestResult | None] = [None] * len(jobs)
    pending = list(refs)
    with tempfile.TemporaryDirectory(prefix="relaytrack-shards-") as tmp:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                k = refs[ref]
                try:
                    res, snapshot = ray.get(ref)
                except Exception as err:  # the task failed past its retries (node lost, worker killed)
                    res, snapshot = (
                        _failed(jobs[k], f"{jobs[k].uri}: ray task failed ({type(err).__name__})"),
                        None,
                    )
                if snapshot is not None:
                    local = Path(tmp) / f"shard-{k}.db"
                    local.write_bytes(snapshot)
                    try:
                        with Store(db_path) as main:
                            rep = merge_shard(main, local)
                        if res.source_id is not None:
                            res.source_id = rep.source_ids.get(res.source_id, res.source_id)
                    except RelaytrackError as err:
                        res = _failed(jobs[k], f"{jobs[k].uri}: merging its shard failed: {err}")
                    finally:
                        local.unlink(missing_ok=True)
                results[k] = res
                if on_done:
                    on_done(k, res)
    return [r for r in results if r is not None]
