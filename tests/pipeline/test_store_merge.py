"""Merging shard stores: ids remapped (boxes, thumbnails and vectors follow), idempotent, source progress."""

import json
import subprocess
import sys

import numpy as np
import pytest

from relaytrack.errors import StoreError
from relaytrack.records import Sighting
from relaytrack.store import Store, vectors
from relaytrack.store import sightings as st
from relaytrack.store.merge import merge_shard

DIM = 16


def _vec(seed: int, dim: int = DIM) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _sighting(camera: str, source_id: int, track: int, seed: int, dim: int = DIM) -> Sighting:
    t0 = float(track)
    return Sighting(
        id=0, camera=camera, source_id=source_id, track_id=track, kind="person", class_name="person",
        start=t0, end=t0 + 2.0, first_frame=track * 10, last_frame=track * 10 + 5,
        wall_start=1_700_000_000.0 + t0, wall_end=1_700_000_002.0 + t0, box=(1.0, 2.0, 30.0, 60.0),
        entry_edge="left", exit_edge="right", heading_deg=90.0, speed_px_s=12.0,
        upper_color="red", upper_conf=0.8, lower_color="black", lower_conf=0.7, items={"backpack": 0.9},
        vehicle_type=None, vehicle_color=None, plate=None, embedding=_vec(seed, dim),
    )  # fmt: skip


def _make_store(path, camera, fingerprint, tracks, *, status="complete", ckpt=0, seed0=0, dim=DIM):
    with Store(path) as s, s.tx() as conn:
        st.ensure_camera(conn, camera)
        conn.execute("UPDATE cameras SET width=640, height=360 WHERE id=?", (camera,))
        src = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height, frames_total, status,"
            " checkpoint_frame, checkpoint_state) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (camera, f"/videos/{camera}.mp4", fingerprint, 1_700_000_000.0, 10.0, 640, 360, 100, status, ckpt,
             b"state" if status == "running" else None),
        ).lastrowid  # fmt: skip
        for t in tracks:
            boxes = [(t * 10 + i, float(i), 1.0 + i, 2.0, 30.0, 60.0, 0.9) for i in range(6)]
            st.insert_sighting(conn, _sighting(camera, src, t, seed0 + t, dim), boxes=boxes,
                               thumbnail_jpeg=f"jpeg-{camera}-{t}".encode(), best_frame=t * 10 + 2)  # fmt: skip


def _key_rows(store: Store):
    return {
        (r["camera_id"], r["fingerprint"], r["track_id"]): r["id"]
        for r in store.query(
            "SELECT s.id, s.camera_id, s.track_id, src.fingerprint FROM sightings s"
            " JOIN sources src ON src.id = s.source_id"
        )
    }


def test_merge_remaps_ids_and_is_idempotent(tmp_path):
    main_p, a_p, b_p = tmp_path / "main.db", tmp_path / "a.db", tmp_path / "b.db"
    _make_store(main_p, "M1", "fp-m", [1, 2, 3], seed0=100)  # ids 1..3 already taken in main
    _make_store(a_p, "A1", "fp-a", [1, 2, 5], seed0=200)
    _make_store(b_p, "B1", "fp-b", [4, 7], seed0=300)

    with Store(main_p) as main:
        rep_a = merge_shard(main, a_p)
        rep_b = merge_shard(main, b_p)
        assert (rep_a.sightings, rep_a.sources, rep_a.cameras, rep_a.skipped) == (3, 1, 1, 0)
        assert (rep_b.sightings, rep_b.boxes, rep_b.thumbnails, rep_b.vectors) == (2, 12, 2, 2)
        keys = _key_rows(main)
        assert len(keys) == 8 and len(set(keys.values())) == 8  # no id collided or was reused

        with Store(a_p) as shard:
            for r in shard.query("SELECT id, track_id FROM sightings"):
                new_id = keys[("A1", "fp-a", r["track_id"])]
                # The shard's id 1..3 would have pointed at main's own M1 sightings: the copy got fresh ids.
                assert new_id not in {keys[("M1", "fp-m", t)] for t in (1, 2, 3)}
                assert st.boxes_of(main.conn, new_id) == st.boxes_of(shard.conn, r["id"])
                assert st.thumbnail(main.conn, new_id) == f"jpeg-A1-{r['track_id']}".encode()
                got = main.one(f"SELECT embedding FROM {vectors.TABLE} WHERE sighting_id=?", (new_id,))[0]
                assert np.array_equal(np.frombuffer(got, np.float32), _vec(200 + r["track_id"]))
                # The vector index answers with the new id.
                assert vectors.knn(main.conn, _vec(200 + r["track_id"]), k=1)[0][0] == new_id
                s = st.get_sighting(main.conn, new_id)
                assert s.camera == "A1" and s.items == {"backpack": 0.9} and s.upper_color == "red"
        src_row = main.one("SELECT status, width, frames_total FROM sources WHERE camera_id='A1'")
        assert tuple(src_row) == ("complete", 640, 100)
        assert main.one("SELECT width FROM cameras WHERE id='B1'")[0] == 640

        before = (main.one("SELECT count(*) FROM sightings")[0], main.one("SELECT count(*) FROM boxes")[0],
                  vectors.count(main.conn), main.one("SELECT count(*) FROM sources")[0])  # fmt: skip
        again = merge_shard(main, a_p)
        assert (again.sightings, again.skipped, again.sources, again.cameras) == (0, 3, 0, 0)
        after = (main.one("SELECT count(*) FROM sightings")[0], main.one("SELECT count(*) FROM boxes")[0],
                 vectors.count(main.conn), main.one("SELECT count(*) FROM sources")[0])  # fmt: skip
        assert after == before
        assert _key_rows(main) == keys


def test_merge_of_a_partial_then_complete_shard(tmp_path):
    main_p, part_p, full_p = tmp_path / "main.db", tmp_path / "part.db", tmp_path / "full.db"
    Store(main_p).close()
    _make_store(part_p, "C1", "fp-c", [1, 2], status="running", ckpt=40)
    _make_store(full_p, "C1", "fp-c", [1, 2, 3, 4], status="complete", ckpt=100)
    with Store(main_p) as main:
        merge_shard(main, part_p)
        row = main.one("SELECT status, checkpoint_frame, checkpoint_state FROM sources")
        assert tuple(row) == ("running", 40, b"state")  # resumable where the shard stopped
        rep = merge_shard(main, full_p)
        assert (rep.sightings, rep.skipped, rep.sources) == (2, 2, 0)
        row = main.one("SELECT status, checkpoint_frame, checkpoint_state FROM sources")
        assert tuple(row) == ("complete", 100, None)
        assert sorted(r[0] for r in main.query("SELECT track_id FROM sightings")) == [1, 2, 3, 4]
        # A partial shard merged after completion does not take the source back.
        merge_shard(main, part_p)
        assert main.one("SELECT status FROM sources")[0] == "complete"


def test_merge_refuses_bad_shards(tmp_path):
    main_p = tmp_path / "main.db"
    _make_store(main_p, "M1", "fp-m", [1])
    other = tmp_path / "wide.db"
    _make_store(other, "W1", "fp-w", [1], dim=32)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all " * 50)
    with Store(main_p) as main:
        with pytest.raises(StoreError, match="embedding width 32"):
            merge_shard(main, other)
        assert main.one("SELECT count(*) FROM sightings")[0] == 1  # refused before writing anything
        with pytest.raises(StoreError, match="junk.db"):
            merge_shard(main, junk)
        with pytest.raises(StoreError, match="no such shard"):
            merge_shard(main, tmp_path / "missing.db")
        with pytest.raises(StoreError, match="into itself"):
            merge_shard(main, main_p)


def test_store_merge_cli(tmp_path):
    main_p, a_p = tmp_path / "main.db", tmp_path / "a.db"
    Store(main_p).close()
    _make_store(a_p, "A1", "fp-a", [1, 2])
    cmd = [sys.executable, "-m", "relaytrack.cli", "store", "merge", str(a_p), "--db", str(main_p), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    (rep,) = json.loads(out.stdout)
    assert rep["sightings"] == 2 and rep["vectors"] == 2 and rep["shard"] == str(a_p)
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert json.loads(out.stdout)[0]["sightings"] == 0
    bad = subprocess.run(
        [*cmd[:5], str(tmp_path / "nope.db"), "--db", str(main_p)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "nope.db" in bad.stderr
