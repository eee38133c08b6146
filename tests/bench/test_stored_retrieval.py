"""The relay bench's re-identification of stored sightings: the store's own vectors scored by identity."""

import numpy as np

from relaytrack.bench.truth import stored_retrieval
from relaytrack.records import Sighting
from relaytrack.store import Store
from relaytrack.store import sightings as st


def _person(camera: str, source_id: int, track: int, vec: np.ndarray) -> Sighting:
    return Sighting(
        id=0, camera=camera, source_id=source_id, track_id=track, kind="person", class_name="person",
        start=float(track), end=track + 2.0, first_frame=track, last_frame=track + 5,
        wall_start=1_700_000_000.0 + track, wall_end=1_700_000_002.0 + track, box=(1.0, 2.0, 30.0, 60.0),
        entry_edge="left", exit_edge="right", heading_deg=90.0, speed_px_s=12.0,
        upper_color="red", upper_conf=0.8, lower_color="black", lower_conf=0.7, items={},
        vehicle_type=None, vehicle_color=None, plate=None, embedding=(vec / np.linalg.norm(vec)).astype(np.float32),
    )  # fmt: skip


def test_stored_sightings_are_scored_across_cameras_by_identity(tmp_path):
    e = np.eye(16)
    people = {1: e[0], 2: e[1], 3: e[2]}
    ids: dict[int, int | None] = {}
    with Store(tmp_path / "s.db") as s, s.tx() as conn:
        for cam in ("C1", "C2"):
            st.ensure_camera(conn, cam)
            src = conn.execute(
                "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height, frames_total, "
                "status) VALUES (?,?,?,?,?,?,?,?,?)", (cam, f"/v/{cam}.mp4", cam, 1.7e9, 10.0, 640, 360, 100, "complete"),
            ).lastrowid  # fmt: skip
            for p, v in people.items():
                # Person 3 on C2 looks like person 1: that query (and only that one) goes wrong at rank 1.
                vec = e[0] + 0.2 * e[2] if (cam, p) == ("C2", 3) else v
                ids[st.insert_sighting(conn, _person(cam, src, p, vec))] = p
            ids[st.insert_sighting(conn, _person(cam, src, 9, e[5]))] = None  # nobody known
        res = stored_retrieval(conn, ids)
    assert res is not None and res.queries == 6 and res.gallery == 6
    assert abs(res.rank1 - 5 / 6) < 1e-9 and res.rank5 == 1.0
    with Store(tmp_path / "s.db") as s:
        assert stored_retrieval(s.conn, {}) is None  # no known person: nothing to score
