"""`relaytrack bench pursuit --json F`: the figures' keys (a stubbed town run: fast) and a tiny real run (slow)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from relaytrack.bench import pursuit
from relaytrack.bench.pursuit_score import Handoff, Prediction, Visit, score_run
from relaytrack.cli import app

KEYS = {
    "next_top1", "next_top3", "handoff_latency_s", "routes_followed", "frames_per_s", "baseline_frames_per_s",
    "effort_vs_baseline", "handoff_recall", "towns", "protocol", "targets", "load_average", "transitions",
    "handoff_latency_split_s",
}  # fmt: skip


def _fake_town(seed: int, o, work, say) -> pursuit.TownResult:
    v = [Visit("B", 100.0, 110.0)]
    hit = [Handoff(101.0, "B", 5, 100.5, "auto", True, 101.5)]
    live = pursuit.RunResult(
        "pursuit", None, 60, 30.0, score_run(v, [Prediction(99.0, ("B",), 1)], hit, {1}), 31.0
    )
    base = pursuit.RunResult("baseline 1/camera", 1.0, 240, 30.0, score_run(v, [], hit, set()), 5.0)
    return pursuit.TownResult(seed, f"town-{seed}", 8, 1, v, live, [base])


def test_json_keys_and_held_out_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(pursuit, "run_town", _fake_town)
    out = tmp_path / "p.json"
    r = CliRunner().invoke(
        app, ["bench", "pursuit", "--towns", "2", "--work", str(tmp_path / "w"), "--json", str(out)]
    )
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text(encoding="utf-8"))
    assert KEYS <= set(res)
    assert set(res["handoff_latency_s"]) == {"p50", "p95", "n"}
    assert [t["seed"] for t in res["towns"]] == list(pursuit.held_out("pursuit", 2))
    assert res["next_top1"] == 1.0 and res["handoff_latency_s"]["p50"] == 1.5
    split = res["handoff_latency_split_s"]
    assert split["track_begins"]["p50"] == 0.5 and split["decided_after_track"]["p50"] == 1.0
    assert res["towns"][0]["pursuit"]["latency_splits_s"] == [[0.5, 1.0]]
    assert "track begins after visible" in r.output
    assert (
        res["frames_per_s"] == 2.0
        and res["baseline_frames_per_s"] == 8.0
        and res["effort_vs_baseline"] == 0.25
    )
    assert "bench pursuit: pooled" in r.output


def test_tuning_refuses_nothing_held_out(tmp_path, monkeypatch):
    monkeypatch.setattr(pursuit, "run_town", _fake_town)
    res = pursuit.run_bench(pursuit.BenchOptions(towns=3, tuning=True), tmp_path)
    assert [t["seed"] for t in res["towns"]] == list(pursuit.TUNING["pursuit"][:3])
    assert "TUNING" in res["protocol"][0]


@pytest.mark.slow
def test_tiny_real_run(tmp_path):
    """A 4-camera, 30-second held-out town rendered, ingested and pursued live (a few minutes on 2 cores)."""
    out = tmp_path / "p.json"
    args = ["bench", "pursuit", "--towns", "1", "--cameras", "4", "--minutes", "0.5", "--no-baseline",
            "--work", str(tmp_path / "w"), "--json", str(out)]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text(encoding="utf-8"))
    assert KEYS <= set(res)
    town = res["towns"][0]
    assert town["seed"] == pursuit.held_out("pursuit", 1)[0]
    if town["pursuit"] is not None:
        # Played live: about as many wall seconds as footage seconds, never much fewer.
        assert town["pursuit"]["wall_s"] >= 0.9 * town["pursuit"]["footage_s"]
