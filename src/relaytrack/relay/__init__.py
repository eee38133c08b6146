"""Camera network and relay: follow a person (or vehicle) camera to camera.

Public API (for the demo and the service; `store` is a relaytrack.store.Store or its connection):

Camera network (relaytrack.relay.network)
- import_network(store, path, *, infer=True, modes=("walk", "drive"), neighbours=6, radius_m=None) -> dict
    Import YAML (shared format) / CSV (cameras or links) / GeoJSON in one transaction. Links not given are
    inferred from the map. Returns {"file", "cameras", "links_given", "links_inferred", "without_links"}.
    Bad rows raise relaytrack.errors.InputError naming file and row; nothing is stored then.
- refine_links(conn, *, min_conf=0.8, observations=None) -> dict: travel times from confirmed/confident hops
  (or explicit (src, dst, seconds[, mode]) observations). {"observations", "links_updated", "unlinked"}.
- all_links(conn) -> list[dict], camera_info(conn, camera_id) -> dict.

Relay (relaytrack.relay.engine; the pieces it puts together are route, candidates, terms, search, persist)
- relay(store, from_sighting, hops=10, *, case=None, params=None, direction="both", confirmed=None,
        rejected=None) -> Route
- Route (relaytrack.relay.route): .origin (int), .hops (list[Hop], time order, origin included), .cameras,
    .sighting_ids, .stopped ({"forward": why, "backward": why}), .anchors, .rejected, .elapsed_s, .params,
    .to_dict() (the route JSON, the CLI contract), Route.from_dict(d) (InputError if d is not a route).
  Hop: .sighting (records.Sighting), .confidence (0-1), .direction (origin|confirmed|forward|backward),
    .link (dict: src, dst, exit_edge, entry_edge, mean_s, std_s, travel_s, via), .reasons, .alternatives,
    .confirmed, .true_start/.true_end (epoch seconds, camera clock offset removed), .to_dict() (hop JSON),
    Hop.from_dict(d).
- RelayConfig (relaytrack.config, strict, every field described and bounded): beam, stop_conf, max_skip,
  weights, and the ablation switches use_appearance/use_attributes/use_topology/use_time, appearance_fn
  ("embedding" | "colour_hist"). Robustness to real-pipeline output (all on by default): time_tail (Student-t
  travel time, link std widened by time_jitter_s), soft_edges (adjacent edge = partial credit, short
  tracklets' edges weigh less), soft_colours (confusable colour pairs), camera_calibration (appearance z also
  against the candidate camera's own sightings), fragments (same-camera hop to a tracklet resuming within
  frag_gap_s; frag_colours: its colour reads must agree with the tracklet it continues), skip_needs_empty (no
  skip over a camera holding someone who looks like the person), skip_crossing (a skipped camera's view takes
  time to cross, relay.skip), fill_gaps.
  RelayConfig.legacy() is the relay as first written (for before/after benches).

Persistence (relaytrack.relay.persist): where a route is saved and read back
- write_route_json(route, path) -> Path; read_route_json(path) -> Route.
- save_route(conn, route, user) -> id; latest_route(conn, case, origin) -> Route | None;
  routes_of_case(conn, case) -> list[RouteSummary]; stored_routes(conn) -> Iterator[Route].
- record_feedback(conn, case, origin, sighting_ids, "confirm"|"reject", user=None) -> int; feedback_for(...).

Outputs (relaytrack.relay.outputs)
- write_route_geojson(route, store, path), write_route_html(route, store, path, title=...),
  write_route_mot(route, store, out_dir, identity=1) -> list[Path] (one <camera>.txt each).

Evaluation (relaytrack.relay.evaluate)
- route_accuracy(route, truth_route, tolerance_s=2.0) -> {"sequence_accuracy" (share of the true camera
  sequence recovered in order), "exact_sequence", "hops_found", "hops_true", "hops_predicted", "precision",
  "recall"}; truth_route is truth.json's suspect["route"] (camera, start, end in source seconds).
- route_scores(route, truth_route, identities, suspect, tolerance_s=2.0) -> RouteScore (.precision, .recall,
  .f1, .hops, .correct, .visits, .covered, .duplicates, .origin_is_suspect, .to_dict()): by identity, the
  origin excluded. identities {sighting id: true person id} from relaytrack.bench.truth.route_identities.

Benchmarks (relaytrack.bench.relay): bench_towns(towns, dbs) -> per-town and mean route accuracy, legacy vs
robust (`relaytrack bench relay --town DIR1 --db DB1 --town DIR2 --db DB2 ... [--seeds 0]`).

Synthetic grid town for tests/benchmarks: relaytrack.relay.synth.generate(store, SynthConfig(...)) -> SynthTruth.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "import_network": "relay.network",
    "refine_links": "relay.network",
    "all_links": "relay.network",
    "camera_info": "relay.network",
    "read_network": "relay.network",
    "relay": "relay.engine",
    "Route": "relay.route",
    "Hop": "relay.route",
    "RelayConfig": "config",
    "record_feedback": "relay.persist",
    "feedback_for": "relay.persist",
    "write_route_json": "relay.persist",
    "read_route_json": "relay.persist",
    "write_route_geojson": "relay.outputs",
    "write_route_html": "relay.outputs",
    "write_route_mot": "relay.outputs",
    "route_accuracy": "relay.evaluate",
    "route_scores": "relay.evaluate",
    "RouteScore": "relay.evaluate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy: the store imports relay.schema while opening, and should not pull the whole relay stage in.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"relaytrack.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'relaytrack.relay' has no attribute {name!r}")
