"""The sqlite-vec index over sighting embeddings.

Its width comes from the embedder (recorded in meta on first use), never a constant; a store built with one
embedder refuses vectors of another width with a clear error.
"""

from __future__ import annotations

import numpy as np

from relaytrack.errors import StoreError

TABLE = "vec_sightings"


def dim(conn) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key='embedding_dim'").fetchone()
    return int(row[0]) if row else None


def ensure_index(conn, width: int) -> None:
    have = dim(conn)
    if have is None:
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0("
            f"sighting_id INTEGER PRIMARY KEY, embedding float[{int(width)}] distance_metric=cosine)"
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedding_dim', ?)", (str(int(width)),)
        )
    elif have != width:
        raise StoreError(
            f"embedding width {width} does not match this store's index ({have}); "
            "use the same embedder as the store was built with, or a new store"
        )


def add(conn, sighting_id: int, embedding: np.ndarray) -> None:
    vec = np.ascontiguousarray(embedding, dtype=np.float32).reshape(-1)
    ensure_index(conn, len(vec))
    conn.execute(
        f"INSERT OR REPLACE INTO {TABLE}(sighting_id, embedding) VALUES (?, ?)",
        (int(sighting_id), vec.tobytes()),
    )


def knn(conn, query: np.ndarray, k: int = 50) -> list[tuple[int, float]]:
    """Nearest sightings by cosine distance: [(sighting_id, distance)], nearest first."""
    if dim(conn) is None:
        return []
    vec = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    ensure_index(conn, len(vec))
    rows = conn.execute(
        f"SELECT sighting_id, distance FROM {TABLE} WHERE embedding MATCH ? AND k = ? ORDER BY distance",
        (vec.tobytes(), int(k)),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
