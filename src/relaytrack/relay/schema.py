"""Tables owned by this stage (see relaytrack.store.db for how migrations are applied)."""

MIGRATIONS: list = []
