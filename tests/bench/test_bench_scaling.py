"""bench scaling: worker counts parsed strictly; a tiny run on Ray actors gives one row per count with
efficiency = speed-up / workers and writes the costs `plan capacity` then reads."""

import json

import pytest

from relaytrack.bench.scaling import parse_workers
from relaytrack.errors import RelaytrackError


def test_worker_counts():
    assert parse_workers("2,1, 4") == [1, 2, 4]
    for bad in ("", "0,1", "a", "1,-2"):
        with pytest.raises(RelaytrackError, match="--workers"):
            parse_workers(bad)


@pytest.mark.slow
def test_tiny_scaling_run_writes_the_costs_plan_capacity_reads(tmp_path, monkeypatch, pets_dir):
    pytest.importorskip("ray", reason="ray (the 'distributed' extra) is not installed")
    from relaytrack.bench.scaling import bench_scaling
    from relaytrack.config import load_config
    from relaytrack.pipeline.capacity import CapacityRequest, costs_path, load_costs, plan_capacity

    monkeypatch.setenv("RELAYTRACK_HOME", str(tmp_path / "home"))
    res = bench_scaling(load_config(None), workers=[1, 2], sources=2, frames=8)
    figures = res.as_dict()
    rows = figures["rows"]
    assert [r["workers"] for r in rows] == [1, 2] and all(r["failed"] == 0 for r in rows)
    assert rows[0]["frames"] == rows[1]["frames"] == 16
    assert rows[0]["speedup"] == 1.0
    assert rows[1]["efficiency"] == pytest.approx(rows[1]["speedup"] / 2, abs=0.002)
    assert json.loads(costs_path().read_text())["provenance"]["workers"] == 2
    costs, origin = load_costs()
    assert str(costs_path()) in origin and costs.detect_s > 0 and costs.bytes_per_sighting > 0
    assert set(costs.gated_share) == {1.0, 2.0, 5.0}
    assert plan_capacity(CapacityRequest(cameras=100), costs, origin).cpu_cores >= 1
