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


def _planned_events(spec: TownSpec) -> list[dict]:
    town = plan_town(spec)
    n = int(spec.duration * spec.fps)
    ts = np.arange(n) / spec.fps
    gt: dict[str, list[tuple]] = {c.id: [] for c in town.cameras}
    for pid in town.couriers:
        p = next(pp for pp in town.people if pp.id == pid)
        xs, ys = np.interp(ts, p.times, p.xy[:, 0]), np.interp(ts, p.times, p.xy[:, 1])
        for c in town.cameras:
            ok, _ = _visible_boxes(c, xs, ys, p.look.height, None)
            gt[c.id] += [(int(f) + 1, pid) for f in np.nonzero(ok)[0]]
    zones = {c.id: zones_for(town, c, None) for c in town.cameras}
    return [e for c in courier_events(town, gt, zones, spec.fps) for e in c["events"]]


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
