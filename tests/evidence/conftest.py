"""Fixtures for the evidence tests: an isolated home (keys) and a small store with users and a case, on each
backend (a SQLite file, then a PostgreSQL database): `store.url` names it for the CLI, `store.path` is where
its side files (audit anchor, head journal) live."""

from __future__ import annotations

import pytest

from relaytrack.evidence import access as acc
from relaytrack.evidence import audit
from relaytrack.store import Store


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("RELAYTRACK_HOME", str(home))
    monkeypatch.delenv("RELAYTRACK_AUDIT_KEY", raising=False)
    monkeypatch.delenv("RELAYTRACK_USER", raising=False)
    monkeypatch.delenv("RELAYTRACK_CASE", raising=False)
    return home


@pytest.fixture
def store(store_db):
    s = Store(store_db)
    with s.tx() as conn:
        acc.create_user(conn, "kim", "investigator")
        acc.create_user(conn, "lee", "investigator")
        acc.create_user(conn, "park", "supervisor")
        acc.create_user(conn, "op", "operator")
        acc.create_user(conn, "aud", "auditor")
        acc.create_user(conn, "police1", "agency", agency="police")
        acc.create_case(conn, "C-1", legal_basis="warrant 2026-1", purpose="drug courier", members=["kim"])
        acc.create_case(conn, "C-2", legal_basis="warrant 2026-2", purpose="theft", members=["lee"])
        audit.append(conn, s.path, user=None, case=None, action="case_admin", detail={"setup": True})
    yield s
    s.close()


def _add_sightings(
    store: Store, camera: str = "CAM1", uri: str = "video.mp4", n: int = 3, wall: float = 1_700_000_000.0
) -> list[int]:
    """n sightings of one source with one box per frame for frames 1..10 (test factory)."""
    with store.tx() as conn:
        conn.execute("INSERT OR IGNORE INTO cameras(id, name) VALUES (?, ?)", (camera, camera))
        cur = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height)"
            " VALUES (?,?,?,?,?,?,?)",
            (camera, uri, f"fp-{uri}-{wall}", wall, 10.0, 64, 48),
        )
        src = cur.lastrowid
        ids = []
        for k in range(n):
            cur = conn.execute(
                "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame,"
                " last_frame, wall_start, wall_end, box_x, box_y, box_w, box_h) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    camera,
                    src,
                    k + 1,
                    "person",
                    "person",
                    0.0,
                    0.9,
                    1,
                    10,
                    wall,
                    wall + 0.9,
                    5 + 15 * k,
                    5,
                    10,
                    30,
                ),
            )
            sid = cur.lastrowid
            ids.append(sid)
            conn.executemany(
                "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
                [(sid, f, (f - 1) / 10, 5 + 15 * k + f, 5, 10, 30, 0.9) for f in range(1, 11)],
            )
            conn.execute("INSERT INTO thumbnails(sighting_id, jpeg) VALUES (?, ?)", (sid, b"\xff\xd8\xff"))
    return ids


@pytest.fixture
def add_sightings():
    return _add_sightings
