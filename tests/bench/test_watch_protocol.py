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


def test_held_out_drop_towns_have_innocent_people_at_their_spots(tmp_path, monkeypatch):
    import relaytrack.town as town

    got = []
    monkeypatch.setattr(town, "generate", lambda seed, **k: got.append((seed, k["confusers"], k["out_dir"].name)))
    bw.held_out_towns(tmp_path, 2, echo=lambda *_: None)
    assert [c for _, c, _ in got] == [bw.DROP_TOWN_CONFUSERS] * 2 and bw.DROP_TOWN_CONFUSERS > 0
    got.clear()
    bw.held_out_towns(tmp_path, 1, echo=lambda *_: None, confusers=0)
    seed = seeds.HELD_OUT["watch"][0]
    assert got == [(seed, 0, f"held-s{seed}-{seeds.lighting_of(seed)}")]  # the earlier protocol's towns


def test_alerts_at_no_drop_are_attributed_to_the_confuser_there():
    truth = {
        "couriers": [{"id": 1, "events": [{"camera": "C1", "zone": "Z1", "start": 10.0, "end": 30.0}]}],
        "confusers": [{"id": 5, "kind": "postman", "visits": [{"camera": "C2", "zone": "Z4", "start": 50.0,
                                                                "end": 55.0}]}],
    }  # fmt: skip
    alerts = [
        {"camera": "C1", "start": 20.0, "end": 31.0},  # the drop
        {"camera": "C2", "start": 54.0, "end": 60.0},  # the postman's visit
        {"camera": "C2", "start": 200.0, "end": 210.0},  # nobody known there
    ]
    assert bw._false_alarms_by_kind(alerts, truth) == {"postman": 1, "other": 1}


def test_the_false_alarms_by_kind_are_those_precision_counts():
    from relaytrack.watch.evaluate import evaluate_events

    truth = {
        "couriers": [{"id": 1, "events": [{"camera": "C1", "zone": "Z1", "start": 10.0, "end": 30.0}]}],
        "confusers": [{"id": 5, "kind": "smoker", "visits": [{"camera": "C1", "zone": "Z2", "start": 25.0,
                                                               "end": 40.0}]}],
    }  # fmt: skip
    # Two alerts on the one drop (the second at the smoker standing by during it), one at nobody.
    alerts = [
        {"camera": "C1", "start": 12.0, "end": 28.0},
        {"camera": "C1", "start": 27.0, "end": 38.0},
        {"camera": "C1", "start": 300.0, "end": 310.0},
    ]
    ev = evaluate_events(alerts, truth)
    false_alarms = ev["alerts"] - round(ev["precision"] * ev["alerts"])
    by_kind = bw._false_alarms_by_kind(alerts, truth)
    assert sum(by_kind.values()) == false_alarms == 2
    assert by_kind == {"smoker": 1, "other": 1}
