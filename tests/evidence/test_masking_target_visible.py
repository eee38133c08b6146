"""Issue 18 finding 7: the target's box is never masked except for other people's heads and faces; the export
records the target's unaltered share per frame (frames.json and the signed manifest) and the package and audit
chain still verify."""

import json

import cv2
import numpy as np
import pytest

from relaytrack.evidence import audit
from relaytrack.evidence.export import export_evidence, hops_from_sightings
from relaytrack.evidence.mask import Masker, MaskSettings, pad, visible_summary
from relaytrack.evidence.package import verify_package

W, H = 200, 120
TARGET = (60.0, 10.0, 100.0, 110.0)  # xyxy, 40 x 100
BYSTANDER = (80.0, 20.0, 150.0, 118.0)  # a large box over half the target (a merged or nearby detection)
PAD = MaskSettings().pad  # a masked box's padding (the head strip gets half of it)


def _noise(h=H, w=W, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _apply(protect: bool):
    img = _noise()
    orig = img.copy()
    masker = Masker(MaskSettings(detect=False, faces=False, protect_target=protect))
    fm = masker.apply(img, 1, TARGET, [(BYSTANDER, "person")])
    return img, orig, fm


def test_bystander_over_target_masks_only_their_head_inside_the_target_box():
    img, orig, fm = _apply(protect=True)
    tx1, ty1, tx2, ty2 = (int(v) for v in TARGET)
    changed = np.any(img != orig, axis=2)
    covered = fm.coverage_mask(W, H)
    # Inside the target's box, only the bystander's head (top quarter of their box, padded) is masked ...
    bx1, by1, bx2, by2 = BYSTANDER
    bw, bh = bx2 - bx1, by2 - by1
    head_bottom = by1 + 0.25 * bh + PAD / 2 * (0.3 * bh)  # head strip plus half the pad
    ys, xs = np.nonzero(covered[ty1:ty2, tx1:tx2])
    assert len(ys) > 0, "the bystander's head inside the target box must stay masked"
    assert (ys + ty1).max() < head_bottom + 1 and (xs + tx1).min() >= int(
        bx1 + 0.1 * bw - PAD / 2 * 0.8 * bw
    ) - 1
    # ... the rest of the target's box is untouched, pixel for pixel.
    inside = np.zeros((H, W), bool)
    inside[ty1:ty2, tx1:tx2] = True
    assert not changed[inside & ~covered].any()
    assert changed[inside & covered].mean() > 0.8  # the head there is really pixelated
    # The bystander outside the target's box is masked whole (padded; slivers under 2 px beside it dropped).
    x1, y1, x2, y2 = pad(BYSTANDER, PAD, W, H)
    outside = np.zeros((H, W), bool)
    outside[y1:y2, x1:x2] = True
    outside &= ~inside
    ys, xs = np.nonzero(outside & ~covered)
    assert (
        (np.abs(xs - tx1) <= 2) | (np.abs(xs - tx2) <= 2) | (np.abs(ys - ty1) <= 2) | (np.abs(ys - ty2) <= 2)
    ).all()
    assert covered[outside].mean() > 0.9
    # The recorded share is the box's unaltered share, and it meets the bench's bar.
    measured = 1.0 - covered[inside].mean()
    assert fm.target_visible == pytest.approx(measured, abs=1e-3)
    assert fm.target_visible >= 0.85 and (~changed[inside]).mean() >= 0.85


def test_without_protection_the_target_is_masked_where_the_bystander_box_is():
    """The behaviour before finding 7 (kept only for the bench's before figure): the box is masked whole."""
    _, _, fm = _apply(protect=False)
    assert fm.target_visible is not None and fm.target_visible < 0.6


def test_no_target_box_records_none_and_masks_everybody():
    img = _noise()
    orig = img.copy()
    fm = Masker(MaskSettings(detect=False, faces=False)).apply(img, 1, None, [(BYSTANDER, "person")])
    assert fm.target_visible is None
    x1, y1, x2, y2 = pad(BYSTANDER, PAD, W, H)
    assert np.any(img[y1:y2, x1:x2] != orig[y1:y2, x1:x2], axis=2).mean() > 0.8
    assert visible_summary([[1, None], [2, 0.4], [3, 1.0]]) == {
        "frames": 2,
        "visible_min": 0.4,
        "visible_mean": 0.7,
        "frames_below_half": 1,
    }


N = 10


@pytest.fixture
def overlap_footage(store, tmp_path):
    """Ten noise frames; the target walks right, a bystander's large box covers its right half. The target's
    boxes are stored on odd frames 3..9 only (2, 4, ... interpolated; 1, 2 and 10 unknown)."""
    seq = tmp_path / "seq"
    (seq / "img1").mkdir(parents=True)
    for f in range(1, N + 1):
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.png"), _noise(seed=f))
    ids = []
    with store.tx() as conn:
        conn.execute("INSERT OR IGNORE INTO cameras(id, name) VALUES ('CAM9', 'CAM9')")
        src = conn.execute(
            "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height)"
            " VALUES ('CAM9',?,?,?,?,?,?)",
            (str(seq), "fp-overlap", 1_700_000_000.0, 10.0, W, H),
        ).lastrowid
        for k, (x, y, w, h), frames in (
            (1, (TARGET[0], TARGET[1], 40.0, 100.0), range(3, 10, 2)),
            (2, (BYSTANDER[0], BYSTANDER[1], 70.0, 98.0), range(1, N + 1)),
        ):
            sid = conn.execute(
                "INSERT INTO sightings(camera_id, source_id, track_id, kind, class_name, start_s, end_s,"
                " first_frame, last_frame, wall_start, wall_end, box_x, box_y, box_w, box_h)"
                " VALUES ('CAM9',?,?,'person','person',0,0.9,?,?,?,?,?,?,?,?)",
                (src, k, min(frames), max(frames), 1_700_000_000.0, 1_700_000_000.9, x, y, w, h),
            ).lastrowid
            conn.executemany(
                "INSERT INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
                [(sid, f, (f - 1) / 10, x + f, y, w, h, 0.9) for f in frames],
            )
            ids.append(sid)
    return ids


def test_export_records_target_visibility_and_still_verifies(store, overlap_footage, tmp_path):
    target, _ = overlap_footage
    res = export_evidence(
        store,
        tmp_path / "pkg",
        hops_from_sightings(store.conn, [target]),
        user="kim",
        case="C-1",
        pre_roll=0.2,  # two frames before the target's first stored box: its box is unknown there
        post_roll=0.1,
        settings=MaskSettings(detect=False, faces=False),
    )
    hop = res.hops[0]
    log = json.loads((res.path / "hops" / "01_CAM9" / "frames.json").read_text())
    assert [e["frame"] for e in log] == list(range(1, 11))
    states = {e["frame"]: e["target_state"] for e in log}
    assert states[1] == states[2] == states[10] == "unknown"
    assert states[3] == "analysed" and states[4] == "interpolated"
    for e in log:
        assert {"frame", "wall", "target", "masked", "faces"} <= e.keys()  # the keys that were there stay
        if e["target_state"] == "unknown":
            assert e["target"] is None and e["target_visible"] is None  # said so, not guessed
        else:
            assert e["target_visible"] >= 0.85  # only the bystander's head is masked inside the box
    assert hop.target_frames == 7 and hop.target_unknown_frames == 3 and hop.target_frames_below_half == 0
    assert 0.85 <= hop.target_visible_min <= hop.target_visible_mean < 1.0
    manifest = json.loads((res.path / "manifest.json").read_text())
    assert {"format", "case", "created", "key_id", "public_key", "files"} <= manifest.keys()
    rec = manifest["target_visibility"]["hops"][0]
    assert rec["frames_unknown"] == 3 and rec["visible_min"] == hop.target_visible_min
    assert rec["per_frame"] == [[e["frame"], e["target_visible"]] for e in log]
    custody = json.loads((res.path / "custody.json").read_text())
    assert custody["masking"]["protect_target"] is True
    assert custody["hops"][0]["target_visible_mean"] == hop.target_visible_mean
    assert "visibility" not in custody["hops"][0] and "visibility" not in res.as_dict()["hops"][0]
    # The package and the audit chain still verify; a changed visibility record does not.
    assert verify_package(res.path).ok
    assert audit.verify(store.conn, store.path).ok
    rec["visible_min"] = 1.0
    (res.path / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    assert not verify_package(res.path).ok


def test_bench_pools_the_target_share_over_frames():
    from relaytrack.bench.evidence import pooled

    def run(k, n, tf, mean, vmin, ge, tracks=True):
        return {"config": {"tracks": tracks}, "masked": k, "non_target_boxes": n, "worst_frame_rate": 0.5,
                "target_frames": tf, "target_visible_mean": mean, "target_visible_min": vmin,
                "target_visible_ge_0.95": ge, "target_tracked_frames": tf, "target_visible_mean_tracked": mean,
                "target_visible_ge_0.95_tracked": ge, "masked_rate_outside_target": k / n,
                "unmasked_inside_target_only": 1, "head_masked_rate": 1.0, "export_target_followed_frames": tf // 10,
                "export_target_relinked_frames": tf // 100}  # fmt: skip

    (p,) = pooled([run(99, 100, 300, 1.0, 0.9, 1.0), run(50, 100, 100, 0.0, 0.0, 0.0)])
    assert p["export_target_followed_frames"] == 40 and p["export_target_relinked_frames"] == 4
    assert p["masked_rate"] == 0.745 and p["target_frames"] == 400
    assert p["target_visible_mean"] == 0.75 and p["target_visible_min"] == 0.0  # a missed target counts
    assert p["target_visible_ge_0.95"] == 0.75 and p["unmasked_inside_target_only"] == 2


def test_a_box_holding_the_whole_target_masks_nothing_inside_it():
    """The finding's case: a whole-scene (or group) detection containing the target was masked whole."""
    img = _noise()
    orig = img.copy()
    scene = (2.0, 0.0, 190.0, 118.0)
    fm = Masker(MaskSettings(detect=False, faces=False)).apply(img, 1, TARGET, [(scene, "person")])
    tx1, ty1, tx2, ty2 = (int(v) for v in TARGET)
    assert fm.target_visible == 1.0
    assert (img[ty1:ty2, tx1:tx2] == orig[ty1:ty2, tx1:tx2]).all()
    assert np.any(img[:, :tx1] != orig[:, :tx1], axis=2).mean() > 0.8  # the rest of the box is masked


class _Faces:
    def __init__(self, faces):
        self.faces = faces

    def detect(self, crop):
        return [(f, 0.9) for f in self.faces]


def test_a_face_inside_the_target_box_stays_masked_a_scene_sized_one_only_outside():
    masker = Masker(MaskSettings(detect=False, faces=False))
    # A bystander's face in front of the target's chest (crop coordinates: the target's upper crop starts at
    # x=58, y=5 for this box): masked even inside the target's box.
    masker.faces = _Faces([(14.0, 40.0, 24.0, 50.0)])
    img = _noise()
    fm = masker.apply(img, 1, TARGET, [])
    assert len(fm.faces) == 1 and fm.target_visible < 1.0
    # A "face" wider than the target (BlazeFace on a whole-scene box) is masked outside the target's box only.
    masker.faces = _Faces([(30.0, 40.0, 95.0, 105.0)])
    fm = masker.apply(_noise(), 1, TARGET, [])
    assert fm.faces and fm.target_visible == 1.0
