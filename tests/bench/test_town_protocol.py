"""bench town's protocol: held-out detect seeds by default, the split-pass check (--tune) on tuning seeds only,
pooled recall from counts, and the watch's replay tool refusing a held-out town."""

import json

import pytest

from relaytrack.bench import seeds
from relaytrack.bench import town as bt


def test_default_runs_are_the_held_out_seeds():
    runs = bt.plan_runs(None, None, tune=False)
    assert tuple(r.seed for r in runs) == seeds.HELD_OUT["detect"] and len(runs) >= 5
    assert {r.split for r in runs} == {"held_out"}
    assert {r.lighting for r in runs} == {"day", "dusk", "night"}


def test_tuning_check_refuses_held_out_seed():
    assert tuple(r.seed for r in bt.plan_runs(None, ["day"], tune=True)) == seeds.TUNING["detect"]
    for s in seeds.HELD_OUT["detect"]:
        with pytest.raises(seeds.HeldOutSeedError):
            bt.plan_runs([s], None, tune=True)


def _row(gt, hits, recall):
    return {"gt_boxes": gt, "hits": hits, "hits_low": hits, "visible_gt": gt, "visible_hits": hits,
            "det_boxes": hits, "det_tp": hits, "recall": recall,
            "by_height": {"32-64px": {"gt": gt, "hits": hits, "recall": recall}}}  # fmt: skip


def test_pool_counts_boxes_not_town_means():
    p = bt.pool([_row(10, 5, 0.5), _row(90, 90, 1.0)])
    assert p["recall"] == 0.95 and p["recall_ci"]["n"] == 100
    assert p["by_height"]["32-64px"] == {"gt": 100, "hits": 95, "recall": 0.95}
    assert (p["recall_town_min"], p["recall_town_max"]) == (0.5, 1.0)


def _fake_town(tmp_path, seed):
    d = tmp_path / f"town{seed}"
    (d / "videos").mkdir(parents=True)
    (d / "town.json").write_text(json.dumps({"spec": {"seed": seed}}))
    return d


def test_replay_tool_refuses_held_out_town(tmp_path):
    from relaytrack.watch.replay import record_source, record_town
    from relaytrack.watch.service import CameraSpec

    held = seeds.HELD_OUT["watch"][0]
    d = _fake_town(tmp_path, held)
    with pytest.raises(seeds.HeldOutSeedError, match=str(held)):
        record_town(d)
    with pytest.raises(seeds.HeldOutSeedError):
        record_source(CameraSpec(str(d / "videos" / "C01.mp4"), "C01", [], None))
    assert seeds.town_seed(d / "videos" / "C01.mp4") == held
    assert seeds.town_seed(tmp_path) is None
