"""Many sources at once: a process pool and Ray give the same sightings as one-after-another, bad sources
fail alone, concurrent writers never see 'database is locked', and a killed pool leaves every source
resumable."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time

import pytest

from relaytrack.bench.ingest import make_clips
from relaytrack.config import load_config
from relaytrack.errors import RelaytrackError
from relaytrack.pipeline.ingest import Stages, default_camera_id, ingest
from relaytrack.pipeline.parallel import Job, import_ray, resolve_workers, run_local, run_ray, with_threads
from relaytrack.source.open import parse_time
from relaytrack.store import Store

pytestmark = pytest.mark.slow

START = 1_700_000_000.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory, pets_dir):
    """Two short real clips (different sequences) and a corrupt one."""
    folder = tmp_path_factory.mktemp("par-clips")
    good = make_clips(folder, 2, frames=24)
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(good[0].read_bytes()[:2500])
    return [good[0], corrupt, good[1]]


def _jobs(clips):
    return [Job(str(c), c.stem.split("-", 1)[0], START) for c in clips]


def _cfg():
    return load_config(None, {"commit_every": 4})


def _sighting_set(db):
    with Store(db) as s:
        return {
            tuple(r) for r in s.query("SELECT camera_id, track_id, first_frame, last_frame FROM sightings")
        }


@pytest.fixture(scope="module")
def stages():
    return Stages.load(_cfg())


@pytest.fixture(scope="module")
def sequential(tmp_path_factory, clips, stages):
    db = tmp_path_factory.mktemp("par-seq") / "seq.db"
    cfg = _cfg()
    with Store(db) as store:
        results = [ingest(store, j.uri, j.camera, cfg, stages, start_wall=j.start_wall) for j in _jobs(clips)]
    assert [r.status for r in results] == ["complete", "failed", "complete"]
    return _sighting_set(db)


def test_pool_gives_the_same_sightings_as_sequential(tmp_path, clips, sequential):
    db = tmp_path / "pool.db"
    Store(db).close()
    seen = []
    results = run_local(db, _jobs(clips), _cfg(), 2, on_done=lambda k, r: seen.append(k))
    assert sorted(seen) == [0, 1, 2]
    assert [r.status for r in results] == ["complete", "failed", "complete"]  # in source order
    assert "corrupt.mp4" in results[1].error
    assert all(r.frames == 24 for r in (results[0], results[2]))
    assert len(sequential) > 3 and _sighting_set(db) == sequential
    with Store(db) as s:
        assert s.one("SELECT count(*) FROM sources WHERE status='complete'")[0] == 2
        n = s.one("SELECT count(*) FROM sightings WHERE embedding IS NOT NULL")[0]
        assert s.one("SELECT count(*) FROM vec_sightings")[0] == n > 0
    # Re-running the pool adds nothing (idempotent by fingerprint).
    again = run_local(db, _jobs(clips), _cfg(), 2)
    assert [r.status for r in again] == ["skipped", "failed", "skipped"]
    assert _sighting_set(db) == sequential


def test_cli_workers_keeps_the_json_contract(tmp_path, clips, sequential):
    db = tmp_path / "cli.db"
    cmd = [sys.executable, "-m", "relaytrack.cli", "ingest", *map(str, clips), "--db", str(db), "--json",
           "--start", "2023-11-14T22:13:20+00:00", "--workers", "0"]  # fmt: skip
    for job in _jobs(clips):
        cmd += ["--camera", job.camera]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 1, out.stderr  # the corrupt clip failed, the others did not
    rows = json.loads(out.stdout)
    assert [r["status"] for r in rows] == ["complete", "failed", "complete"]
    assert all(
        set(r) == {"uri", "camera", "status", "sightings", "frames", "resumed_from", "error", "bad_frames"}
        for r in rows
    )
    assert _sighting_set(db) == sequential
    with Store(db) as s:  # one audit entry per source, written by the driver
        assert s.one("SELECT count(*) FROM audit_log WHERE action='ingest'")[0] == 3


def test_worker_threads_split_the_cores():
    assert resolve_workers(0, 100) == (len(os.sched_getaffinity(0)))
    assert resolve_workers(8, 3) == 3
    with pytest.raises(RelaytrackError, match="--workers -1"):
        resolve_workers(-1, 3)
    cfg = with_threads(load_config(None), 3)
    assert cfg.detect.threads == 3 and cfg.describe.threads == 3


def _hammer(db: str, who: int, n: int) -> None:
    with Store(db) as s:
        for i in range(n):
            with s.tx() as conn:
                conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (f"w{who}-{i}", "x" * 2000))


def test_concurrent_writers_never_see_a_locked_database(tmp_path):
    db = tmp_path / "busy.db"
    Store(db).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(str(db), w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]  # a 'database is locked' would have raised
    with Store(db) as s:
        assert s.one("SELECT count(*) FROM meta WHERE key LIKE 'w%'")[0] == 600


def test_killed_pool_leaves_every_source_resumable(tmp_path, clips, stages):
    long_clips = make_clips(tmp_path / "long", 2, frames=40)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("commit_every: 3\n")
    start = "2026-11-25T14:00:00+09:00"
    base = [sys.executable, "-m", "relaytrack.cli", "ingest", *map(str, long_clips), "--config", str(cfg),
            "--start", start, "--workers", "2"]  # fmt: skip
    clean, db = tmp_path / "clean.db", tmp_path / "killed.db"
    with Store(clean) as store:  # the same sources, one after another, never interrupted
        for c in long_clips:
            ingest(store, str(c), default_camera_id(str(c)), _cfg(), stages, start_wall=parse_time(start))
    expected = _sighting_set(clean)

    proc = subprocess.Popen([*base, "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            with Store(db) as s:
                ck = [r[0] for r in s.query("SELECT checkpoint_frame FROM sources WHERE status='running'")]
        except Exception:
            continue
        if len(ck) == 2 and min(ck) >= 6:  # both workers have committed something
            break
    if proc.poll() is not None:
        pytest.skip("the pool finished before it could be killed (machine too fast for these clips)")
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and every worker at once
    proc.wait()
    with Store(db) as s:
        assert [r[0] for r in s.query("SELECT status FROM sources")] == ["running", "running"]
        partial = _sighting_set(db)
    assert partial <= expected
    done = subprocess.run([*base, "--db", str(db), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert all(r["status"] == "complete" and r["resumed_from"] >= 6 for r in rows)
    assert _sighting_set(db) == expected


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RelaytrackError, match=r"relaytrack\[distributed\]"):
        import_ray()


def test_ray_engine_shared_store_and_shards(tmp_path, clips, sequential):
    ray = pytest.importorskip("ray", reason="ray (the 'distributed' extra) is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        shared, sharded = tmp_path / "ray.db", tmp_path / "ray-shards.db"
        Store(shared).close()
        res = run_ray(shared, _jobs(clips), _cfg())
        assert [r.status for r in res] == ["complete", "failed", "complete"]
        assert _sighting_set(shared) == sequential

        with Store(sharded) as s, s.tx() as conn:  # a camera configured in the main store beforehand
            conn.execute("INSERT INTO cameras(id, name) VALUES ('clip01', 'North gate')")
        res = run_ray(sharded, _jobs(clips), _cfg(), mode="shards", shard_dir=tmp_path / "node-shards")
        assert [r.status for r in res] == ["complete", "failed", "complete"]
        assert _sighting_set(sharded) == sequential
        with Store(sharded) as s:
            ids = {r[0] for r in s.query("SELECT id FROM sources")}
            assert {r.source_id for r in res if r.status == "complete"} <= ids  # ids of the main store
            assert s.one("SELECT name FROM cameras WHERE id='clip01'")[0] == "North gate"
        assert len(list((tmp_path / "node-shards").glob("*.db"))) == 3  # kept on the node for retries
        # Again: the shards are complete on the node, the merge adds nothing.
        res = run_ray(sharded, _jobs(clips), _cfg(), mode="shards", shard_dir=tmp_path / "node-shards")
        assert [r.status for r in res] == ["skipped", "failed", "skipped"]
        assert _sighting_set(sharded) == sequential
    finally:
        ray.shutdown()
