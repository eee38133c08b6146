import time

import numpy as np

from relaytrack.evidence import access as acc
from relaytrack.evidence import audit, retention
from relaytrack.store import vectors

OLD = time.time() - 90 * 86400
NEW = time.time() - 3600


def _count(store, table):
    return store.one(f"SELECT COUNT(*) FROM {table}")[0]


def test_purge_old_unheld_keeps_held_and_new(store, add_sightings):
    old = add_sightings(store, uri="old.mp4", n=3, wall=OLD)
    new = add_sightings(store, uri="new.mp4", n=2, wall=NEW)
    with store.tx() as conn:
        for sid in old + new:
            vectors.add(conn, sid, np.ones(8, np.float32))
        acc.hold_sightings(conn, "C-1", [old[0]])
    assert retention.vector_tables(store.conn) == ["vec_sightings"]
    dry = retention.purge(store.conn, store.path, days=30, dry_run=True)
    assert (dry.sightings, dry.held, dry.boxes, dry.thumbnails) == (2, 1, 20, 2)
    assert _count(store, "sightings") == 5
    res = retention.purge(store.conn, store.path, days=30)
    assert res.sightings == 2 and res.other_rows["vec_sightings"] == 2
    left = {r[0] for r in store.query("SELECT id FROM sightings")}
    assert left == {old[0], *new}
    assert _count(store, "boxes") == 30 and _count(store, "thumbnails") == 3
    assert {r[0] for r in store.query("SELECT sighting_id FROM vec_sightings")} == left
    assert store.one("SELECT COUNT(*) FROM audit_log WHERE action='purge'")[0] == 2
    assert audit.verify(store.conn, store.path).ok


def test_closed_case_or_released_hold_no_longer_protects(store, add_sightings):
    old = add_sightings(store, uri="old.mp4", n=2, wall=OLD)
    acc.hold_sightings(store.conn, "C-1", old)
    assert retention.purge(store.conn, store.path, days=30).sightings == 0
    acc.set_case_status(store.conn, "C-1", status="closed")
    assert retention.purge(store.conn, store.path, days=30).sightings == 2


def test_period_from_meta(store, add_sightings, monkeypatch):
    add_sightings(store, uri="old.mp4", n=1, wall=OLD)
    store.conn.execute("INSERT INTO meta(key, value) VALUES ('retention_days', '120')")
    assert retention.purge(store.conn, store.path, dry_run=True).days == 120
    assert retention.purge(store.conn, store.path).sightings == 0


def test_cli_purge_requires_right_when_user_given(store, add_sightings):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    add_sightings(store, uri="old.mp4", n=1, wall=OLD)
    store.close()
    r = CliRunner().invoke(app, ["retention", "purge", "--days", "30", "--user", "kim", "--db", store.url])
    assert r.exit_code != 0
    r = CliRunner().invoke(
        app, ["retention", "purge", "--days", "30", "--dry-run", "--db", store.url, "--json"]
    )
    assert r.exit_code == 0 and '"sightings": 1' in r.output
    r = CliRunner().invoke(app, ["retention", "purge", "--days", "30", "--user", "park", "--db", store.url])
    assert r.exit_code == 0, r.output
