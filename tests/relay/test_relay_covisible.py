"""Vehicles on cameras whose views overlap (relay.candidates._covisible): a parked car watched by two cameras
began on both long before any travel window; the sighting on the other camera that was in view when this one
ended, and left its view at the same moment, is the same car driving off."""

from __future__ import annotations

from pathlib import Path

import pytest
from relay_factory import DIM, noisy, unit
from test_relay_boarding import Street

from relaytrack.relay import RelayConfig
from relaytrack.relay.candidates import CandidateFinder
from relaytrack.store.sightings import get_sighting


@pytest.fixture
def street(store_db: str, tmp_path: Path) -> Street:
    s = Street(store_db, tmp_path)
    with s.store.tx() as conn:  # A and B watch one kerb from two sides: their views overlap
        for src, dst in (("A", "B"), ("B", "A")):
            conn.execute("DELETE FROM camera_links WHERE src=? AND dst=?", (src, dst))
            conn.execute(
                "INSERT INTO camera_links(src, dst, exit_edge, entry_edge, mode, mean_s, std_s, min_s, max_s,"
                " source, prior_mean_s, prior_std_s) VALUES (?,?,'','','drive',-1.0,2.0,-10.0,5.0,'map',-1.0,2.0)",
                (src, dst),
            )
    yield s
    s.store.close()


def _scene(st: Street) -> dict[str, int]:
    car, other = unit(st.rng.normal(size=DIM)), unit(st.rng.normal(size=DIM))
    parked = [(-20, 250, 150, 160, 70), (13, 250, 150, 160, 70), (18, 600, 150, 160, 70)]
    return {
        # The grey car parked since before either camera's window, driving off at t=13 on both.
        "a": st.car("A", -20, noisy(st.rng, car), path=parked, entry="inside"),
        "b": st.car("B", -18, noisy(st.rng, car), path=[(-18, *parked[0][1:]), *parked[1:3]], entry="inside"),
        # Another grey car parked on B that stays: in view then too, but it did not leave.
        "stays": st.car(
            "B",
            -20,
            noisy(st.rng, other),
            path=[(-20, 400, 150, 160, 70), (60, 400, 150, 160, 70)],
            entry="inside",
            exit_="inside",
        ),  # fmt: skip
    }


def _cands(st: Street, sid: int, direction: str, cfg: RelayConfig) -> dict[int, tuple[float, str]]:
    f = CandidateFinder(st.store.conn, get_sighting(st.store.conn, sid), cfg, set(), set())
    out = f.candidates(get_sighting(st.store.conn, sid), direction, {sid})
    return {c.s.id: (c.conf, (c.link or {}).get("source")) for c in out}


def test_the_same_parked_car_on_an_overlapping_camera_is_the_next_hop(street: Street) -> None:
    ids = _scene(street)
    cfg = RelayConfig()
    fwd = _cands(street, ids["a"], "forward", cfg)
    assert fwd[ids["b"]][1] == "covisible" and fwd[ids["b"]][0] >= cfg.stop_conf
    # The car that stayed was in view too, but did not leave with it: far less likely.
    assert ids["stays"] not in fwd or fwd[ids["stays"]][0] < 0.5 * fwd[ids["b"]][0]
    # Backward from B the same: A's sighting came into view with it (2 s apart) and was there when B's began.
    back = _cands(street, ids["b"], "backward", cfg)
    assert back[ids["a"]][1] == "covisible" and back[ids["a"]][0] >= cfg.stop_conf


def test_without_covisible_the_parked_car_is_out_of_every_window(street: Street) -> None:
    ids = _scene(street)
    fwd = _cands(street, ids["a"], "forward", RelayConfig(covisible_s=0.0))
    assert ids["b"] not in fwd and ids["stays"] not in fwd


def test_people_are_left_to_the_travel_windows(street: Street) -> None:
    # Only vehicles: two people standing in both views are not joined this way.
    me = unit(street.rng.normal(size=DIM))
    a = street.person("A", 0, noisy(street.rng, me), path=[(-20, 300, 100, 30, 90), (13, 300, 100, 30, 90)])
    b = street.person("B", 0, noisy(street.rng, me), path=[(-18, 300, 100, 30, 90), (13, 300, 100, 30, 90)])
    got = _cands(street, a, "forward", RelayConfig())
    assert all(src != "covisible" for _, src in got.values()) and (b not in got or got[b][1] != "covisible")
