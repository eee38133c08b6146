"""The held-out relay bench: its seeds cannot tune anything, its simulator does not share the engine's edge
model, and every method row is scored by identity on the same origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaytrack.bench import relay_heldout
from relaytrack.bench.seeds import HELD_OUT, TUNING, HeldOutSeedError
from relaytrack.relay import import_network


def test_tuning_run_refuses_a_held_out_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(relay_heldout.TUNING, "relay", (HELD_OUT["relay"][0],))
    with pytest.raises(HeldOutSeedError):
        relay_heldout.run_held_out(synth_seeds=1, towns=0, tuning=True)
    monkeypatch.setitem(relay_heldout.TUNING, "relay", TUNING["relay"])
    monkeypatch.setitem(relay_heldout.TUNING, "relay-towns", (HELD_OUT["relay-towns"][0],))
    with pytest.raises(HeldOutSeedError):
        relay_heldout.run_held_out(synth_seeds=0, towns=1, tuning=True)


def test_scored_seeds_are_the_held_out_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def fake(seed: int, **_kw):
        seen.append(seed)
        return relay_heldout.TownScore("x", seed, "synthetic", {m: relay_heldout.MethodScore(m) for m, _ in
                                                                relay_heldout.METHODS})

    monkeypatch.setattr(relay_heldout, "synthetic_town", fake)
    res = relay_heldout.run_held_out(synth_seeds=3, towns=0)
    assert seen == list(HELD_OUT["relay"][:3])
    assert "HELD_OUT" in res["protocol"][0]


def _disagreement(cfg) -> float:
    """Share of a person's consecutive sightings whose stored exit edge is not the engine's edge_towards
    from the register's heading towards the next camera."""
    import tempfile

    from relaytrack.relay.geo import edge_towards
    from relaytrack.relay.synth import generate
    from relaytrack.store import Store
    from relaytrack.store.sightings import get_sightings

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.db")
        truth = generate(store, cfg)
        cams = {r["id"]: r for r in store.conn.execute("SELECT id, lat, lon, heading_deg FROM cameras")}
        differ = total = 0
        for ids in truth.routes.values():
            sights = get_sightings(store.conn, ids)
            for a, b in zip(sights, sights[1:], strict=False):
                ca, cb = cams[a.camera], cams[b.camera]
                total += 1
                differ += int(
                    a.exit_edge != edge_towards(ca["lat"], ca["lon"], ca["heading_deg"], cb["lat"], cb["lon"])
                )
        assert truth.links and {"src", "dst", "mean_s", "samples"} <= set(truth.links[0])
        store.close()
    assert total > 50
    return differ / total


def test_simulator_edges_are_not_the_engines() -> None:
    from relaytrack.relay.synth import SynthConfig

    seed = TUNING["relay"][2]
    # The older map model agrees with the engine except for its 10 % wrong edges (and misses); the street
    # model's edges come from true headings, jittered streets and the frame's shape.
    # Both follow the street geometry, so they mostly agree; the street model's own disagreements are the
    # register's error the relay must live with (measured 0.08 vs 0.18 on this seed).
    old, own = _disagreement(SynthConfig(grid=(5, 5), people=40, seed=seed)), _disagreement(
        SynthConfig.hard(seed, people=40)
    )
    assert old < 0.12 < 0.15 < own


def test_every_method_scores_the_same_routes(tmp_path: Path) -> None:
    town = relay_heldout.synthetic_town(TUNING["relay"][3], people=60, suspects=3, hops=6)
    assert set(town.methods) == {m for m, _ in relay_heldout.METHODS}
    routes = {m.routes for m in town.methods.values()}
    assert routes == {3}
    visits = {m.visits for m in town.methods.values()}
    assert len(visits) == 1  # the same suspects' visits for every row
    for m in town.methods.values():
        assert 0.0 <= m.precision <= 1.0 and 0.0 <= m.recall <= 1.0
    assert set(town.links) == {"map", "learned", "learned_only"}
    assert town.links["learned_only"].learned <= town.notes["learned_links"]  # the learned links alone
    assert town.sequences[relay_heldout.FULL_ORACLE][0] == town.true_sequence[0]  # relayed from the first visit


def test_register_without_headings_links_by_distance_and_says_so(tmp_path: Path) -> None:
    from relaytrack.store import Store

    net = tmp_path / "reg.yaml"
    net.write_text(
        "cameras:\n"
        "  - {id: A, lat: 37.5563, lon: 126.9220, heading_deg: 0, fov_deg: 70}\n"
        "  - {id: B, lat: 37.5563, lon: 126.9231}\n"
        "  - {id: C, lat: 37.5563, lon: 126.9242, heading_deg: 90}\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "r.db")
    summary = import_network(store, net, modes=("walk",))
    assert summary["without_heading"] == ["B"]
    assert summary["without_fov"] == ["B", "C"]
    rows = store.conn.execute("SELECT exit_edge FROM camera_links WHERE src='B'").fetchall()
    assert rows and all(r[0] == "" for r in rows)  # linked by distance, any edge
    store.close()
