"""Suspect search: by description (Korean/English free text or structured) and by example (photo, sighting).

Public API (for `relaytrack demo`, the service and relay):

- `relaytrack.search.query.parse_text(text) -> Query`: parse "빨간 상의에 검은 바지, 백팩" or
  "red top, black trousers, backpack" into a Query(kind, upper, lower, items, vehicle_type, vehicle_color, plate,
  time_from/time_to (epoch), tod_from/tod_to (seconds after KST midnight), cameras, districts).
  `Query.human()` is the one-line echo for the operator, `Query.to_json()` the JSON one, `Query.structure()`
  the comparable content. Raises InputError on empty/oversize text. `parse_iso(s)` for --from/--to.
- `relaytrack.search.engine.search_description(conn, query, top=20, filters=Filters(...)) -> SearchResult`:
  exact top-K by attribute score (see score.py), read best-first through indexes (no full scan).
- `engine.search_example(conn, vector, top=20, filters=None, attrs=None, exclude=None) -> SearchResult`:
  nearest by embedding through the vector index (IVF on large stores), filtered, blended with attribute
  agreement when `attrs` (a Query) is given.
- `engine.search_sighting(conn, sighting_id, top=20, filters=None) -> SearchResult`: look-alikes of a stored
  sighting (itself excluded); NotFound for an unknown id.
- `engine.embed_image(path, cfg=None) -> np.ndarray`: embedding of the largest person in a photo; InputError
  when there is none.
- `SearchResult(hits: list[Hit], query: dict, message: str | None, stats: dict)`; `Hit(sighting, score,
  reasons)`, `Hit.public()` = the CLI JSON item {"sighting", "camera", "start", "end", "frames", "box",
  "start_time", "end_time", "score", "reasons"} (`start`/`end` seconds into the clip, `*_time` Seoul ISO). An empty store or a window outside the recordings gives no hits and a `message`.
- `engine.Filters(time_from, time_to, tod_from, tod_to, cameras, districts, kind)`: hard filters.
- `relaytrack.search.score`: `score_columns(query, Columns)`, `score_rows(query, rows)`, `reasons(...)`.
- Scale: `relaytrack.town.city.simulate_city(db_path, cameras=10_000, sightings=1_000_000, seed=0, dim=128,
  *, hours=24.0, start=..., links=True, progress=None) -> dict` fills a new store with a simulated city on
  real Seoul camera sites, with ground truth in sim_identities / sim_truth(sighting_id, identity) and map
  links in camera_links. `relaytrack.store.vectors.build_ivf(conn)` (re)builds the vector index.
- `relaytrack.bench.search.run_bench(db, sightings=, cameras=, queries=, top=, nprobe=, seed=) -> dict`.

CLI: `relaytrack search (--text T | --image F | --sighting ID) [--top K] [--from ISO] [--to ISO]
[--camera ID ...] [--kind person|vehicle] [--db PATH] [--user U --case C] [--json]`,
`relaytrack city simulate --db PATH [--cameras N] [--sightings N] [--seed S] [--dim D] [--hours H]`,
`relaytrack city index [--db PATH]`, `relaytrack bench search [--db PATH] [--sightings N] [--queries Q]`.
"""
