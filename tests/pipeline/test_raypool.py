"""Ray ingest actors: the queue's order, one actor loading its models once for many sources, and the same
sightings as the local engine."""

import pytest

from relaytrack.bench.ingest import make_clips
from relaytrack.config import load_config
from relaytrack.pipeline.ingest import Stages, ingest
from relaytrack.pipeline.parallel import Job, run_local
from relaytrack.pipeline.raypool import JobQueue
from relaytrack.store import Store

START = 1_700_000_000.0


def test_queue_takes_the_lowest_priority_first_then_in_order():
    q = JobQueue()
    for k, prio in enumerate([1, 0, 1, 0, 2]):
        q.push(k, Job(f"s{k}", f"c{k}"), prio)
    assert len(q) == 5
    assert [q.pop()[0] for _ in range(5)] == [1, 3, 0, 2, 4]
    assert not q


def _sightings(db):
    with Store(db) as s:
        return {
            tuple(r) for r in s.query("SELECT camera_id, track_id, first_frame, last_frame FROM sightings")
        }


@pytest.mark.slow
def test_one_actor_ingests_many_sources_like_the_local_engine(tmp_path, pets_dir):
    ray = pytest.importorskip("ray", reason="ray (the 'distributed' extra) is not installed")
    from relaytrack.pipeline.raypool import ActorPool

    clips = make_clips(tmp_path / "clips", 3, frames=16)
    jobs = [Job(str(c), c.stem.split("-", 1)[0], START) for c in clips]
    cfg = load_config(None, {"commit_every": 4})
    local = tmp_path / "local.db"
    Store(local).close()
    assert [r.status for r in run_local(local, jobs, cfg, 1)] == ["complete"] * 3

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        db = tmp_path / "actors.db"
        Store(db).close()
        order: list[int] = []
        with ActorPool(ray, cfg, 1) as pool:
            assert pool.ready()[0]["load_s"] > 0  # models loaded when the actor started
            res = pool.run(db, jobs, priorities=[1, 1, 0], on_done=lambda k, r: order.append(k))
            assert [r.status for r in res] == ["complete"] * 3  # in job order
            assert order == [2, 0, 1]  # the urgent job first, then first come first served
            assert pool.ready()[0]["jobs"] == 3  # one actor, its models loaded once, took all three
        assert _sightings(db) == _sightings(local) and len(_sightings(local)) > 0
    finally:
        ray.shutdown()


def test_sequential_ingest_reports_cpu_seconds(tmp_path, pets_clip):
    from relaytrack.pipeline.parallel import ingest_job

    cfg = load_config(None)
    db = tmp_path / "cpu.db"
    Store(db).close()
    res = ingest_job(db, Job(str(pets_clip), "pets", START), cfg, None, 0, stages=Stages.load(cfg))
    assert res.status == "complete" and res.timings["cpu"] > 0 and res.timings["wall"] > 0
    with Store(tmp_path / "again.db") as s:  # the same source through ingest() directly stores the same
        ingest(s, str(pets_clip), "pets", cfg, start_wall=START)
    assert _sightings(db) == _sightings(tmp_path / "again.db")
