"""Relay on small hand-built stores with known routes: decoys, blind spots, backwards search, feedback,
clock offsets, outputs and the CLI contract."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from relay_factory import DIM, add_person, noisy, unit
from typer.testing import CliRunner

from relaytrack.errors import InputError, NotFound
from relaytrack.evidence.access import create_case, create_user
from relaytrack.relay import RelayConfig, import_network, record_feedback, relay, route_accuracy
from relaytrack.relay.outputs import route_geojson, route_html, write_route_mot
from relaytrack.store import Store

LAT, LON = 37.5563, 126.9220
# Four cameras in a row west -> east, 100 m apart, all looking north: walking east leaves by the right edge
# and enters the next camera by its left edge.
NETWORK = "cameras:\n" + "".join(
    f"  - {{id: {c}, lat: {LAT}, lon: {LON + i * 100 / (111_195 * math.cos(math.radians(LAT))):.7f},"
    f" heading_deg: 0, owner: 자치구, purpose: 방범, clock_offset_s: {30.0 if c == 'C' else 0.0}}}\n"
    for i, c in enumerate("ABCD")
)


class Town:
    def __init__(self, db: str, folder: Path) -> None:
        self.store = Store(db)
        net = folder / "net.yaml"
        net.write_text(NETWORK, encoding="utf-8")
        import_network(self.store, net, modes=("walk",), radius_m={"walk": 150.0})
        self.rng = np.random.default_rng(3)
        self.tracks = 0
        # Background people so the appearance z-scores have something to compare with.
        for k in range(30):
            self.add("ABCD"[k % 4], 2000 + 7 * k, unit(self.rng.normal(size=DIM)), upper="gray", lower="gray")

    def add(
        self,
        cam: str,
        t: float,
        emb: np.ndarray,
        *,
        upper: str = "red",
        lower: str = "black",
        entry: str = "left",
        exit_: str = "right",
        dur: float = 8.0,
    ) -> int:
        self.tracks += 1
        return add_person(
            self.store,
            cam,
            t,
            emb,
            track_id=self.tracks,
            dur=dur,
            entry=entry,
            exit_=exit_,
            upper=upper,
            lower=lower,
            clock_offset_s=30.0 if cam == "C" else 0.0,
            thumbnail_jpeg=b"\xff\xd8fakejpeg",
        )

    def noisy(self, proto: np.ndarray, scale: float = 0.25) -> np.ndarray:
        return noisy(self.rng, proto, scale)


@pytest.fixture
def town(store_db: str, tmp_path: Path) -> Town:
    t = Town(store_db, tmp_path)
    yield t
    t.store.close()


def walk(town: Town, proto: np.ndarray, cams: str = "ABCD", t0: float = 0.0, gap: float = 80.0) -> list[int]:
    ids = []
    for i, c in enumerate(cams):
        ids.append(town.add(c, t0 + i * (gap + 8.0), town.noisy(proto)))
    return ids


def test_forward_route_beats_crossing_decoy(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me)
    # A look-alike (same clothes, similar embedding) crossing B at the same time the other way, and one in C
    # far too late for the walk.
    twin = town.noisy(me, 0.9)
    decoy_b = town.add("B", 90.0, twin, entry="right", exit_="left")
    decoy_c = town.add("C", 600.0, town.noisy(me, 0.3))
    route = relay(town.store, ids[0], 5)
    assert route.sighting_ids == ids
    assert route.hops[0].direction == "origin" and route.hops[0].confidence == 1.0
    assert all(h.confidence > 0.5 for h in route.hops)
    assert decoy_b not in route.sighting_ids and decoy_c not in route.sighting_ids
    assert route.hops[1].link["src"] == "A" and route.hops[1].link["exit_edge"] == "right"
    assert route.stopped["forward"] != ""
    # The clock offset of C (+30 s) was removed: the true travel time is the walk's 80 s.
    hop_c = route.hops[2]
    assert hop_c.sighting.camera == "C" and abs(hop_c.link["travel_s"] - 80.0) < 1.0


def test_backward_search_from_the_last_sighting(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me, t0=100.0)
    route = relay(town.store, ids[-1], 5)
    assert route.sighting_ids == ids
    assert [h.direction for h in route.hops] == ["backward", "backward", "backward", "origin"]
    only_fwd = relay(town.store, ids[-1], 5, direction="forward")
    assert only_fwd.sighting_ids == [ids[-1]]


def test_blind_spot_is_skipped_with_a_widened_window(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    a = town.add("A", 0.0, town.noisy(me))
    c = town.add("C", 2 * 88.0 + 4.0, town.noisy(me))  # B missed them
    route = relay(town.store, a, 5, direction="forward")
    assert route.sighting_ids == [a, c]
    assert route.hops[1].link["via"] == ["B"] and route.hops[1].link["src"] == "A"
    assert any("via unseen B" in r for r in route.hops[1].reasons)


def test_two_blind_spots_need_max_skip_two(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    a = town.add("A", 0.0, town.noisy(me))
    d = town.add("D", 3 * 88.0 + 5.0, town.noisy(me))  # nobody saw them at B or C
    assert relay(town.store, a, 5, direction="forward").sighting_ids == [a]
    route = relay(town.store, a, 5, direction="forward", params=RelayConfig(max_skip=2))
    assert route.sighting_ids == [a, d] and route.hops[1].link["via"] == ["B", "C"]
    # Backwards over the same blind spots.
    back = relay(town.store, d, 5, direction="backward", params=RelayConfig(max_skip=2))
    assert back.sighting_ids == [a, d]


def test_stops_where_nothing_is_likely(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    a = town.add("A", 0.0, town.noisy(me))
    other = unit(town.rng.normal(size=DIM))
    stranger = town.add("B", 88.0, town.noisy(other), upper="blue", lower="white")
    route = relay(town.store, a, 5)
    assert route.sighting_ids == [a]
    assert stranger not in route.sighting_ids
    assert "below" in route.stopped["forward"] or "no candidate" in route.stopped["forward"]


def test_close_candidates_are_reported_as_alternatives(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    a = town.add("A", 0.0, town.noisy(me, 0.05))
    b1 = town.add("B", 88.0, town.noisy(me, 0.05))
    b2 = town.add("B", 89.0, town.noisy(me, 0.05))
    route = relay(town.store, a, 1, direction="forward")
    hop = route.hops[1]
    assert hop.sighting.id in (b1, b2)
    alt = {x["sighting"] for x in hop.alternatives}
    assert ({b1, b2} - {hop.sighting.id}) <= alt
    assert hop.confidence < 0.75  # two near-identical candidates split the probability


def test_reject_and_confirm_rescore_the_route(town: Town) -> None:
    create_case(town.store.conn, "2026-001", legal_basis="warrant 1", purpose="test")
    me = unit(town.rng.normal(size=DIM))
    a = town.add("A", 0.0, town.noisy(me))
    wrong = town.add("B", 88.0, town.noisy(me, 0.05))  # a look-alike that fits better than the real one
    right = town.add("B", 95.0, town.noisy(me, 0.6))
    c = town.add("C", 190.0, town.noisy(me))
    first = relay(town.store, a, 3, case="2026-001", direction="forward")
    assert first.hops[1].sighting.id == wrong
    with town.store.tx() as conn:
        record_feedback(conn, "2026-001", a, [wrong], "reject", "kim")
    second = relay(town.store, a, 3, case="2026-001", direction="forward")
    assert wrong not in second.sighting_ids and second.hops[1].sighting.id == right
    assert second.rejected == [wrong]
    # Feedback belongs to its case: another case still sees the look-alike.
    assert relay(town.store, a, 3, case="other", direction="forward").hops[1].sighting.id == wrong
    with town.store.tx() as conn:
        record_feedback(conn, "2026-001", a, [wrong], "confirm", "kim")  # the operator changes their mind
    third = relay(town.store, a, 3, case="2026-001", direction="forward")
    assert third.hops[1].sighting.id == wrong and third.hops[1].confirmed and third.hops[1].confidence == 1.0
    assert third.anchors == [wrong] and c in third.sighting_ids
    with pytest.raises(NotFound):
        with town.store.tx() as conn:
            record_feedback(conn, "2026-001", a, [999999], "confirm")
    with pytest.raises(InputError):
        with town.store.tx() as conn:
            record_feedback(conn, "2026-001", a, [a], "confirm")


def test_confirmed_anchor_far_ahead_is_bridged(town: Town) -> None:
    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me)
    route = relay(town.store, ids[0], 5, confirmed={ids[3]}, direction="forward")
    assert route.sighting_ids == ids
    assert route.hops[-1].confirmed


def test_bad_input(town: Town, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no sighting 424242"):
        relay(town.store, 424242, 3)
    with pytest.raises(InputError, match="hops"):
        relay(town.store, 1, -1)
    with pytest.raises(InputError, match="direction"):
        relay(town.store, 1, 3, direction="sideways")
    empty = Store(tmp_path / "empty.db")
    with pytest.raises(NotFound):
        relay(empty, 1, 3)
    empty.close()


def test_outputs_and_route_accuracy(town: Town, tmp_path: Path) -> None:
    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me)
    route = relay(town.store, ids[1], 5)
    gj = route_geojson(route, town.store)
    line = gj["features"][0]
    assert line["geometry"]["type"] == "LineString" and len(line["geometry"]["coordinates"]) == 4
    assert len(line["properties"]["times"]) == 4 and line["properties"]["times"] == sorted(
        line["properties"]["times"]
    )
    assert sum(f["properties"]["kind"] == "camera" for f in gj["features"]) == 4
    page = route_html(route, town.store)
    assert (
        page.count("data:image/jpeg;base64,") == 4
        and "<svg" in page
        and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    )
    files = write_route_mot(route, town.store, tmp_path / "mot")
    assert sorted(p.name for p in files) == ["A.txt", "B.txt", "C.txt", "D.txt"]
    assert files[0].read_text().split(",")[1] == "1"
    truth = [{"camera": c, "start": i * 88.0, "end": i * 88.0 + 8} for i, c in enumerate("ABCD")]
    acc = route_accuracy(route, truth)
    assert acc["sequence_accuracy"] == 1.0 and acc["hops_found"] == 4 and acc["exact_sequence"]
    partial = route_accuracy(route, [*truth, {"camera": "E", "start": 500, "end": 510}])
    assert partial["sequence_accuracy"] == pytest.approx(0.8) and partial["recall"] == pytest.approx(0.8)


def test_cli_relay_contract_and_feedback(town: Town, tmp_path: Path) -> None:
    from relaytrack.cli import app

    with town.store.tx() as conn:
        create_user(conn, "kim", "investigator")
        create_case(conn, "2026-7", legal_basis="w", purpose="p", members=["kim"])
    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me)
    db = town.store.url
    out = tmp_path / "route.json"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "relay",
            "--from",
            str(ids[2]),
            "--hops",
            "3",
            "--db",
            db,
            "--out",
            str(out),
            "--geojson",
            str(tmp_path / "r.geojson"),
            "--html",
            str(tmp_path / "r.html"),
            "--mot",
            str(tmp_path / "mot"),
            "--user",
            "kim",
            "--case",
            "2026-7",
        ],
    )
    assert res.exit_code == 0, res.output
    route = json.loads(out.read_text())
    hops = route["hops"]
    assert [h["sighting"] for h in hops] == ids
    for h in hops:
        # the search hit's fields (score and reasons included) plus confidence
        keys = {"sighting", "camera", "start", "end", "frames", "box", "score", "reasons", "confidence"}
        assert keys <= set(h)
        assert len(h["frames"]) == 2 and len(h["box"]) == 4
    assert [h["start"] for h in hops] == sorted(h["start"] for h in hops)
    assert (tmp_path / "r.html").is_file() and (tmp_path / "mot" / "A.txt").is_file()
    res = runner.invoke(
        app, ["relay", "reject", str(out), str(ids[1]), "--db", db, "--user", "kim", "--case", "2026-7"]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "relay",
            "--from",
            str(ids[2]),
            "--hops",
            "3",
            "--db",
            db,
            "--out",
            str(out),
            "--user",
            "kim",
            "--case",
            "2026-7",
        ],
    )
    assert ids[1] not in [h["sighting"] for h in json.loads(out.read_text())["hops"]]
    # No case: refused (and the refusal is audited), nothing written.
    out2 = tmp_path / "no.json"
    res = runner.invoke(
        app, ["relay", "--from", str(ids[2]), "--db", db, "--out", str(out2), "--user", "kim"]
    )
    assert res.exit_code != 0 and not out2.exists()
    res = runner.invoke(app, ["cameras", "show", "ZZZ", "--db", db])
    assert isinstance(res.exception, NotFound) and "ZZZ" in str(res.exception)
    res = runner.invoke(app, ["cameras", "links", "--db", db, "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output)) == 6


def test_cli_relay_on_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    # A mistyped --db created an empty store and answered "unknown or inactive user".
    from relaytrack.cli import app
    from relaytrack.errors import StoreError

    db = tmp_path / "typo.db"
    args = ["--db", str(db), "--user", "kim", "--case", "2026-7"]
    runner = CliRunner()
    res = runner.invoke(app, ["relay", "--from", "1", "--out", str(tmp_path / "r.json"), *args])
    assert isinstance(res.exception, StoreError) and "no such store" in str(res.exception)
    res = runner.invoke(app, ["relay", "confirm", "1", "2", *args])
    assert isinstance(res.exception, StoreError)
    assert list(tmp_path.iterdir()) == []


def test_confirmed_hops_refine_link_travel_times(town: Town) -> None:
    from relaytrack.relay.network import all_links, refine_links

    me = unit(town.rng.normal(size=DIM))
    ids = walk(town, me, gap=40.0)  # faster than the map's typical 1.3 m/s over 100 m
    with town.store.tx() as conn:
        record_feedback(conn, "case-r", ids[0], ids[1:], "confirm", "kim")
        out = refine_links(conn)
    assert out["observations"] == 3 and out["links_updated"] == 3
    ab = next(ln for ln in all_links(town.store.conn) if (ln["src"], ln["dst"]) == ("A", "B"))
    assert ab["source"] == "data" and ab["n_obs"] == 1
    assert 40.0 < ab["mean_s"] < ab["prior_mean_s"]  # C's +30 s clock offset did not leak into B->C either
    bc = next(ln for ln in all_links(town.store.conn) if (ln["src"], ln["dst"]) == ("B", "C"))
    assert bc["mean_s"] < bc["prior_mean_s"]


def test_cli_relay_reprocess_around_is_checked_and_passed_on(town: Town, tmp_path: Path) -> None:
    from relaytrack.cli import app

    with town.store.tx() as conn:
        create_user(conn, "kim", "investigator")
        create_case(conn, "2026-7", legal_basis="w", purpose="p", members=["kim"])
    ids = walk(town, unit(town.rng.normal(size=DIM)))
    args = ["relay", "--from", str(ids[2]), "--hops", "3", "--db", town.store.url, "--user", "kim"]
    args += ["--case", "2026-7", "--reprocess"]
    runner = CliRunner()
    res = runner.invoke(app, [*args, "--reprocess-around", "frames", "--out", str(tmp_path / "x.json")])
    assert (
        res.exit_code != 0 and "--reprocess-around" in str(res.exception) and "frames" in str(res.exception)
    )
    assert not (tmp_path / "x.json").exists()
    plain = tmp_path / "plain.json"
    looked = tmp_path / "look.json"
    assert runner.invoke(app, [*args[:-1], "--out", str(plain)]).exit_code == 0
    res = runner.invoke(
        app, [*args, "--reprocess-around", "look", "--reprocess-top", "1", "--out", str(looked)]
    )
    assert res.exit_code == 0, res.output
    # Footage indexed at the full rate (here: no footage at all) is never re-processed: the same route.
    hops = [h["sighting"] for h in json.loads(looked.read_text())["hops"]]
    assert hops == [h["sighting"] for h in json.loads(plain.read_text())["hops"]] and len(hops) >= 3
    for way in ("origin", "missed"):
        got = tmp_path / f"{way}.json"
        res = runner.invoke(app, [*args, "--reprocess-around", way, "--out", str(got)])
        assert res.exit_code == 0, res.output
        assert [h["sighting"] for h in json.loads(got.read_text())["hops"]] == hops
        (detail,) = town.store.conn.execute(
            "SELECT detail FROM audit_log WHERE action='relay' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        assert json.loads(detail)["reprocessed"] == {"frames": 0, "windows": 0, "origin": ids[2]}
