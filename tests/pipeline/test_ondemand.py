"""On-demand re-processing: window -> frame range, superseding the low-rate sightings, each window once, and
the relay's refine hook (off by default)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from relaytrack.config import load_config
from relaytrack.pipeline.ingest import ingest
from relaytrack.pipeline.ondemand import covered, frame_range, plan_window
from relaytrack.pipeline.reprocessor import Reprocessor
from relaytrack.pipeline.session import Stages
from relaytrack.records import PERSON, Detections
from relaytrack.store import Store

W, H, FPS, N = 320, 240, 10, 120  # 12 s of footage at 10 fps
START = 1_700_000_000.0


class ScriptedDetector:
    """One person walking right across the whole clip: no model needed."""

    def detect(self, image: np.ndarray) -> Detections:
        i = int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])  # the frame index is painted into the image
        boxes = [[10 + 2 * i, 60, 40 + 2 * i, 140]]
        return Detections(np.array(boxes, np.float32), np.full(1, 0.9), np.full(1, PERSON))


@pytest.fixture
def clip(tmp_path):
    d = tmp_path / "C1"
    (d / "img1").mkdir(parents=True)
    (d / "seqinfo.ini").write_text(f"[Sequence]\nframeRate={FPS}\n", encoding="utf-8")
    for i in range(1, N + 1):
        img = np.full((H, W, 3), 120, np.uint8)
        img[0, 0, 0], img[0, 0, 1] = i % 256, i // 256
        img[100:120, (2 * i) % W : (2 * i) % W + 10] = 250  # motion, so a gated index keeps frames
        cv2.imwrite(str(d / "img1" / f"{i:06d}.png"), img)
    return d


def low_index(tmp_path, clip, detector) -> tuple[Store, Stages]:
    """The clip indexed at 2 fps with `detector` (no model): a store and the stages that filled it."""
    store = Store(tmp_path / "s.db")
    cfg = load_config(None, {"source.analyse_fps": 2.0})
    stages = Stages(cfg, detector, None)  # type: ignore[arg-type]
    ingest(store, str(clip), "C1", cfg, stages, start_wall=START)
    return store, stages


def test_window_maps_to_frames():
    # Frame i is at START + (i - 1) / FPS.
    assert frame_range(START, 10, 600, START + 2.0, START + 3.0) == (21, 31)
    assert frame_range(START, 10, 600, START - 5.0, START + 0.05) == (1, 2)
    assert frame_range(START, 10, 600, START + 59.0, START + 99.0) == (591, 600)
    assert frame_range(START, 10, 600, START - 9.0, START - 1.0) is None
    assert frame_range(START, 10, 600, START + 70.0, START + 80.0) is None
    assert covered([(0, 5), (4, 10)], 1, 9) and not covered([(0, 5), (6, 10)], 1, 9)


def test_reprocess_supersedes_low_rate_sightings_once(tmp_path, clip):
    store = Store(tmp_path / "s.db")
    cfg = load_config(None, {"source.analyse_fps": 2.0, "source.motion_gate": True})
    stages = Stages(cfg, ScriptedDetector(), None)  # type: ignore[arg-type]
    res = ingest(store, str(clip), "C1", cfg, stages, start_wall=START)
    assert res.status == "complete" and res.frames <= N // 4
    low = {r[0] for r in store.query("SELECT id FROM sightings")}
    assert low, "the low-rate index keeps the walker"

    re = Reprocessor(store, load_config(None), stages=stages)
    assert re.needs("C1") and not re.needs("C9")
    re("C1", START + 4.0, START + 6.0)
    w = re.windows[0]
    # The window is widened to cover the low-rate tracklet it overlaps whole, within max_extend_s.
    assert w.frame_lo <= 31 and w.frame_hi >= 71 and w.frames == w.frame_hi - w.frame_lo + 1
    assert w.sightings >= 1 and w.superseded >= 1
    rows = store.query("SELECT id, superseded_by, source_id FROM sightings ORDER BY id")
    assert {r[0] for r in rows} >= low  # nothing deleted
    assert all(r[1] == w.id for r in rows if r[0] in low and r[1] is not None)
    fresh = [r for r in rows if r[2] == w.source_id]
    assert fresh and all(r[1] is None for r in fresh)
    src = store.one("SELECT reprocess_of, analysed_fps, status FROM sources WHERE id=?", (w.source_id,))
    assert src[0] == res.source_id and src[1] == FPS and src[2] == "complete"
    # The same window (or one inside it) is done once.
    re("C1", START + 4.5, START + 5.5)
    assert len(re.windows) == 1
    # A request overlapping a done window plans only footage after it: padding and widening never reach
    # back over it (they did, a little wider each time).
    assert w.wall_hi < START + 11.85, "the clip leaves footage after the first window"
    nxt = plan_window(store.conn, "C1", w.wall_hi - 0.5, START + 11.9)
    assert nxt is not None and nxt[1].wall_lo >= w.wall_hi - 1e-6
    assert store.one("SELECT COUNT(*) FROM reprocessed")[0] == 1
    # A camera indexed at the full rate is never re-processed.
    assert not Reprocessor(store, load_config(None), fps=2.0, stages=stages).needs("C1")
    store.close()


def test_relay_hook_is_called_before_reading_and_off_by_default(tmp_path, clip):
    from relaytrack.config import RelayConfig
    from relaytrack.relay.candidates import CandidateFinder
    from relaytrack.store.sightings import get_sighting

    store = Store(tmp_path / "s.db")
    cfg = load_config(None, {"source.analyse_fps": 2.0})
    ingest(store, str(clip), "C1", cfg, Stages(cfg, ScriptedDetector(), None), start_wall=START)  # type: ignore[arg-type]
    sid = store.one("SELECT MIN(id) FROM sightings")[0]
    origin = get_sighting(store.conn, sid)
    seen = []
    plain = CandidateFinder(store.conn, origin, RelayConfig(), set(), set())
    hooked = CandidateFinder(
        store.conn, origin, RelayConfig(), set(), set(), refine=lambda *a: seen.append(a)
    )
    assert plain.refine is None
    a = plain._query("C1", START - 1, START + 20, set())
    b = hooked._query("C1", START - 1, START + 20, set())
    assert [s.id for s in a] == [s.id for s in b] and seen == [("C1", START - 1, START + 20)]
    with store.tx() as conn:
        conn.execute("UPDATE sightings SET superseded_by=1")
    assert plain._query("C1", START - 1, START + 20, set()) == []  # superseded sightings are not read
    store.close()


def test_reprocess_around_sightings_only_touches_their_spans(tmp_path, clip):
    store, stages = low_index(tmp_path, clip, ScriptedDetector())
    re = Reprocessor(store, load_config(None), stages=stages, around="sightings")
    re("C1", START + 60.0, START + 90.0)  # nobody starts there (and the clip ends at 12 s)
    assert re.windows == [] and re.frames == 0
    first = store.one("SELECT MIN(wall_start), MIN(wall_end) FROM sightings")
    re("C1", START - 1.0, START + 1.0)
    assert len(re.windows) == 1 and re.windows[0].wall_lo <= first[0] and re.windows[0].wall_hi >= first[1]
    re("C1", START - 1.0, START + 1.5)  # its own full-rate sightings are not spans to re-process again
    assert len(re.windows) == 1
    store.close()


class TwoWalkers:
    """One person in the first 5 s, another from 9 s on (the first long gone): two low-rate sightings."""

    def detect(self, image: np.ndarray) -> Detections:
        i = int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])
        if i <= 50:
            boxes = [[10 + 2 * i, 60, 40 + 2 * i, 140]]
        else:
            boxes = [] if i < 90 else [[300 - 2 * (i - 90), 50, 330 - 2 * (i - 90), 140]]
        xyxy = np.array(boxes, np.float32).reshape(-1, 4)
        return Detections(xyxy, np.full(len(boxes), 0.9), np.full(len(boxes), PERSON))


def test_reprocess_around_look_only_touches_the_likeliest(tmp_path, clip):
    from relaytrack.store.sightings import get_sighting

    store, stages = low_index(tmp_path, clip, TwoWalkers())
    rows = store.query("SELECT id, wall_start, wall_end FROM sightings ORDER BY wall_start")
    assert len(rows) == 2
    (first, a0, a1), (second, b0, b1) = rows
    like, unlike = np.array([1, 0, 0], np.float32), np.array([0, 1, 0], np.float32)
    with store.tx() as conn:
        conn.execute("UPDATE sightings SET embedding=? WHERE id=?", (unlike.tobytes(), first))
        conn.execute("UPDATE sightings SET embedding=? WHERE id=?", (like.tobytes(), second))
    ref = get_sighting(store.conn, second)
    re = Reprocessor(store, load_config(None), stages=stages, around="look", reference=ref, top=1)
    re("C1", START - 1.0, START + 13.0)  # the whole clip: only the one who looks like the reference
    assert len(re.windows) == 1
    w = re.windows[0]
    assert w.wall_lo <= b0 and w.wall_hi >= b1 and w.wall_lo > a1
    assert store.one("SELECT superseded_by FROM sightings WHERE id=?", (first,))[0] is None
    assert store.one("SELECT superseded_by FROM sightings WHERE id=?", (second,))[0] == w.id
    assert w.sightings == 1 and w.frames == len(range(w.frame_lo, w.frame_hi + 1))  # every frame of the span
    with store.tx() as conn:  # the replacement looks like the one it replaced (no embedder in this test)
        conn.execute("UPDATE sightings SET embedding=? WHERE source_id=?", (like.tobytes(), w.source_id))
    re("C1", START - 1.0, START + 13.0)  # asked again: the top one is refined already, nobody new is
    assert len(re.windows) == 1
    re.top = 2
    re("C1", START - 1.0, START + 13.0)  # two wanted: the other one now
    assert len(re.windows) == 2 and store.one("SELECT superseded_by FROM sightings WHERE id=?", (first,))[0]
    with pytest.raises(Exception, match="reference"):
        Reprocessor(store, load_config(None), stages=stages, around="look")("C1", START, START + 13.0)
    store.close()


def test_same_person_keeps_fragments_in_turn_never_two_at_once():
    from types import SimpleNamespace

    from relaytrack.pipeline.ondemand import same_person
    from relaytrack.records import TrackBox

    own = {f: (100.0 + f, 50.0, 130.0 + f, 130.0) for f in range(1, 21, 2)}  # a low-rate sighting's boxes

    def tl(frames, dx=0.0):
        boxes = [TrackBox(f, f / 10, (100.0 + f + dx, 50.0, 130.0 + f + dx, 130.0), 0.9) for f in frames]
        return SimpleNamespace(tracklet=SimpleNamespace(boxes=boxes))

    whole, late_copy, elsewhere = tl(range(1, 21)), tl(range(12, 21), dx=3.0), tl(range(1, 21), dx=200.0)
    assert same_person([late_copy, elsewhere, whole], own, near=1) == [whole]
    first, second = tl(range(1, 9)), tl(range(11, 21))
    assert same_person([second, elsewhere, first], own, near=1) == [first, second]
    assert same_person([elsewhere], own, near=1) == []


def test_reprocess_around_look_skips_who_looks_like_a_stranger(tmp_path, clip, monkeypatch):
    from relaytrack.pipeline import reprocessor
    from relaytrack.store.sightings import get_sighting

    store, stages = low_index(tmp_path, clip, TwoWalkers())
    (first,), (second,) = store.query("SELECT id FROM sightings ORDER BY wall_start")
    with store.tx() as conn:
        conn.execute(
            "UPDATE sightings SET embedding=? WHERE id=?", (np.float32([0.6, 0.8, 0]).tobytes(), first)
        )
        conn.execute("UPDATE sightings SET embedding=? WHERE id=?", (np.float32([1, 0, 0]).tobytes(), second))
    # Strangers' cosine 0.5 +- 0.1: the first (cosine 0.6, z 1.0) is no better than a stranger.
    monkeypatch.setattr(reprocessor, "background", lambda conn, kind: (0.5, 0.1))
    ref = get_sighting(store.conn, second)
    re = Reprocessor(store, load_config(None), stages=stages, around="look", reference=ref, top=2)
    re("C1", START - 1.0, START + 13.0)
    assert [w.wall_lo > START + 5 for w in re.windows] == [True]
    re.min_z = 0.5
    re("C1", START - 1.0, START + 13.0)
    assert len(re.windows) == 2
    store.close()


def test_two_sightings_on_the_same_frames_are_refined_each(tmp_path, clip):
    # Two people walking together give two low-rate sightings over the same frames: each refinement is a
    # source row of its own (their fingerprints once collided and the second refinement failed).
    from relaytrack.pipeline.ondemand import refine_sighting
    from relaytrack.store.sightings import get_sighting

    store, stages = low_index(tmp_path, clip, ScriptedDetector())
    (sid,) = store.query("SELECT id FROM sightings")[0]
    twin = get_sighting(store.conn, sid)
    with store.tx() as conn:  # the companion: the same stored row again under another track
        conn.execute(
            "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s, first_frame,"
            " last_frame, wall_start, wall_end) SELECT camera_id, source_id, track_id + 100, kind, class_name,"
            " start_s, end_s, first_frame, last_frame, wall_start, wall_end FROM sightings WHERE id=?",
            (sid,),
        )
        other = conn.execute("SELECT MAX(id) FROM sightings").fetchone()[0]
        conn.execute(
            "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf)"
            " SELECT ?, frame, t, x, y, w, h, conf FROM boxes WHERE sighting_id=?",
            (other, sid),
        )
    a = refine_sighting(store, twin, load_config(None), stages)
    b = refine_sighting(store, get_sighting(store.conn, other), load_config(None), stages)
    assert a is not None and b is not None and (a.frame_lo, a.frame_hi) == (b.frame_lo, b.frame_hi)
    assert a.source_id != b.source_id
    store.close()


class Nobody:
    def detect(self, image: np.ndarray) -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0), np.zeros(0, int))


def test_a_refinement_that_finds_nobody_counts_its_frames_and_is_not_repeated(tmp_path, clip):
    from relaytrack.store.sightings import get_sighting

    store, _ = low_index(tmp_path, clip, TwoWalkers())
    (first,), (second,) = store.query("SELECT id FROM sightings ORDER BY wall_start")
    with store.tx() as conn:
        conn.execute("UPDATE sightings SET embedding=?", (np.float32([1, 0, 0]).tobytes(),))
    blind = Stages(load_config(None), Nobody(), None)  # type: ignore[arg-type]
    ref = get_sighting(store.conn, second)
    re = Reprocessor(store, load_config(None), stages=blind, around="look", reference=ref, top=1)
    re("C1", START + 8.0, START + 13.0)
    assert len(re.windows) == 1 and re.frames > 0 and re.windows[0].superseded == 0
    assert store.one("SELECT superseded_by FROM sightings WHERE id=?", (second,))[0] is None  # still live
    re("C1", START + 8.0, START + 13.0)
    assert len(re.windows) == 1  # not analysed again
    store.close()


class Unseen:
    """Walker A in the first 5 s; B standing at x 200 from 6.2 to 7.5 s, but in none of the frames a 2 fps
    index analyses (1, 6, 11, ...): only a full-rate pass sees B."""

    def detect(self, image: np.ndarray) -> Detections:
        i = int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])
        boxes = [[10 + 2 * i, 60, 40 + 2 * i, 140]] if i <= 50 else []
        if 62 <= i <= 75 and i % 5 != 1:
            boxes.append([200, 50, 230, 140])
        xyxy = np.array(boxes, np.float32).reshape(-1, 4)
        return Detections(xyxy, np.full(len(boxes), 0.9), np.full(len(boxes), PERSON))


def _missed(tmp_path, clip, monkeypatch, look_of_a, look_of_suspect):
    """The `Unseen` clip indexed at 2 fps (A only), A given a look, strangers' cosine 0.5 +- 0.1, and a
    "missed" re-processor for a suspect with the given look."""
    from dataclasses import replace

    from relaytrack.pipeline import reprocessor
    from relaytrack.store.sightings import get_sighting

    store, stages = low_index(tmp_path, clip, Unseen())
    (a,) = store.query("SELECT id FROM sightings")[0]
    with store.tx() as conn:
        conn.execute("UPDATE sightings SET embedding=? WHERE id=?", (np.float32(look_of_a).tobytes(), a))
    monkeypatch.setattr(reprocessor, "background", lambda conn, kind: (0.5, 0.1))
    suspect = replace(get_sighting(store.conn, a), embedding=np.float32(look_of_suspect))
    return store, a, Reprocessor(store, load_config(None), stages=stages, around="missed", reference=suspect)


def test_reprocess_missed_adds_only_who_the_index_missed(tmp_path, clip, monkeypatch):
    store, a, re = _missed(tmp_path, clip, monkeypatch, [0, 1, 0], [1, 0, 0])  # A looks nothing like them
    re("C1", START - 1.0, START + 13.0)
    assert len(re.windows) == 1
    w = re.windows[0]
    assert w.superseded == 0 and w.sightings == 1 and w.frames > 100  # the whole window, every frame
    rows = store.query(
        "SELECT id, source_id, superseded_by, first_frame, last_frame FROM sightings ORDER BY id"
    )
    assert [r[0] for r in rows][0] == a and rows[0][2] is None  # A untouched, not stored twice
    (b,) = [r for r in rows if r[1] == w.source_id]
    assert 62 <= b[3] and b[4] <= 75  # B, whom the index never saw
    re("C1", START - 1.0, START + 13.0)
    assert len(re.windows) == 1  # done once
    store.close()


def test_reprocess_missed_leaves_a_window_where_someone_looks_like_the_suspect(tmp_path, clip, monkeypatch):
    store, _a, re = _missed(tmp_path, clip, monkeypatch, [1, 0, 0], [1, 0, 0])
    re("C1", START - 1.0, START + 13.0)
    assert re.windows == [] and re.frames == 0
    assert store.one("SELECT COUNT(*) FROM sightings")[0] == 1
    store.close()


def test_refine_names_the_full_rate_tracklet_that_replaced_the_sighting(tmp_path, clip):
    from relaytrack.store.sightings import get_sighting

    store, stages = low_index(tmp_path, clip, ScriptedDetector())
    (low,) = store.query("SELECT id FROM sightings")[0]
    re = Reprocessor(store, load_config(None), stages=stages)
    new = re.refine(get_sighting(store.conn, low))
    assert new != low and store.one("SELECT superseded_by FROM sightings WHERE id=?", (low,))[0] is not None
    a, b = (
        store.one("SELECT last_frame - first_frame FROM sightings WHERE id=?", (i,))[0] for i in (new, low)
    )
    assert a > b  # the walker in full detail
    assert re.refine(get_sighting(store.conn, low)) == low and len(re.windows) == 1  # once only
    blind = Reprocessor(store, load_config(None), stages=Stages(load_config(None), Nobody(), None))  # type: ignore[arg-type]
    assert blind.refine(get_sighting(store.conn, new)) == new  # full rate already: nothing to do
    store.close()


def test_refine_follows_the_person_on_the_best_crop_not_the_longest(tmp_path, clip, monkeypatch):
    # A low-rate track can run on from the person into someone else; the full-rate pass splits them. The
    # origin is the person of the sighting's best crop (what the operator saw), even on the shorter piece.
    from dataclasses import replace

    from relaytrack.pipeline import ondemand, reprocessor
    from relaytrack.store.sightings import boxes_of, get_sighting, insert_sighting

    store, stages = low_index(tmp_path, clip, ScriptedDetector())
    (low,) = store.query("SELECT id FROM sightings")[0]
    s = get_sighting(store.conn, low)
    late = boxes_of(store.conn, low)[-2]  # the best crop: late in the track
    with store.tx() as conn:
        conn.execute("UPDATE sightings SET box_x=?, box_y=?, box_w=?, box_h=? WHERE id=?", (*late[2:6], low))
    s = get_sighting(store.conn, low)
    made = {}

    def fake_refine(store_, sighting, cfg, stages_, *, fps=None, pad_s=1.0):
        with store_.tx() as conn:
            src = conn.execute(
                "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, analysed_fps, width, height,"
                " frames_total, status, reprocess_of) VALUES ('C1', 'x', 'fp-re', ?, 10, 10, 320, 240, 120,"
                " 'complete', ?)",
                (START, sighting.source_id),
            ).lastrowid
            own = boxes_of(conn, sighting.id)
            early = [b for b in own if b[0] < late[0] - 10]
            for name, rows, track in (("long", early, 1), ("on_crop", [late], 2)):
                frames = sorted({b[0] for b in rows})
                made[name] = insert_sighting(
                    conn,
                    replace(s, source_id=src, track_id=track, first_frame=frames[0], last_frame=frames[-1]),
                    boxes=[b for b in own if b[0] in frames],
                )
            conn.execute("UPDATE sightings SET superseded_by=1 WHERE id=?", (sighting.id,))
        return ondemand.Window("C1", START, START + 12, 1, 120, id=1, source_id=src, frames=120, superseded=1)

    monkeypatch.setattr(reprocessor, "refine_sighting", fake_refine)
    re = Reprocessor(store, load_config(None), stages=stages)
    assert re.refine(s) == made["on_crop"]
    store.close()
