"""bench watch's protocol: tuning towns come from seeds.TUNING through the guarded renderer, held-out towns
from seeds.HELD_OUT, and a held-out seed never reaches the tuning renderer."""

import pytest

from relaytrack.bench import seeds
from relaytrack.bench import watch as bw


def test_tuning_towns_are_the_written_tuning_seeds():
    assert tuple(s for s, _ in bw.TOWN_SEEDS) == seeds.TUNING["watch"]


def test_render_for_tuning_refuses_held_out_before_rendering(tmp_path, monkeypatch):
    import relaytrack.town as town

    monkeypatch.setattr(town, "generate", lambda *a, **k: pytest.fail("rendered a held-out town to tune"))
    for s in seeds.HELD_OUT["watch"] + seeds.HELD_OUT["detect"]:
        with pytest.raises(seeds.HeldOutSeedError):
            seeds.render_for_tuning("watch", s, tmp_path / str(s))


def test_held_out_towns_render_held_out_seeds(tmp_path, monkeypatch):
    import relaytrack.town as town

    got = []
    monkeypatch.setattr(town, "generate", lambda seed, **k: got.append(seed) or k["out_dir"])
    monkeypatch.setattr(bw, "render_for_tuning", lambda *a, **k: pytest.fail("tuning renderer used"))
    bw.held_out_towns(tmp_path, 5, echo=lambda *_: None)
    assert tuple(got) == seeds.HELD_OUT["watch"]


def test_tuning_towns_go_through_the_guard(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(bw, "render_for_tuning", lambda purpose, seed, d, **k: calls.append((purpose, seed)) or d)
    bw._town_dirs(tmp_path, [], 3, echo=lambda *_: None)
    assert calls == [("watch", s) for s in seeds.TUNING["watch"]]


def test_intervals_added_to_event_figures():
    ev = bw.with_intervals({"events": 10, "matched": 9, "found_zone": 8})
    assert ev["recall_zone_ci"]["k"] == 8 and ev["recall_zone_ci"]["n"] == 10
    assert ev["recall_zone_ci"]["low"] == pytest.approx(0.4902, abs=1e-4)
    assert ev["recall_ci"]["k"] == 9
