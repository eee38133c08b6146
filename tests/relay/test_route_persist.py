"""A route's JSON form and where it is kept: Route.from_dict reads back exactly what to_dict wrote, a file and
the store give a Route, a bad document is an InputError, and the relay's config is strict and bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relaytrack.config import RelayConfig, validate
from relaytrack.errors import ConfigError, InputError
from relaytrack.relay.engine import relay
from relaytrack.relay.persist import (
    latest_route,
    read_route_json,
    routes_of_case,
    save_route,
    stored_routes,
    write_route_json,
)
from relaytrack.relay.route import NO_SIGHTING, Route
from relaytrack.relay.synth import SynthConfig, generate
from relaytrack.store import Store

HOP_KEYS = "sighting camera start end frames box score confidence kind wall_start".split()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def routed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Route]:
    if request.param == "postgresql":
        store = Store(request.getfixturevalue("pg_cluster").new_database())
    else:
        store = Store(tmp_path_factory.mktemp("route") / "synth.db")
    truth = generate(store, SynthConfig(people=8, seed=1, grid=(3, 3)))
    ids = max(truth.routes.values(), key=len)
    route = relay(store, ids[len(ids) // 2], 6, case="C-1")
    assert len(route.hops) > 1
    yield store, route
    store.close()


def test_from_dict_reads_back_what_to_dict_wrote(routed: tuple[Store, Route]) -> None:
    _, route = routed
    doc = json.loads(json.dumps(route.to_dict()))
    assert list(doc) == [
        "origin", "case", "hops", "cameras", "stopped", "anchors", "rejected", "elapsed_s", "params"
    ]  # fmt: skip
    assert list(doc["hops"][0])[: len(HOP_KEYS)] == HOP_KEYS
    assert doc["params"] == RelayConfig().model_dump()
    back = Route.from_dict(doc)
    assert back.to_dict() == doc
    assert back.sighting_ids == route.sighting_ids and back.params == route.params


def test_file_and_store_give_a_route(routed: tuple[Store, Route], tmp_path: Path) -> None:
    store, route = routed
    assert read_route_json(write_route_json(route, tmp_path / "r.json")).to_dict() == route.to_dict()
    with store.tx() as conn:
        rid = save_route(conn, route, "kim")
        conn.execute("INSERT INTO relay_routes(case_no, origin_id, route) VALUES ('C-9', 1, '{not json')")
    got = latest_route(store.conn, "C-1", route.origin)
    assert got is not None and got.to_dict() == route.to_dict()
    assert latest_route(store.conn, "C-2", route.origin) is None
    summary = next(r for r in routes_of_case(store.conn, "C-1") if r.id == rid)
    assert (summary.origin, summary.user, summary.hops) == (route.origin, "kim", len(route.hops))
    assert [r.origin for r in stored_routes(store.conn)] == [route.origin]  # the broken row is skipped


def test_hand_written_routes_and_bad_documents(tmp_path: Path) -> None:
    minimal = Route.from_dict({"hops": [{"sighting": 7, "camera": "CAM1", "frames": [1, 10]}]})
    assert minimal.origin == 7 and minimal.hops[0].sighting.first_frame == 1
    span = Route.from_dict({"hops": [{"camera": "CAM2", "frames": [5, 9]}]}).hops[0].sighting
    assert (span.id, span.camera, span.first_frame, span.last_frame) == (NO_SIGHTING, "CAM2", 5, 9)
    for bad in ({}, {"hops": []}, {"hops": "x"}, {"hops": [3]}, {"hops": [{"camera": "A"}]}, [1]):
        with pytest.raises(InputError):
            Route.from_dict(bad)
    with pytest.raises(InputError, match="route hop 0"):
        Route.from_dict({"hops": [{"sighting": "seven"}]})
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable route JSON"):
        read_route_json(tmp_path / "bad.json")


def test_relay_config_is_strict_and_bounded() -> None:
    assert RelayConfig.legacy().time_tail is False and RelayConfig().time_tail is True
    for bad in ({"stop_conf": 1.5}, {"beam": 0}, {"appearance_fn": "sift"}, {"bem": 4}):
        with pytest.raises(ConfigError):
            validate(RelayConfig, bad, "relay")
    assert all(f.description for f in RelayConfig.model_fields.values())
