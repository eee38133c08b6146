"""The store: SQLite (WAL) with named, recorded migrations and a sqlite-vec vector index."""

from relaytrack.store.db import Store, connect, on_commit

__all__ = ["Store", "connect", "on_commit"]
