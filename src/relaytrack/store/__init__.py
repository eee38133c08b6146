"""The store: SQLite (WAL) with named, recorded migrations and a sqlite-vec vector index."""

from relaytrack.store.db import Store, connect

__all__ = ["Store", "connect"]
