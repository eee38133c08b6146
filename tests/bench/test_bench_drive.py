"""The suspect-drives bench's scoring pieces: vehicle sightings named from the truth's boxes, and the truth
route that goes on as the car from the boarding."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaytrack.bench.drive import ride_truth, run, vehicle_identities
from relaytrack.errors import InputError
from relaytrack.records import Sighting
from relaytrack.store import Store
from relaytrack.store.sightings import ensure_camera, insert_sighting

T0 = 1_795_000_000.0


def _vehicle(store: Store, frames: range, x: float) -> int:
    s = Sighting(
        id=0, camera="C01", source_id=None, track_id=frames.start, kind="vehicle", class_name="car",
        start=frames.start / 10, end=frames.stop / 10, first_frame=frames.start, last_frame=frames.stop - 1,
        wall_start=T0 + frames.start / 10, wall_end=T0 + frames.stop / 10, box=(x, 100.0, 80.0, 40.0),
    )  # fmt: skip
    boxes = [(f, f / 10, x + 2.0, 101.0, 80.0, 40.0, 0.9) for f in frames]
    with store.tx() as conn:
        ensure_camera(conn, "C01")
        return insert_sighting(conn, s, boxes=boxes)


def test_vehicle_sightings_are_named_by_their_truth_boxes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    a = _vehicle(store, range(1, 21), 10.0)
    b = _vehicle(store, range(30, 50), 300.0)
    c = _vehicle(store, range(60, 70), 500.0)  # no truth box there: nobody
    truth = {
        "V1": [[f, 10.0, 100.0, 80.0, 40.0, 1.0] for f in range(1, 21)],
        "V2": [[f, 300.0, 100.0, 80.0, 40.0, 1.0] for f in range(30, 40)]  # half the sighting's frames
        + [[f, 100.0, 300.0, 80.0, 40.0, 1.0] for f in range(40, 50)],
    }
    got = vehicle_identities(store.conn, "C01", truth)
    assert got == {a: "V1", b: "V2", c: None}
    store.close()


def test_ride_truth_continues_as_the_car_from_the_boarding() -> None:
    truth = {
        "suspect": {"id": 1, "route": [{"camera": "C01", "start": 1.0, "end": 10.0}]},
        "vehicles": {
            "V9": {"boarding": [], "route": {"visits": [{"camera": "C03", "start": 0.0, "end": 30.0}]}},
            "V7": {
                "boarding": [{"person": 1, "time": 12.0}],
                "route": {
                    "visits": [
                        {"camera": "C01", "start": 0.0, "end": 14.0},
                        {"camera": "C02", "start": 15.0, "end": 17.0},
                        {"camera": "C04", "start": 2.0, "end": 5.0},  # passed before the suspect got in
                    ]
                },
            },
        },
    }
    car, at, visits = ride_truth(truth)
    assert (car, at) == ("V7", 12.0)
    assert [(v["camera"], v["start"], v["kind"]) for v in visits] == [
        ("C01", 1.0, "person"),
        ("C01", 12.0, "vehicle"),
        ("C02", 15.0, "vehicle"),
    ]


def test_held_out_seeds_are_scored_unless_tuning_is_asked(tmp_path: Path) -> None:
    from relaytrack.seeds import HELD_OUT, TUNING, check_tuning

    assert not set(HELD_OUT["drive"]) & set(TUNING["drive"])
    with pytest.raises(InputError):
        check_tuning("drive", HELD_OUT["drive"][0])
    assert run(0, tmp_path, print)["seeds"] == []
