"""Links learned by the store itself after ingests (relay.auto_links): due only with enough person traffic on a
store of a learnable size, learned once and again only after the store has grown, off by configuration."""

from __future__ import annotations

from pathlib import Path

from test_learn_links import _planted

from relaytrack.config import Config, LinksConfig
from relaytrack.relay.auto_links import learned_from, maybe_learn, readiness


def _cfg(**kw) -> Config:
    return Config(links=LinksConfig(**kw))


def test_links_are_learned_once_the_traffic_is_there_and_again_after_growth(store_db: str, tmp_path: Path):
    store = _planted(store_db, tmp_path)  # 180 person sightings on A, B, C; people walk A -> B in ~70 s
    try:
        # The default floor is a deployment's: a planted afternoon is not enough.
        assert not readiness(store, Config()).due
        assert maybe_learn(store, Config()) is None
        cfg = _cfg(auto_min_sightings=150)
        ready = readiness(store, cfg)
        assert ready.due and ready.sightings == 180 and ready.learned_from == 0
        res = maybe_learn(store, cfg, ready=ready)
        assert res is not None and res["learned"] and res["links"] >= 1
        rows = store.conn.execute(
            "SELECT src, dst, mean_s FROM camera_links WHERE source='learned'"
        ).fetchall()
        ab = [r for r in rows if (r[0], r[1]) == ("A", "B")]
        assert (
            ab and 65.0 < ab[0][2] < 90.0
        )  # 70 +- 8 s walk plus the 8 s in view, estimated from the traffic
        assert learned_from(store.conn) == 180
        # Learned from 180: again only at 360 (auto_growth 2).
        again = readiness(store, cfg)
        assert not again.due and "again at 360" in again.reason
        assert readiness(store, _cfg(auto_min_sightings=150, auto_growth=1.1)).due is False
    finally:
        store.close()


def test_off_and_oversized_stores_are_left_alone(tmp_path: Path):
    store = _planted(str(tmp_path / "s.db"), tmp_path)
    try:
        off = readiness(store, _cfg(auto_learn=False, auto_min_sightings=50))
        assert not off.due and "auto_learn is off" in off.reason
        big = readiness(store, _cfg(auto_min_sightings=50, auto_max_cameras=2))
        assert not big.due and "3 cameras" in big.reason and "cameras links --learn" in big.reason
        assert (
            store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE source='learned'").fetchone()[0] == 0
        )
    finally:
        store.close()


def test_ingest_learns_links_when_due_and_audits_it(tmp_path: Path, capsys):
    from relaytrack.cli.ingest import learn_links_if_due

    store = _planted(str(tmp_path / "s.db"), tmp_path)
    try:
        learn_links_if_due(store, Config(), None, json_out=True)  # not due: nothing happens, nothing said
        assert "camera links" not in capsys.readouterr().err
        learn_links_if_due(store, _cfg(auto_min_sightings=150), None, json_out=True)
        assert "learned" in capsys.readouterr().err
        actions = [r[0] for r in store.conn.execute("SELECT action FROM audit_log")]
        assert actions.count("links-auto") == 1
        assert (
            store.conn.execute("SELECT COUNT(*) FROM camera_links WHERE source='learned'").fetchone()[0] >= 1
        )
    finally:
        store.close()
