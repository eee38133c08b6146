"""Issue 18 finding 7: where the target's sighting stored no box (pre-roll, a track that ended early) the export
follows the target from its nearest stored box instead of masking it with everybody, says so per frame
(`followed`), and stops rather than guess: two people where the target was, a box that does not look like the
target, or the target gone for longer than the coast."""

import json

import cv2
import numpy as np
import pytest

from relaytrack.evidence import audit
from relaytrack.evidence.export import export_evidence, hops_from_sightings
from relaytrack.evidence.follow import FOLLOWED, Follower
from relaytrack.evidence.mask import FollowSettings, MaskSettings
from relaytrack.evidence.package import verify_package

W, H = 240, 140
RED, BLUE, GREEN = (30, 30, 220), (220, 60, 30), (40, 200, 40)  # BGR


def _frame(people: list[tuple[tuple[float, float, float, float], tuple[int, int, int]]]) -> np.ndarray:
    img = np.full((H, W, 3), 128, np.uint8)
    for (x1, y1, x2, y2), colour in people:
        cv2.rectangle(img, (int(x1), int(y1)), (int(x2), int(y2)), colour, -1)
    return img


def _at(f: int) -> tuple[float, float, float, float]:
    """The target (red) walks right 4 px a frame."""
    return (40.0 + 4 * f, 20.0, 80.0 + 4 * f, 120.0)


def test_walk_follows_a_moving_person_and_keeps_its_box():
    fol = Follower(FollowSettings())
    fol.learn(_frame([(_at(0), RED)]), _at(0))
    walk = fol.walk(_at(0))
    for f in range(1, 6):
        far = (200.0, 20.0, 230.0, 120.0)
        box = walk.step(_frame([(_at(f), RED), (far, BLUE)]), [_at(f), far])
        assert box == _at(f)


def test_walk_stops_between_two_people_where_the_target_was():
    fol = Follower(FollowSettings())
    fol.learn(_frame([(_at(0), RED)]), _at(0))
    walk = fol.walk(_at(0))
    twin = (44.0, 22.0, 84.0, 122.0)  # a second red person on the same spot: nothing says which is which
    assert walk.step(_frame([(_at(1), RED)]), [_at(1), twin]) is None
    assert walk.step(_frame([(_at(2), RED)]), [_at(2)]) is None  # lost for good: never re-acquired


def test_walk_tells_two_people_apart_only_by_a_clearly_different_look():
    # A wide ambiguity so that the blue person at the red one's side counts as "two people there".
    s = FollowSettings(ambiguity=0.15)
    blue = (70.0, 20.0, 110.0, 120.0)
    img = _frame([(_at(1), RED), (blue, BLUE)])
    fol = Follower(s)
    fol.learn(_frame([(_at(0), RED)]), _at(0))
    assert fol.walk(_at(0)).step(img, [blue, _at(1)]) == _at(1)
    # Two people of the same look there: stop.
    twin = _frame([(_at(1), RED), (blue, RED)])
    assert fol.walk(_at(0)).step(twin, [blue, _at(1)]) is None
    # Without the look margin two people there stop the walk whatever they look like.
    strict = Follower(FollowSettings(ambiguity=0.15, look_margin=None))
    strict.learn(_frame([(_at(0), RED)]), _at(0))
    assert strict.walk(_at(0)).step(img, [blue, _at(1)]) is None


def test_no_following_on_from_a_last_stored_box_that_is_already_someone_else():
    fol = Follower(FollowSettings())
    for f in range(5):
        fol.learn(_frame([(_at(f), RED)]), _at(f))
    assert fol.walk_on(_at(4)).step(_frame([(_at(5), RED)]), [_at(5)]) == _at(5)
    fol.learn(_frame([(_at(5), BLUE)]), _at(5))  # the track's last box: the tracker switched to a blue person
    assert fol.walk_on(_at(5)).step(_frame([(_at(6), BLUE)]), [_at(6)]) is None


def test_walk_refuses_someone_who_does_not_look_like_the_target():
    fol = Follower(FollowSettings())
    fol.learn(_frame([(_at(0), RED)]), _at(0))
    walk = fol.walk(_at(0))
    assert (
        walk.step(_frame([(_at(1), BLUE)]), [_at(1)]) is None
    )  # a blue person stepped into the red one's place


def test_walk_coasts_over_a_missed_frame_only_after_it_found_the_target():
    s = FollowSettings(coast=2)
    fol = Follower(s)
    fol.learn(_frame([(_at(0), RED)]), _at(0))
    assert fol.walk(_at(0)).step(_frame([]), []) is None  # no evidence at all: not guessed
    walk = fol.walk(_at(0))
    assert walk.step(_frame([(_at(1), RED)]), [_at(1)]) == _at(1)
    assert walk.step(_frame([]), []) == _at(1)  # one missed detection: the last box held
    assert walk.step(_frame([]), []) == _at(1)
    assert walk.step(_frame([]), []) is None  # longer than the coast: lost
    assert walk.step(_frame([(_at(4), RED)]), [_at(4)]) is None


N = 12
STORED = range(4, 8)  # the target's sighting stored boxes only on frames 4-7
BYSTANDER = (170.0, 30.0, 210.0, 130.0)


def _store_tracks(store, seq, camera: str, tracks) -> list[int]:
    """The footage folder `seq` (10 fps) as a source of `camera` with person tracks (track id, frames, box of
    a frame): their sighting ids."""
    ids = []
    with store.tx() as conn:
        conn.execute("INSERT OR IGNORE INTO cameras(id, name) VALUES (?, ?)", (camera, camera))
        src = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height) VALUES (?,?,?,?,?,?,?)",
            (camera, str(seq), f"fp-{seq.name}", 1_700_000_000.0, 10.0, W, H),
        ).lastrowid
        for k, frames, where in tracks:
            frames = list(frames)
            sid = conn.execute(
                "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s,"
                " first_frame, last_frame, wall_start, wall_end) VALUES (?,?,?,'person','person',?,?,?,?,?,?)",
                (camera, src, k, (frames[0] - 1) / 10, (frames[-1] - 1) / 10, frames[0], frames[-1],
                 1_700_000_000.0, 1_700_000_001.2),
            ).lastrowid  # fmt: skip
            rows = []
            for f in frames:
                x1, y1, x2, y2 = where(f)
                rows.append((sid, f, (f - 1) / 10, x1, y1, x2 - x1, y2 - y1, 0.9))
            conn.executemany(
                "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)", rows
            )
            ids.append(sid)
    return ids


@pytest.fixture
def fragment_footage(store, tmp_path):
    """Twelve frames: the red target walks right all along, a blue bystander stands at the right. The
    target's sighting stored frames 4-7; two other person tracks of the pipeline hold the target before (1-3)
    and after (8-12), as a tracker fragments a person; the bystander has a track of their own."""
    seq = tmp_path / "seq"
    (seq / "img1").mkdir(parents=True)
    for f in range(1, N + 1):
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.png"), _frame([(_at(f), RED), (BYSTANDER, BLUE)]))
    tracks = (
        (1, list(STORED), _at),
        (2, [1, 2, 3], _at),
        (3, list(range(8, N + 1)), _at),
        (4, list(range(1, N + 1)), lambda f: BYSTANDER),
    )
    return _store_tracks(store, seq, "CAM8", tracks)


def _export(store, tmp_path, target, follow):
    return export_evidence(
        store,
        tmp_path / ("pkg-follow" if follow else "pkg-nofollow"),
        hops_from_sightings(store.conn, [target]),
        user="kim",
        case="C-1",
        pre_roll=0.3,  # frames 1-3
        post_roll=0.5,  # frames 8-12
        settings=MaskSettings(detect=False, faces=False, follow=FollowSettings() if follow else None),
        keep_masks=True,
    )


def test_export_follows_the_target_through_pre_and_post_roll(store, fragment_footage, tmp_path):
    target = fragment_footage[0]
    res = _export(store, tmp_path, target, follow=True)
    folder = res.path / "hops" / "01_CAM8"
    log = {e["frame"]: e for e in json.loads((folder / "frames.json").read_text())}
    assert sorted(log) == list(range(1, N + 1))
    for f in range(1, N + 1):
        assert log[f]["target_state"] == ("analysed" if f in STORED else FOLLOWED), f
        assert log[f]["target"] == pytest.approx(list(_at(f)), abs=0.1)
        assert log[f]["target_visible"] == 1.0  # the red person is never masked
    hop = res.hops[0]
    assert hop.target_followed_frames == N - len(STORED) and hop.target_unknown_frames == 0
    manifest = json.loads((res.path / "manifest.json").read_text())
    assert manifest["target_visibility"]["hops"][0]["frames_followed"] == N - len(STORED)
    custody = json.loads((res.path / "custody.json").read_text())
    assert custody["masking"]["follow_target"]["min_iou"] == FollowSettings().min_iou
    # The bystander stays masked in every frame of the clip; the target's box is untouched.
    x1, y1, x2, y2 = (int(v) for v in BYSTANDER)
    for fm in hop.masks:
        cover = fm.coverage_mask(W, H)
        assert cover[y1:y2, x1:x2].mean() == 1.0
        tx1, ty1, tx2, ty2 = (int(v) for v in _at(fm.frame))
        assert not cover[ty1:ty2, tx1:tx2].any()
    cap = cv2.VideoCapture(str(folder / "evidence.avi"))
    n = 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        n += 1
        tx1, ty1, tx2, ty2 = (int(v) for v in _at(n))
        red = img[ty1 + 5 : ty2 - 5, tx1 + 5 : tx2 - 5].astype(int)
        assert np.abs(red - np.array(RED)).sum(axis=2).mean() < 25  # the target's body as it was (JPEG aside)
    assert n == N
    assert verify_package(res.path).ok and audit.verify(store.conn, store.path).ok


def test_without_following_those_frames_are_masked_whole_as_before(store, fragment_footage, tmp_path):
    res = _export(store, tmp_path, fragment_footage[0], follow=False)
    log = {e["frame"]: e for e in json.loads((res.path / "hops" / "01_CAM8" / "frames.json").read_text())}
    assert [f for f in log if log[f]["target_state"] == "unknown"] == [1, 2, 3, 8, 9, 10, 11, 12]
    assert all(log[f]["target"] is None for f in (1, 2, 3, 8, 12))
    assert res.hops[0].target_followed_frames == 0


# Relinking: where the target is lost, another track that starts near where it was heading and looks like it
# takes it on (the tracker fragments a person at an occlusion); never a track seen beside the target.
RELINK = FollowSettings(relink_gap_s=1.0, relink_jump=1.0, relink_similarity=0.5)


def _stored(fol: Follower, frames: range) -> None:
    for f in frames:
        img = _frame([(_at(f), RED)])
        fol.learn(img, _at(f), f)


def _learned(settings: FollowSettings = RELINK, gap: int = 10) -> Follower:
    """A follower (relink gap in frames, as the export gives it) that has seen the target's boxes 0-4."""
    fol = Follower(settings, gap=gap)
    _stored(fol, range(0, 5))
    return fol


def test_a_new_track_where_the_target_was_heading_takes_it_on_after_a_gap():
    fol = _learned(gap=10)
    walk = fol.walk_on(_at(4), 5)
    assert walk.velocity == pytest.approx((4.0, 0.0))
    for f in (5, 6, 7):  # hidden: nobody there, the walk coasts then loses the target
        walk.step(_frame([]), [], {})
    assert walk.step(_frame([]), [], {}) is None
    # Frame 9: a new track (key 7) of a red person where the target was heading, a blue one farther away.
    far = (190.0, 20.0, 230.0, 120.0)
    img = _frame([(_at(9), RED), (far, BLUE)])
    assert walk.step(img, [], {7: _at(9), 8: far}) == _at(9)
    assert walk.riding == 7
    # Along that track from then on, even where the detection pass sees nothing.
    assert walk.step(_frame([(_at(10), RED)]), [], {7: _at(10)}) == _at(10)


def test_no_relink_without_the_setting_or_after_the_gap():
    fol = _learned(FollowSettings(relink_gap_s=0.0), gap=0)  # the follower as before
    walk = fol.walk_on(_at(4), 5)
    for _ in range(4):
        walk.step(_frame([]), [], {})
    assert walk.step(_frame([(_at(9), RED)]), [], {7: _at(9)}) is None
    fol = _learned(gap=3)
    walk = fol.walk_on(_at(4), 5)
    for _ in range(4):
        walk.step(_frame([]), [], {})
    assert walk.step(_frame([(_at(9), RED)]), [], {7: _at(9)}) is None  # 5 frames after: longer than the gap


def test_a_track_seen_beside_the_target_is_never_its_continuation():
    fol = _learned(gap=10)
    twin = (120.0, 20.0, 160.0, 120.0)  # another red person walking beside the target all along
    fol.saw_beside(_at(4), {3: twin})
    walk = fol.walk_on(_at(4), 5)
    for _ in range(3):
        walk.step(_frame([]), [], {})
    assert walk.step(_frame([(_at(8), RED)]), [], {3: _at(8)}) is None


def test_two_new_tracks_that_look_alike_are_not_told_apart():
    fol = _learned(gap=10)
    walk = fol.walk_on(_at(4), 5)
    for _ in range(3):
        walk.step(_frame([]), [], {})
    other = (80.0, 20.0, 120.0, 120.0)
    img = _frame([(_at(8), RED), (other, RED)])
    assert walk.step(img, [], {7: _at(8), 8: other}) is None


def test_the_track_taken_on_is_left_when_it_turns_into_someone_else():
    fol = _learned(gap=10)
    walk = fol.walk_on(_at(4), 5)
    assert walk.step(_frame([(_at(5), RED)]), [_at(5)], {7: _at(5)}) == _at(5)
    assert walk.riding == 7
    # The track swaps onto a blue person (the tracker's identity switch): held over the coast, then left.
    for f in range(6, 6 + RELINK.coast):
        assert walk.step(_frame([(_at(f), BLUE)]), [], {7: _at(f)}) == _at(f)
    assert walk.step(_frame([(_at(9), BLUE)]), [], {7: _at(9)}) is None
    assert walk.riding is None


@pytest.fixture
def gap_footage(store, tmp_path):
    """Twelve frames at 10 fps: the red target walks right, hidden in frames 8-9 (no box of anyone), then a
    new track of the pipeline holds them (10-12); the target's sighting stored frames 1-7; a blue bystander
    has a track all along."""
    seq = tmp_path / "gapseq"
    (seq / "img1").mkdir(parents=True)
    for f in range(1, N + 1):
        people = [(BYSTANDER, BLUE)] + ([] if f in (8, 9) else [(_at(f), RED)])
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.png"), _frame(people))
    tracks = ((1, range(1, 8), _at), (2, range(10, N + 1), _at), (3, range(1, N + 1), lambda f: BYSTANDER))
    return _store_tracks(store, seq, "CAM9", tracks)


@pytest.mark.parametrize("relink", [True, False])
def test_export_takes_the_targets_next_track_on_after_an_occlusion(store, gap_footage, tmp_path, relink):
    follow = RELINK if relink else FollowSettings(relink_gap_s=0.0)
    res = export_evidence(
        store,
        tmp_path / f"pkg-relink-{relink}",
        hops_from_sightings(store.conn, [gap_footage[0]]),
        user="kim",
        case="C-1",
        pre_roll=0,
        post_roll=0.5,  # frames 8-12
        settings=MaskSettings(detect=False, faces=False, follow=follow),
        keep_masks=True,
    )
    log = {e["frame"]: e for e in json.loads((res.path / "hops" / "01_CAM9" / "frames.json").read_text())}
    assert [log[f]["target_state"] for f in (8, 9)] == ["unknown", "unknown"]  # hidden: nobody to follow
    after = [log[f]["target_state"] for f in (10, 11, 12)]
    masks = {fm.frame: fm for fm in res.hops[0].masks}
    x1, y1, x2, y2 = (int(v) for v in BYSTANDER)
    hops = json.loads((res.path / "manifest.json").read_text())["target_visibility"]["hops"]
    if relink:
        assert after == [FOLLOWED] * 3
        # The record names the stored sighting the boxes came from, frame by frame and in the signed manifest.
        assert [log[f]["target_via"] for f in (10, 11, 12)] == [gap_footage[1]] * 3
        assert hops[0]["frames_relinked"] == 3 and hops[0]["relinked_sightings"] == [gap_footage[1]]
        for f in (10, 11, 12):
            assert log[f]["target"] == pytest.approx(list(_at(f)), abs=0.1)
            assert log[f]["target_visible"] == 1.0  # its new track is not masked as somebody else
            assert masks[f].coverage_mask(W, H)[y1:y2, x1:x2].mean() == 1.0
    else:
        assert after == ["unknown"] * 3  # lost: everybody masked, the target too
        assert hops[0]["frames_relinked"] == 0 and all(e["target_via"] is None for e in log.values())
        assert all(log[f]["target_visible"] is None or log[f]["target_visible"] < 0.5 for f in (10, 11, 12))
    assert verify_package(res.path).ok


def test_a_track_seen_beside_the_target_crossing_its_box_is_not_followed_along():
    fol = _learned(gap=10)
    fol.saw_beside(_at(4), {3: (150.0, 20.0, 190.0, 120.0)})  # another red person's track, beside the target
    walk = fol.walk_on(_at(4), 5)
    # Frame 5: that track's box is over the target (a crossing): the box is the target's, the track is not.
    assert walk.step(_frame([(_at(5), RED)]), [_at(5)], {3: _at(5)}) == _at(5)
    assert walk.riding is None
    # A new track over the target is followed along.
    walk = fol.walk_on(_at(4), 5)
    assert walk.step(_frame([(_at(5), RED)]), [_at(5)], {7: _at(5)}) == _at(5)
    assert walk.riding == 7
