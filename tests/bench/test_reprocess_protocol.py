"""`bench reprocess`'s protocol: held-out runs score exactly the relay bench's held-out towns, tuning runs refuse
them, and the conditions are pooled over towns (micro F1, frames against the full-rate index) and judged against
the target as written (|dF1| <= 0.02) and one-sidedly (not more than 0.02 below)."""

from __future__ import annotations

import pytest

from relaytrack.bench import reprocess
from relaytrack.bench.seeds import HELD_OUT, HeldOutSeedError


def _relay(hops: int, correct: int, visits: int, covered: int, frames: int = 0) -> dict:
    score = {"routes": 1, "hops": hops, "correct": correct, "visits": visits, "covered": covered}
    return {"score": score, "reprocess_frames": frames}


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    """Two towns: at full rate 3 of 3 hops right, 3 of 4 visits; at the low rate 2 of 3, 2 of 4; re-processing
    the origin 3 of 3, 3 of 4 for 50 frames; re-processing windows the same for 900."""
    import relaytrack.town as town_mod

    monkeypatch.setattr(town_mod, "generate", lambda **kw: kw["out_dir"])

    def condition(seed, opts, tdir, db, low, say):
        if not low:
            return {"ingest_frames": 1000, "relay": _relay(3, 3, 4, 3)}
        return {
            "ingest_frames": 150,
            "relay": _relay(3, 2, 4, 2),
            "reprocess_origin": _relay(3, 3, 4, 3, 50),
            "reprocess_window": _relay(3, 3, 4, 3, 900),
        }

    monkeypatch.setattr(reprocess, "run_condition", condition)
    return reprocess.Options(around=("origin", "window")), tmp_path


def test_conditions_are_pooled_and_judged(scripted) -> None:
    opts, work = scripted
    res = reprocess.run([7, 11], opts, work, say=lambda m: None)
    c = res["conditions"]
    assert c["full"]["frames"] == 2000 and c["low"]["frames"] == 300
    assert c["reprocess_origin"]["frames"] == 400 and c["reprocess_origin"]["frames_ratio"] == pytest.approx(
        0.2
    )
    assert c["reprocess_origin"]["f1"] == pytest.approx(c["full"]["f1"])
    assert c["reprocess_origin"]["met"] and c["reprocess_origin"]["no_worse"]
    # Same F1 at 2,100 of 2,000 frames: not within the frames asked.
    assert not c["reprocess_window"]["met"] and not c["reprocess_window"]["no_worse"]
    assert not c["low"]["met"] and not c["low"]["no_worse"] and c["low"]["f1_delta"] < -0.02
    assert res["met"]


def test_held_out_runs_score_exactly_the_held_out_towns(scripted) -> None:
    opts, work = scripted
    with pytest.raises(ValueError, match="held-out runs score exactly"):
        reprocess.run([601], opts, work, say=lambda m: None, held_out=True)
    with pytest.raises(HeldOutSeedError):
        reprocess.run([601], opts, work, say=lambda m: None)
    res = reprocess.run(list(reprocess.REPROCESS_HELD_OUT), opts, work, say=lambda m: None, held_out=True)
    assert res["held_out"] and [t["seed"] for t in res["towns"]] == list(reprocess.REPROCESS_HELD_OUT)
    # The six this bench was scored on, not the relay's later held-out towns.
    assert list(reprocess.REPROCESS_HELD_OUT) == list(HELD_OUT["relay-towns"][:6])


def test_a_store_is_reused_only_at_the_rate_asked(tmp_path) -> None:
    from relaytrack.store import Store
    from relaytrack.store.sightings import ensure_camera

    db = tmp_path / "town-low.db"
    with Store(db) as st, st.tx() as conn:
        for k, cam in enumerate(("C01", "C02")):
            ensure_camera(conn, cam)
            conn.execute(
                "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, analysed_fps, width, height,"
                " frames_total, status) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (cam, f"{cam}.mp4", f"f{k}", 0.0, 10.0, 1.0, 640, 360, 600, "complete"),
            )
    assert reprocess.complete_at(db, 1.0, 2)
    assert not reprocess.complete_at(db, 2.0, 2)  # a --low-fps 2 run ingests again
    assert not reprocess.complete_at(db, 1.0, 3)  # a camera missing: not complete
