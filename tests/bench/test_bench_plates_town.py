"""bench plates, rendered part: which plate crops are read, the scoring by plate height, and a small run."""

import pytest

from relaytrack.bench import plates_town as pt
from relaytrack.seeds import HELD_OUT, TUNING


def _truth(rows):
    return {"vehicles": {"V001": {"plate": "12가3456", "plate_style": "white", "plates": {"C01": rows}}}}


def test_cases_keep_fully_visible_plates_inside_the_frame():
    rows = [
        [1, "front", 10, 10, 40, 12, 9.0, 1.0, 38.0],  # read
        [2, "front", 10, 10, 40, 12, 9.0, 0.5, 38.0],  # half hidden
        [3, "front", 0, 10, 40, 12, 9.0, 1.0, 38.0],  # touches the left edge
        [4, "rear", 600, 10, 40, 12, 9.0, 1.0, 38.0],  # runs out on the right
        [5, "rear", 10, 10, 20, 5, 4.0, 1.0, 18.0],  # too small to read
        [6, "rear", 100, 200, 120, 40, 24.0, 0.97, 110.0],  # read
        [7, "rear", 100, 200, 20, 40, 24.0, 1.0, 18.0],  # seen nearly edge-on
    ]
    cases = pt._cases(_truth(rows), {"C01": (640, 360)})
    assert [c["frame"] for c in cases] == [1, 6]
    assert cases[1]["plate"] == "12가3456" and cases[1]["box"] == [100, 200, 120, 40]
    # Each camera's own size bounds it: a traffic camera three times the town's keeps the plate at x=600.
    assert [c["frame"] for c in pt._cases(_truth(rows), {"C01": (1920, 1080)})] == [1, 4, 6]


def test_scoring_by_height():
    assert [pt._bin(h) for h in (3, 9.9, 10, 19.9, 20, 80)] == [
        "<10",
        "<10",
        "10-20",
        "10-20",
        ">=20",
        ">=20",
    ]
    assert pt._within_one("12가3457", "12가3456") and not pt._within_one("12가3477", "12가3456")
    assert not pt._within_one("112가3456", "12가3456")
    cases = [{"read": "12가3456", "plate": "12가3456"}, {"read": "12가3457", "plate": "12가3456"}]
    assert pt._score(cases) == {"reads": 2, "exact": 0.5, "within_one": 1.0}
    assert pt._score([])["exact"] is None


def test_plate_town_seeds_are_registered():
    assert set(TUNING["plates-town"]).isdisjoint(HELD_OUT["plates-town"])


@pytest.mark.slow
def test_small_rendered_run(tmp_path, monkeypatch):
    monkeypatch.setattr(pt, "TOWN", {**pt.TOWN, "minutes": 0.15, "vehicles": 12, "plate_cameras": 3})
    res = pt.run_rendered(tmp_path, towns=1, tuning=True)
    assert res["tuning"] and res["seeds"] == [TUNING["plates-town"][0]]
    assert set(res["by_height"]) == {"<10", "10-20", ">=20"}
    assert res["reads"] == sum(b["reads"] for b in res["by_height"].values())
    assert {"n", "read_share", "exact"} <= set(res["tracklets"]) and "met" in res["target"]
    lines = []
    pt.print_rendered(res, lines.append)
    assert any("target exact >= 0.90" in m for m in lines)
