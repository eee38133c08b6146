"""Links learned from unlabelled traffic: planted transitions are found, nothing is invented without traffic,
and the learned links reach the store as source='learned'."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from relay_factory import DIM, add_person, noisy, unit

from relaytrack.relay import import_network
from relaytrack.relay.learn_links import LearnParams, learn_links, store_learned
from relaytrack.relay.link_truth import compare_links
from relaytrack.store import Store

LAT, LON = 37.5563, 126.9220
# Three cameras in a row west -> east, 100 m apart, all looking north.
NETWORK = "cameras:\n" + "".join(
    f"  - {{id: {c}, lat: {LAT}, lon: {LON + i * 100 / (111_195 * math.cos(math.radians(LAT))):.7f},"
    f" heading_deg: 0, owner: 자치구, purpose: 방범}}\n"
    for i, c in enumerate("ABC")
)


def _store(db: str, folder: Path) -> Store:
    store = Store(db)
    net = folder / "net.yaml"
    net.write_text(NETWORK, encoding="utf-8")
    import_network(store, net, modes=("walk",), radius_m={"walk": 250.0})
    return store


def _planted(db: str, folder: Path) -> Store:
    """60 people walk A -> B (left by the right edge, 70 +- 8 s later entering B by the left edge); C sees
    only strangers at random times."""
    store = _store(db, folder)
    rng = np.random.default_rng(5)
    track = 0
    for k in range(60):
        proto = unit(rng.normal(size=DIM))
        t = 20.0 * k + float(rng.uniform(0, 10))
        track += 1
        add_person(
            store,
            "A",
            t,
            noisy(rng, proto),
            track_id=track,
            dur=8,
            entry="left",
            exit_="right",
            upper="red",
            lower="blue",
        )
        track += 1
        add_person(
            store,
            "B",
            t + 8 + float(rng.normal(70, 8)),
            noisy(rng, proto),
            track_id=track,
            dur=8,
            entry="left",
            exit_="right",
            upper="red",
            lower="blue",
        )
        track += 1
        add_person(
            store,
            "C",
            float(rng.uniform(0, 1300)),
            unit(rng.normal(size=DIM)),
            track_id=track,
            dur=8,
            entry="top",
            exit_="bottom",
            upper="gray",
            lower="gray",
        )
    return store


def test_planted_transition_is_learned_with_its_time_and_edges(store_db: str, tmp_path: Path) -> None:
    store = _planted(store_db, tmp_path)
    res = learn_links(store.conn)
    pairs = {(ln.src, ln.dst): ln for ln in res.links}
    assert set(pairs) == {("A", "B")}, res.to_dict()
    ab = pairs[("A", "B")]
    assert ab.mean_s == pytest.approx(70, abs=8)
    assert (ab.exit_edge, ab.entry_edge) == ("right", "left")
    assert ab.support >= 30 and ab.z >= 5
    assert res.explained_cameras == ["A"]
    cmp = compare_links(res.links, [{"src": "A", "dst": "B", "mean_s": 72.0, "samples": 60}])
    assert cmp.precision == 1.0 and cmp.recall == 1.0 and cmp.within_20pct == 1

    with store.tx() as conn:
        out = store_learned(conn, res)
    assert out["stored"] == 1
    rows = store.conn.execute(
        "SELECT src, dst, source, support, z FROM camera_links WHERE source='learned'"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("A", "B", "learned")]
    assert rows[0][3] >= 30
    # A's map links went (its learned exit holds all its departures: its traffic spoke about its exits); the
    # other cameras keep theirs.
    assert (
        store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE src='A' AND source='map'").fetchone()[0]
        == 0
    )
    assert (
        store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE src='B' AND source='map'").fetchone()[0]
        > 0
    )
    # Learning again replaces, never duplicates.
    with store.tx() as conn:
        store_learned(conn, learn_links(conn))
    assert store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE source='learned'").fetchone()[0] == 1
    store.close()


def test_shuffled_baseline_keeps_chance_lookalikes_out(store_db: str, tmp_path: Path) -> None:
    # Everyone looks alike (one prototype) and walks nowhere in particular: no excess over the shuffled pairs.
    store = _store(store_db, tmp_path)
    rng = np.random.default_rng(9)
    proto = unit(rng.normal(size=DIM))
    for k in range(150):
        add_person(
            store,
            "ABC"[k % 3],
            float(rng.uniform(0, 1500)),
            noisy(rng, proto, 0.6),
            track_id=k + 1,
            dur=8,
            entry="left",
            exit_="right",
            upper="red",
            lower="blue",
        )
    res = learn_links(store.conn, LearnParams(seed=1))
    assert res.links == []
    store.close()


def test_no_traffic_reports_unestimated_links_instead_of_inventing_them(
    store_db: str, tmp_path: Path
) -> None:
    store = _store(store_db, tmp_path)
    res = learn_links(store.conn)
    assert res.links == []
    assert res.sightings == 0
    pairs = {(u.src, u.dst) for u in res.unestimated}
    assert ("A", "B") in pairs and ("B", "A") in pairs
    assert all("too little traffic" in u.reason for u in res.unestimated)
    with store.tx() as conn:
        assert store_learned(conn, res)["stored"] == 0
    assert store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE source='map'").fetchone()[0] > 0
    store.close()


def test_hard_simulator_links_are_learned_and_two_hop_peaks_pruned(store_db: str) -> None:
    from relaytrack.bench.seeds import TUNING
    from relaytrack.relay.synth import SynthConfig, generate

    store = Store(store_db)
    truth = generate(store, SynthConfig.hard(TUNING["relay"][1], people=150, grid=(3, 3)))
    res = learn_links(store.conn)
    cmp = compare_links(res.links, truth.links)
    assert cmp.precision >= 0.7 and cmp.recall >= 0.6, cmp
    assert cmp.median_time_error is not None and cmp.median_time_error < 0.2
    store.close()


def test_cli_learn_prints_support_and_confirmed_hops_refine_learned_links(
    store_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import json

    import yaml
    from typer.testing import CliRunner

    from relaytrack.cli import app
    from relaytrack.relay.network import refine_links

    store = _planted(store_db, tmp_path)
    store.close()
    db = store.url
    truth = tmp_path / "links-truth.yaml"
    truth.write_text(yaml.safe_dump({"links": [{"src": "A", "dst": "B", "mean_s": 72.0, "samples": 60}]}))
    res = CliRunner().invoke(
        app, ["cameras", "links", "--learn", "--db", db, "--truth", str(truth), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [(x["src"], x["dst"]) for x in out["links"]] == [("A", "B")]
    assert out["links"][0]["support"] >= 30 and out["truth"]["recall"] == 1.0
    # Confirmed hops refine a learned link: its learned estimate is the prior, weighted by its support.
    store = Store(db)
    with store.tx() as conn:
        before = conn.execute("SELECT mean_s FROM camera_links WHERE source='learned'").fetchone()[0]
        refine_links(conn, observations=[("A", "B", before + 40.0, "walk")] * 3)
        row = conn.execute(
            "SELECT mean_s, source, n_obs FROM camera_links WHERE src='A' AND dst='B'"
        ).fetchone()
    assert row[1] == "learned" and row[2] == 3
    assert before < row[0] < before + 40.0 * 3 / (3 + 30)  # the learned prior outweighs three hops
    store.close()
    # Too little traffic: nothing learned, the neighbour links it could not estimate are listed.
    empty = tmp_path / "empty"
    empty.mkdir()
    if store.backend == "postgresql":
        empty_db = request.getfixturevalue("pg_cluster").new_database()
    else:
        empty_db = str(empty / "learn.db")
    _store(empty_db, empty).close()
    res = CliRunner().invoke(app, ["cameras", "links", "--learn", "--db", empty_db])
    assert res.exit_code == 0 and "learned 0 links" in res.output and "could not estimate" in res.output


def _thin_street(db: str, folder: Path, walkers: int, seed: int = 3) -> Store:
    """Five minutes of a quiet street: `walkers` people walk A -> B (left by the right edge, 90 +- 4 s later
    entering B by the left edge), and 25 strangers pass each camera at random times."""
    store = _store(db, folder)
    rng = np.random.default_rng(seed)
    track = 0
    for _ in range(walkers):
        proto = unit(rng.normal(size=DIM))
        t = float(rng.uniform(0, 180))
        for cam, at in (("A", t), ("B", t + 8 + float(rng.normal(90, 4)))):
            track += 1
            add_person(store, cam, at, noisy(rng, proto, 0.15), track_id=track, dur=8, entry="left",
                       exit_="right", upper="red", lower="blue")  # fmt: skip
    for cam in "ABC":
        for _ in range(25):
            track += 1
            add_person(store, cam, float(rng.uniform(0, 300)), unit(rng.normal(size=DIM)), track_id=track, dur=8,
                       entry="top", exit_="bottom", upper="gray", lower="gray")  # fmt: skip
    return store


def test_a_street_walked_three_times_is_learned_inside_the_register_window(
    store_db: str, tmp_path: Path
) -> None:
    # Three walkers are too few for the open test (it needs an excess of 4 over five minutes of window); the
    # register says A and B are neighbours, and inside its window three mutual look-alikes are not chance.
    store = _thin_street(store_db, tmp_path, walkers=3)
    open_only = learn_links(store.conn, LearnParams(prior_min_pairs=10**6))
    assert open_only.links == []
    res = learn_links(store.conn)
    pairs = {(ln.src, ln.dst): ln for ln in res.links}
    assert set(pairs) == {("A", "B")}, res.to_dict()
    ab = pairs[("A", "B")]
    assert ab.method == "window" and ab.observed == 3
    assert ab.mean_s == pytest.approx(90, abs=8)
    prior = store.conn.execute(
        "SELECT min_s, max_s, exit_edge, entry_edge FROM camera_links WHERE src='A' AND dst='B' AND source='map'"
    ).fetchone()
    assert ab.min_s <= prior[0] and ab.max_s >= prior[1]  # the register's window is kept, its time moved
    # Three walkers do not move the register's edges.
    assert (ab.exit_edge or "", ab.entry_edge or "") == (prior[2], prior[3])

    with store.tx() as conn:
        out = store_learned(conn, res)
    # Only the A -> B map link gives way: A's other exits stay (a few walkers said nothing about them).
    assert out == {"stored": 1, "map_links_dropped": 1}
    src = dict(store.conn.execute("SELECT dst, source FROM camera_links WHERE src='A'").fetchall())
    assert src["B"] == "learned" and src["C"] == "map"
    # Learning again finds the same link: the register's A -> B prior is still known after it was replaced.
    again = learn_links(store.conn)
    assert [(ln.src, ln.dst, ln.method) for ln in again.links] == [("A", "B", "window")]
    store.close()


@pytest.mark.parametrize("walkers", [0, 1])
def test_one_walker_or_strangers_alone_learn_nothing(store_db: str, tmp_path: Path, walkers: int) -> None:
    store = _thin_street(store_db, tmp_path, walkers=walkers, seed=4 + walkers)
    res = learn_links(store.conn)
    assert res.links == [], res.to_dict()
    assert ("A", "B") in {(u.src, u.dst) for u in res.unestimated} or res.absent > 0
    store.close()


def test_a_learned_exit_that_holds_few_departures_leaves_the_other_map_links(
    store_db: str, tmp_path: Path
) -> None:
    # 60 people walk A -> B, and 140 more leave A for places the traffic does not show: A -> B is learned
    # (open test), but it holds under half of A's departures, so A's other exits stay as the register has them.
    store = _planted(store_db, tmp_path)
    rng = np.random.default_rng(11)
    for k in range(140):
        add_person(store, "A", float(rng.uniform(0, 1300)), unit(rng.normal(size=DIM)), track_id=10_000 + k,
                   dur=8, entry="left", exit_="top", upper="gray", lower="gray")  # fmt: skip
    res = learn_links(store.conn)
    assert [(ln.src, ln.dst, ln.method) for ln in res.links] == [("A", "B", "open")]
    assert res.explained_cameras == []
    with store.tx() as conn:
        out = store_learned(conn, res)
    assert out == {"stored": 1, "map_links_dropped": 1}
    src = dict(store.conn.execute("SELECT dst, source FROM camera_links WHERE src='A'").fetchall())
    assert src == {"B": "learned", "C": "map"}
    store.close()


def test_a_link_the_operator_gave_is_not_relearned_from_thin_traffic(store_db: str, tmp_path: Path) -> None:
    store = _thin_street(store_db, tmp_path, walkers=3)
    links = tmp_path / "links.yaml"
    links.write_text(
        "links:\n  - {src: A, dst: B, mean_s: 95, std_s: 10, min_s: 60, max_s: 130}\n", encoding="utf-8"
    )
    import_network(store, links)
    res = learn_links(store.conn)
    assert res.links == [], res.to_dict()  # the file's A -> B is the operator's word, not a guess to test
    with store.tx() as conn:
        store_learned(conn, res)
    rows = store.conn.execute("SELECT source FROM camera_links WHERE src='A' AND dst='B'").fetchall()
    assert [r[0] for r in rows] == ["file"]
    store.close()


def test_an_operator_link_outranks_the_map_guess_for_its_pair_whatever_the_order() -> None:
    from relaytrack.records import Link
    from relaytrack.relay.learn_links import _prior_rank

    guess = Link("A", "B", None, None, 96.0, 20.0, 55.0, 203.0, "walk", "map")
    given = Link("A", "B", None, None, 95.0, 10.0, 60.0, 130.0, "walk", "file")
    assert _prior_rank(given) > _prior_rank(guess)  # narrower, but the operator's
    assert max([guess, given], key=_prior_rank) is given and max([given, guess], key=_prior_rank) is given
