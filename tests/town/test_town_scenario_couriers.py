"""Courier scenarios must hold courier drops on a camera with hiding-spot zones (answer key not empty).

Planning only (no rendering): the courier's visibility per frame comes from the same projection the renderer
uses for its ground truth, without occlusion by buildings; the rendered check is marked slow.
"""

import json

import numpy as np
import pytest

from relaytrack.town.generate import _visible_boxes, courier_events, zones_for
from relaytrack.town.plan import TownSpec, plan_town
from relaytrack.town.scenario import SCENARIOS, scenario

COURIER_SCENARIOS = [name for name, sc in SCENARIOS.items() if sc.spec.couriers > 0]


def _planned(spec: TownSpec):
    town = plan_town(spec)
    n = int(spec.duration * spec.fps)
    ts = np.arange(n) / spec.fps
    gt: dict[str, list[tuple]] = {c.id: [] for c in town.cameras}
    for pid in town.couriers:
        p = next(pp for pp in town.people if pp.id == pid)
        xs, ys = np.interp(ts, p.times, p.xy[:, 0]), np.interp(ts, p.times, p.xy[:, 1])
        for c in town.cameras:
            ok, _ = _visible_boxes(c, xs, ys, p.look.height, None)
            gt[c.id] += [(int(f) + 1, pid, 0, 0, 0, 0, 1, 1, 1.0) for f in np.nonzero(ok)[0]]
    zones = {c.id: zones_for(town, c, None) for c in town.cameras}
    return town, gt, zones


def _planned_events(spec: TownSpec) -> list[dict]:
    town, gt, zones = _planned(spec)
    return [e for c in courier_events(town, gt, zones, spec.fps) for e in c["events"]]


def test_a_drop_is_an_event_only_where_the_courier_is_seen_for_most_of_it():
    spec = SCENARIOS["mailbox-night"].spec
    town, gt, zones = _planned(spec)
    events = [e for c in courier_events(town, gt, zones, spec.fps) for e in c["events"]]
    e = events[0]
    f0, f1 = int(e["start"] * spec.fps) + 1, int(e["end"] * spec.fps) + 1
    # Seen in only the first few frames of the stop (stooping just outside the image): no event there.
    glimpse = [r for r in gt[e["camera"]] if not (f0 + 5 <= r[0] <= f1)]
    cut = dict(gt, **{e["camera"]: glimpse})
    after = [x for c in courier_events(town, cut, zones, spec.fps) for x in c["events"]]
    assert not any(x["camera"] == e["camera"] and x["zone"] == e["zone"] for x in after)
    # Seen but barely visible (occluded) in the same frames: no event either.
    faint = [r[:8] + (0.1,) if f0 <= r[0] <= f1 else r for r in gt[e["camera"]]]
    after = [x for c in courier_events(town, dict(gt, **{e["camera"]: faint}), zones, spec.fps)
             for x in c["events"]]  # fmt: skip
    assert not any(x["camera"] == e["camera"] and x["zone"] == e["zone"] for x in after)


def test_courier_scenarios_exist():
    assert {"mailbox-night", "courier-stops"} <= set(COURIER_SCENARIOS)


@pytest.mark.parametrize("name", COURIER_SCENARIOS)
def test_scenario_plan_has_courier_drops_on_a_zone_camera(name):
    spec = SCENARIOS[name].spec
    town = plan_town(spec)
    assert any(c.role == "courier" for c in town.cameras), "no camera kept for the courier"
    assert len(town.cameras) == spec.cameras
    events = _planned_events(spec)
    assert events, f"{name}: no courier event in view"
    for e in events:
        assert e["kind"] == "drop" and e["end"] > e["start"]
    if spec.courier_spot is not None:
        assert events[0]["spot_kind"] == spec.courier_spot


@pytest.mark.parametrize("cameras", [2, 3, 4])
def test_small_towns_keep_a_courier_camera(cameras):
    town = plan_town(TownSpec(seed=7, cameras=cameras, minutes=1.0))
    roles = [c.role for c in town.cameras]
    assert "courier" in roles and "route" in roles


def test_towns_without_couriers_spend_all_small_cameras_on_the_route():
    town = plan_town(TownSpec(seed=7, cameras=3, minutes=1.0, couriers=0))
    assert all(c.role == "route" for c in town.cameras)


@pytest.mark.slow
def test_rendered_mailbox_night_answer_key(tmp_path):
    out = scenario("mailbox-night", tmp_path / "s")
    answer = json.loads((out / "answer.json").read_text(encoding="utf-8"))
    assert answer["answer"], "answer key without courier events"
    assert answer["answer"][0]["spot_kind"] == "mailbox"
