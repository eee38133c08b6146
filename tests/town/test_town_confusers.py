"""Innocent look-alikes at hiding spots (town/confusers.py): planned from their own generator, every kind with
its own posture, and listed in truth.json with their spot visits."""

import hashlib

import numpy as np

from relaytrack.town import generate, load_truth
from relaytrack.town.confusers import KINDS
from relaytrack.town.plan import TownSpec, plan_town


def _signature(town) -> str:
    h = hashlib.sha256()
    for p in town.people:
        h.update(np.round(p.xy, 3).tobytes())
        h.update(np.round(p.times, 3).tobytes())
    for c in town.cameras:
        h.update(repr((round(c.cam.x, 3), round(c.cam.y, 3), round(c.cam.heading_deg, 3))).encode())
    return h.hexdigest()[:16]


def test_without_confusers_the_town_is_the_town_it_was():
    # The signature of seed 4 (3 cameras, 0.5 min) taken from the code before confusers existed.
    base = plan_town(TownSpec(seed=4, cameras=3, minutes=0.5))
    assert (len(base.people), _signature(base)) == (25, "9201a6956236cd22")
    assert "confusers" not in TownSpec(seed=4).key() and TownSpec(seed=4, confusers=2).key()["confusers"] == 2
    more = plan_town(TownSpec(seed=4, cameras=3, minutes=0.5, confusers=6))
    extra = [p for p in more.people if p.id in more.confusers]
    assert len(extra) == 6 and all(p.role == "confuser" for p in extra)
    # Confusers come with a camera on a row of façade spots, so they are on camera.
    assert [c.role for c in more.cameras].count("spots") == 1


def test_every_kind_with_its_own_posture_and_timing():
    town = plan_town(TownSpec(seed=4, cameras=3, minutes=1.0, confusers=6))
    by_kind = {k: next(p for p in town.people if p.id == pid) for pid, k in town.confusers.items()}
    assert set(by_kind) == set(KINDS)
    poses = {k: {a[2] for a in p.actions} for k, p in by_kind.items()}
    assert poses["photographer"] == {"stand", "phone"}  # a photo, no hand at the spot
    assert "crouch" in poses["crouch"] and "crouch" in poses["delivery"]
    assert len(by_kind["postman"].stops) >= 3  # a round of spots in a row
    stays = [s["end"] - s["start"] for s in by_kind["postman"].stops]
    assert max(stays) <= 6.5
    assert by_kind["smoker"].stops[0]["end"] - by_kind["smoker"].stops[0]["start"] >= 12.0
    # The resident ends the walk at a door, a few metres from the mailbox, not on down the street.
    res = by_kind["resident"]
    stand = np.array(res.xy[-2])
    assert np.hypot(*(res.xy[-1] - stand)) < 6.0 and res.times[-1] - res.stops[0]["end"] < 8.0


def test_truth_lists_confusers_with_their_spot_visits(tmp_path):
    out = generate(seed=4, cameras=3, minutes=0.35, out_dir=tmp_path / "t", confusers=6, couriers=0)
    t = load_truth(out)
    assert t["couriers"] == [] and t["spec"]["confusers"] == 6 and t["spec"]["couriers"] == 0
    assert [c["kind"] for c in t["confusers"]] and all(
        set(c) == {"id", "kind", "visits"} for c in t["confusers"]
    )
    visits = [v for c in t["confusers"] for v in c["visits"]]
    assert visits, "confusers are placed where a camera sees them"
    cams = {c["id"] for c in __import__("yaml").safe_load((out / "cameras.yaml").read_text())["cameras"]}
    for v in visits:
        assert {"camera", "zone", "start", "end"} <= set(v) and v["camera"] in cams and v["start"] < v["end"]
        assert str(v["zone"]).startswith("Z")
