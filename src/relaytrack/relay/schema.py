"""Tables owned by this stage (see relaytrack.store.db for how migrations are applied).

- camera_links: the camera network's edges. A link says "leaving `src` by `exit_edge` leads to `dst`, entering
  it by `entry_edge`, after a travel time with this distribution". `prior_*` keep the map (or file) estimate so
  refinement from confirmed hops can always be recomputed from scratch.
- relay_feedback: operator verdicts (confirm/reject) on sightings of a route, tied to the case and the route's
  origin sighting.
- relay_routes: routes computed for a case (JSON), kept so their confident hops can refine travel times.
- 002_learned_links: links learned from unlabelled traffic (source='learned', relay/learn_links.py) keep how
  many transitions over chance support them and how significant that excess is.
"""

MIGRATIONS = [
    (
        "001_relay",
        """
        CREATE TABLE camera_links (
            id INTEGER PRIMARY KEY,
            src TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
            dst TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
            exit_edge TEXT NOT NULL DEFAULT '',     -- '' = any edge
            entry_edge TEXT NOT NULL DEFAULT '',
            mode TEXT NOT NULL DEFAULT 'walk',      -- walk | drive
            mean_s REAL NOT NULL, std_s REAL NOT NULL,
            min_s REAL NOT NULL DEFAULT 0, max_s REAL,
            source TEXT NOT NULL DEFAULT 'map',     -- map | file | data
            prior_mean_s REAL NOT NULL, prior_std_s REAL NOT NULL,
            n_obs INTEGER NOT NULL DEFAULT 0,
            distance_m REAL,
            UNIQUE (src, dst, exit_edge, mode)
        );
        CREATE INDEX camera_links_dst ON camera_links(dst);
        CREATE TABLE relay_feedback (
            id INTEGER PRIMARY KEY,
            case_no TEXT NOT NULL,
            origin_id INTEGER NOT NULL,             -- the sighting the route was started from
            sighting_id INTEGER NOT NULL,
            verdict TEXT NOT NULL,                  -- confirm | reject
            user_name TEXT,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec')),
            UNIQUE (case_no, origin_id, sighting_id)
        );
        CREATE TABLE relay_routes (
            id INTEGER PRIMARY KEY,
            case_no TEXT,
            origin_id INTEGER NOT NULL,
            user_name TEXT,
            route TEXT NOT NULL,                    -- JSON as written by write_route_json
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE INDEX relay_routes_case ON relay_routes(case_no, origin_id);
        """,
    ),
    (
        "002_learned_links",
        """
        ALTER TABLE camera_links ADD COLUMN support REAL;   -- learned: excess transitions over the shuffled baseline
        ALTER TABLE camera_links ADD COLUMN z REAL;         -- learned: Poisson z of that excess
        """,
    ),
]
