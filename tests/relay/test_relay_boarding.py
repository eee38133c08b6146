"""The relay follows the person into a vehicle and out of it (relay.boarding): a person vanishing beside a
standing car that then drives off is a hand-off; a car that is passing, or one that stays put, is not."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from relay_factory import DIM, T0, noisy, unit

from relaytrack.records import Sighting
from relaytrack.relay import RelayConfig, import_network, relay
from relaytrack.relay.boarding import Track, alight, board, reach
from relaytrack.store import Store
from relaytrack.store.sightings import insert_sighting

LAT, LON = 37.5563, 126.9220
NETWORK = "cameras:\n" + "".join(
    f"  - {{id: {c}, lat: {LAT}, lon: {LON + i * 100 / (111_195 * math.cos(math.radians(LAT))):.7f},"
    f" heading_deg: 0, owner: 자치구, purpose: 방범}}\n"
    for i, c in enumerate("ABCD")
)
FPS = 5.0


def _store(
    store: Store,
    cam: str,
    kind: str,
    path: list[tuple[float, float, float, float, float]],
    emb: np.ndarray,
    *,
    track: int,
    entry: str,
    exit_: str,
    **attrs,
) -> int:
    """A sighting whose boxes follow `path` [(t, x, y, w, h)], interpolated at FPS."""
    knots = np.asarray(path, np.float64)
    ts = np.arange(knots[0, 0], knots[-1, 0] + 1e-9, 1.0 / FPS)
    cols = [np.interp(ts, knots[:, 0], knots[:, k]) for k in range(1, 5)]
    boxes = [(int(round(t * FPS)), float(t), *(float(c[i]) for c in cols), 0.9) for i, t in enumerate(ts)]
    s = Sighting(
        id=0, camera=cam, source_id=None, track_id=track, kind=kind,
        class_name="person" if kind == "person" else "car",
        start=float(ts[0]), end=float(ts[-1]), first_frame=boxes[0][0], last_frame=boxes[-1][0],
        wall_start=T0 + float(ts[0]), wall_end=T0 + float(ts[-1]), box=tuple(boxes[len(boxes) // 2][2:6]),
        entry_edge=entry, exit_edge=exit_, embedding=emb, **attrs,
    )  # fmt: skip
    with store.tx() as conn:
        return insert_sighting(conn, s, boxes=boxes)


class Street:
    """Cameras A-D 100 m apart; a suspect walks on A to a parked grey car, which drives to B, where they get
    out and walk on to C."""

    def __init__(self, db: str, folder: Path) -> None:
        self.store = Store(db)
        net = folder / "net.yaml"
        net.write_text(NETWORK, encoding="utf-8")
        import_network(self.store, net, modes=("walk", "drive"), radius_m={"walk": 150.0, "drive": 150.0})
        self.rng = np.random.default_rng(5)
        self.n = 0
        for k in range(40):  # background people and cars for the appearance z-scores
            self.person(
                "ABCD"[k % 4], 3000 + 9 * k, unit(self.rng.normal(size=DIM)), upper="gray", lower="gray"
            )
            self.car("ABCD"[k % 4], 3000 + 9 * k, unit(self.rng.normal(size=DIM)), color="white", plate=None)

    def person(self, cam, t, emb, *, upper="red", lower="black", path=None, entry="left", exit_="right"):
        self.n += 1
        path = path or [(t, 20, 100, 30, 90), (t + 8, 600, 100, 30, 90)]
        return _store(
            self.store, cam, "person", path, emb, track=self.n, entry=entry, exit_=exit_,
            upper_color=upper, upper_conf=0.9, lower_color=lower, lower_conf=0.8,
        )  # fmt: skip

    def car(self, cam, t, emb, *, color="gray", plate="12가3456", path=None, entry="left", exit_="right"):
        self.n += 1
        path = path or [(t, 0, 150, 160, 70), (t + 6, 560, 150, 160, 70)]
        return _store(
            self.store, cam, "vehicle", path, emb, track=self.n, entry=entry, exit_=exit_,
            vehicle_type="car", vehicle_color=color, plate=plate,
        )  # fmt: skip


@pytest.fixture
def street(store_db: str, tmp_path: Path) -> Street:
    s = Street(store_db, tmp_path)
    yield s
    s.store.close()


def _drive_scene(
    st: Street, *, car_moves: bool = True, passing: bool = False, lost: bool = False
) -> dict[str, int]:
    me, car = unit(st.rng.normal(size=DIM)), unit(st.rng.normal(size=DIM))
    ids = {}
    # A: the suspect walks from the left edge to x=300 and vanishes there (feet at y=190).
    ids["walk"] = st.person("A", 0, noisy(st.rng, me), path=[(0, 20, 100, 30, 90), (10, 300, 100, 30, 90)],
                            exit_="inside")  # fmt: skip
    if lost:  # the detector loses the car as it moves off, 1 s after the suspect vanished
        ids["car_a"] = st.car("A", -20, noisy(st.rng, car), path=[(-20, 250, 150, 160, 70), (11, 250, 150, 160, 70)],
                              entry="inside", exit_="inside")  # fmt: skip
    elif passing:  # a car driving past at that moment hides the person
        ids["car_a"] = st.car(
            "A", 8, noisy(st.rng, car), path=[(8, 0, 150, 160, 70), (14, 600, 150, 160, 70)]
        )
    else:  # parked at x 250-410 since before; drives off to the right 3 s after the suspect vanishes
        end = [(13, 250, 150, 160, 70), (18, 600, 150, 160, 70)] if car_moves else [(30, 250, 150, 160, 70)]
        ids["car_a"] = st.car("A", -20, noisy(st.rng, car), path=[(-20, 250, 150, 160, 70), *end],
                              entry="inside", exit_="right" if car_moves else "inside")  # fmt: skip
    # B: the car comes in, stops at t=35, the suspect gets out at t=38 and walks off to the right.
    ids["car_b"] = st.car("B", 30, noisy(st.rng, car), path=[(30, 0, 150, 160, 70), (35, 200, 150, 160, 70),
                          (60, 200, 150, 160, 70)], exit_="inside")  # fmt: skip
    ids["out"] = st.person("B", 38, noisy(st.rng, me), path=[(38, 240, 100, 30, 90), (46, 600, 100, 30, 90)],
                           entry="inside")  # fmt: skip
    if not lost:  # (a later sighting on foot would compete with the costlier lost-car explanation)
        ids["walk_c"] = st.person("C", 120, noisy(st.rng, me))
    return ids


def test_route_follows_the_car_and_the_person_out_of_it(street: Street) -> None:
    ids = _drive_scene(street)
    route = relay(street.store, ids["walk"], hops=6)
    got = route.sighting_ids
    assert got[:4] == [ids["walk"], ids["car_a"], ids["car_b"], ids["out"]], route.to_dict()["hops"]
    d = route.to_dict()
    assert [h["type"] for h in d["handoffs"]] == ["board", "alight"]
    assert d["handoffs"][0]["camera"] == "A" and d["handoffs"][0]["vehicle"] == ids["car_a"]
    hops = {h["sighting"]: h for h in d["hops"]}
    assert hops[ids["car_a"]]["link"]["source"] == "board"
    assert any("got into the car" in r for r in hops[ids["car_a"]]["reasons"])
    assert hops[ids["car_b"]]["link"]["mode"] == "drive"
    assert any("plate agrees" in r for r in hops[ids["car_b"]]["reasons"])
    # The parked car's hop holds the suspect only from boarding on: the route's time order is walk -> car.
    assert hops[ids["car_a"]]["true_start"] >= hops[ids["walk"]]["true_end"] - 0.01


def test_backward_from_the_person_who_got_out(street: Street) -> None:
    ids = _drive_scene(street)
    route = relay(street.store, ids["out"], hops=6, direction="backward")
    assert route.sighting_ids == [ids["walk"], ids["car_a"], ids["car_b"], ids["out"]]


def test_passing_or_parked_cars_are_no_hand_off(street: Street) -> None:
    ids = _drive_scene(street, passing=True)
    assert ids["car_a"] not in relay(street.store, ids["walk"], hops=6).sighting_ids


def test_a_car_that_stays_put_is_no_hand_off(street: Street) -> None:
    ids = _drive_scene(street, car_moves=False)
    route = relay(street.store, ids["walk"], hops=6)
    assert ids["car_a"] not in route.sighting_ids
    assert "handoffs" not in route.to_dict()


def test_hand_offs_can_be_switched_off(street: Street) -> None:
    ids = _drive_scene(street)
    route = relay(street.store, ids["walk"], hops=6, params=RelayConfig(vehicle_handoffs=False))
    assert ids["car_a"] not in route.sighting_ids


def _track(kind: str, path: list[tuple[float, float, float, float, float]]) -> tuple[Sighting, Track]:
    a = np.asarray(path, np.float64)
    s = Sighting(0, "A", None, 1, kind, kind, a[0, 0], a[-1, 0], 0, 1, T0 + a[0, 0], T0 + a[-1, 0], (0, 0, 1, 1),
                 entry_edge="inside", exit_edge="inside")  # fmt: skip
    return s, Track(T0 + a[:, 0], a[:, 1:3] + a[:, 3:5] / 2, a[:, 3:5])


def test_board_and_alight_geometry() -> None:
    cfg = RelayConfig()
    person, pt = _track("person", [(0, 20, 100, 30, 90), (10, 300, 100, 30, 90)])
    _, far_car = _track("vehicle", [(-5, 500, 150, 160, 70), (20, 500, 150, 160, 70)])
    assert reach(pt.at(T0 + 10), far_car.at(T0 + 10)) > 1.0
    car, ct = _track("vehicle", [(-5, 250, 150, 160, 70), (12, 250, 150, 160, 70), (16, 600, 150, 160, 70)])
    assert reach(pt.at(T0 + 10), ct.at(T0 + 10)) == 0.0
    h = board(person, pt, car, ct, cfg)
    assert h is not None and h.kind == "board" and h.at == person.wall_end
    assert board(person, pt, car, ct, RelayConfig(handoff_gap_s=1.0)) is None  # moved off too late
    out, ot = _track("person", [(10, 300, 100, 30, 90), (20, 600, 100, 30, 90)])
    stopping, st = _track("vehicle", [(0, 0, 150, 160, 70), (8, 250, 150, 160, 70), (30, 250, 150, 160, 70)])
    a = alight(out, ot, stopping, st, cfg)
    assert a is not None and a.kind == "alight"
    parked, pk = _track("vehicle", [(-60, 250, 150, 160, 70), (30, 250, 150, 160, 70)])
    assert alight(out, ot, parked, pk, cfg) is None  # stood there all along: stepping out from behind it


def test_cli_prints_the_hand_offs_and_writes_them(street: Street, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from relaytrack.cli import app
    from relaytrack.evidence.access import create_case, create_user

    with street.store.tx() as conn:
        create_user(conn, "kim", "investigator")
        create_case(conn, "2026-9", legal_basis="w", purpose="p", members=["kim"])
    ids = _drive_scene(street)
    out = tmp_path / "route.json"
    args = ["relay", "--from", str(ids["walk"]), "--hops", "6", "--db", street.store.url, "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--user", "kim", "--case", "2026-9"])
    assert res.exit_code == 0, res.output
    assert f"got into vehicle #{ids['car_a']} on A" in res.output
    assert f"got out of vehicle #{ids['car_b']} on B" in res.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert [(h["type"], h["vehicle"]) for h in d["handoffs"]] == [
        ("board", ids["car_a"]),
        ("alight", ids["car_b"]),
    ]


def test_a_car_lost_by_the_detector_as_it_moves_off_is_boarded_at_a_cost(street: Street) -> None:
    ids = _drive_scene(street, lost=True)
    route = relay(street.store, ids["walk"], hops=6)
    assert route.sighting_ids[:3] == [ids["walk"], ids["car_a"], ids["car_b"]]
    hop = next(h for h in route.hops if h.sighting.id == ids["car_a"])
    assert any("track ended 1 s later" in r for r in hop.reasons)
    # The car driving back past the camera the suspect walked on is no revisit of the person's.
    assert route.to_dict()["handoffs"][0]["type"] == "board"
