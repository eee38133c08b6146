"""Tables and indexes owned by search and the city simulator.

- Indexes that let description search walk sightings attribute-combination by combination, best
  confidence first (see relaytrack.search.engine), and that serve overlap filters on time.
- sim_identities / sim_truth: ground truth of a simulated city (relaytrack.town.city): which identity each
  simulated sighting belongs to, so recall and route accuracy can be measured. Empty in real stores.
"""

MIGRATIONS = [
    (
        "001_search",
        """
        CREATE INDEX IF NOT EXISTS sightings_upper_conf ON sightings(kind, upper_color, lower_color, upper_conf);
        CREATE INDEX IF NOT EXISTS sightings_vehicle ON sightings(kind, vehicle_type, vehicle_color);
        CREATE INDEX IF NOT EXISTS sightings_wall_end ON sightings(wall_end);
        CREATE INDEX IF NOT EXISTS sightings_plate ON sightings(plate) WHERE plate IS NOT NULL;
        CREATE TABLE sim_identities (
            identity INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            upper_color TEXT, lower_color TEXT,
            items TEXT NOT NULL DEFAULT '[]',
            vehicle_type TEXT, vehicle_color TEXT, plate TEXT
        );
        CREATE TABLE sim_truth (
            sighting_id INTEGER PRIMARY KEY REFERENCES sightings(id) ON DELETE CASCADE,
            identity INTEGER NOT NULL
        );
        CREATE INDEX sim_truth_identity ON sim_truth(identity);
        CREATE INDEX IF NOT EXISTS sightings_lower_conf ON sightings(kind, lower_color, lower_conf);
        CREATE INDEX IF NOT EXISTS sightings_item_backpack ON sightings(kind, json_extract(items, '$."backpack"'));
        CREATE INDEX IF NOT EXISTS sightings_item_handbag ON sightings(kind, json_extract(items, '$."handbag"'));
        CREATE INDEX IF NOT EXISTS sightings_item_suitcase ON sightings(kind, json_extract(items, '$."suitcase"'));
        CREATE INDEX IF NOT EXISTS sightings_item_umbrella ON sightings(kind, json_extract(items, '$."umbrella"'));
        CREATE INDEX IF NOT EXISTS sightings_item_phone ON sightings(kind, json_extract(items, '$."cell phone"'));
        """,
    ),
    # Two-colour descriptions read each (upper, lower) combination by the sum of both confidences: the unread
    # rest is then bounded by both colours, not by the upper one alone (see engine._tiers).
    (
        "002_conf_sum",
        lambda conn: _index_now(
            conn, "sightings_conf_sum", "kind, upper_color, lower_color, (upper_conf + lower_conf)"
        ),
    ),
    # A description without a lower colour reads each upper colour in one run, not one per lower colour.
    (
        "003_upper_only",
        lambda conn: _index_now(conn, "sightings_upper_only", "kind, upper_color, upper_conf"),
    ),
    # An upper colour with a carried item reads by upper + item confidence (engine.upper_item_bound).
    ("004_upper_item", lambda conn: _upper_item_indexes(conn)),
    # The item indexes hold only rows that carry the item: the tiers ask for it (`... IS NOT NULL`) and read
    # best first, and PostgreSQL sorts NULLs first in a descending walk: a 10M store's "grey top, handbag"
    # walked 770,000 item-less index entries before its first row (3.7 s; SQLite sorts them last).
    ("005_partial_items", lambda conn: _partial_item_indexes(conn)),
    # A plate fragment is a substring (`LIKE '%456%'`): SQLite scans its small partial plate index; PostgreSQL
    # does too, at 0.5 s for a 10M store's million plates, unless a trigram index serves the LIKE.
    ("006_plate_trigrams", lambda conn: _plate_trigrams(conn)),
]

_ITEMS = {"backpack": "backpack", "handbag": "handbag", "suitcase": "suitcase", "umbrella": "umbrella",
          "cell phone": "phone"}  # fmt: skip


def _held(item: str) -> str:
    """An item's confidence in a row (NULL where it is not carried), as engine._item_expr says it."""
    return f"json_extract(items, '$.\"{item}\"')"


def _upper_item_indexes(conn) -> None:
    for item, slug in _ITEMS.items():
        _index_now(conn, f"sightings_upper_{slug}", f"kind, upper_color, (upper_conf + {_held(item)})")


def _partial_item_indexes(conn) -> None:
    for item, slug in _ITEMS.items():
        held = _held(item)
        for name, columns in (
            (f"sightings_upper_{slug}", f"kind, upper_color, (upper_conf + {held})"),
            (f"sightings_item_{slug}", f"kind, {held}"),
        ):
            conn.execute(f"DROP INDEX IF EXISTS {name}")
            _index_now(conn, name, columns, f"{held} IS NOT NULL")


def _plate_trigrams(conn) -> None:
    """PostgreSQL only: a trigram (pg_trgm, a trusted extension shipped with the server) index on the plates;
    where the extension cannot be created the search reads the plate index as before."""
    if getattr(conn, "backend", "sqlite") != "postgresql":
        return
    try:
        conn.execute("SAVEPOINT plate_trgm")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 - the server's reason does not matter: the search works without it
        conn.execute("ROLLBACK TO SAVEPOINT plate_trgm")
        return
    conn.execute("RELEASE SAVEPOINT plate_trgm")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS sightings_plate_trgm ON sightings USING gin (plate gin_trgm_ops)"
        " WHERE plate IS NOT NULL"
    )
    conn.execute("ANALYZE sightings")


def _index_now(conn, name: str, columns: str, where: str | None = None) -> None:
    """Create an index on sightings and tell the planner of it at once: SQLite would otherwise take a new,
    statistics-less index for other queries on kind (a 4M store's item search went from 5 ms to 30 s)."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON sightings({columns})" + (f" WHERE {where}" if where else "")
    )
    if getattr(conn, "backend", "sqlite") == "postgresql":
        conn.execute("ANALYZE sightings")
    elif conn.execute("SELECT 1 FROM sqlite_master WHERE name='sqlite_stat1'").fetchone():
        conn.execute(f"ANALYZE {name}")  # only where the store has statistics already
