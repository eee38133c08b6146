"""Export packages: masking of non-targets, manifest/signature, tamper detection, case and path checks."""

import json
import shutil

import cv2
import numpy as np
import pytest

from relaytrack.errors import AccessDenied, InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence.export import export_evidence, hops_from_route, hops_from_sightings
from relaytrack.evidence.mask import MaskSettings
from relaytrack.evidence.package import seal, verify_package
from relaytrack.relay.route import Route

W, H, N = 64, 48, 10
NO_MODELS = MaskSettings(detect=False, faces=False)


def _checker(h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    return (((yy // 2 + xx // 2) % 2) * 255).astype(np.uint8)


@pytest.fixture
def footage(tmp_path):
    """A 10-frame MOT-style image folder: each sighting of add_sightings drawn as a checkered box."""
    seq = tmp_path / "seq"
    (seq / "img1").mkdir(parents=True)
    for f in range(1, N + 1):
        img = np.full((H, W, 3), 128, np.uint8)
        for k in range(3):
            x = 5 + 15 * k + f
            img[5:35, x : x + 10] = _checker(30, 10)[..., None]
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.png"), img)
    return seq


@pytest.fixture
def sids(store, footage, add_sightings):
    return add_sightings(store, uri=str(footage), n=3)


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            return out
        out.append(img)


def test_export_masks_others_not_target(store, sids, footage, tmp_path):
    res = export_evidence(
        store,
        tmp_path / "pkg",
        hops_from_sightings(store.conn, [sids[0]]),
        user="kim",
        case="C-1",
        pre_roll=0,
        post_roll=0,
        settings=NO_MODELS,
    )
    frames = _frames(res.path / "hops" / "01_CAM1" / "evidence.avi")
    assert len(frames) == N and res.hops[0].frames == N
    for f, img in enumerate(frames, start=1):
        orig = cv2.imread(str(footage / "img1" / f"{f:06d}.png"))
        diff = np.abs(img.astype(int) - orig.astype(int)).mean(axis=2)
        x0 = 5 + f
        assert diff[5:35, x0 : x0 + 10].mean() < 40  # target intact (MJPG noise only)
        for k in (1, 2):
            x = 5 + 15 * k + f
            assert diff[5:35, x : x + 10].mean() > 60  # others pixelated: the checker pattern is gone
    assert (res.path / "hops" / "01_CAM1" / "view.mp4").stat().st_size > 0
    custody = json.loads((res.path / "custody.json").read_text())
    assert custody["case"] == "C-1" and custody["exported_by"] == "kim"
    assert custody["created_iso"].endswith("+09:00")  # one clock: Seoul time, whatever the host's zone
    assert len(custody["sources"][0]["original"]["files"]) == N
    assert verify_package(res.path).ok
    # logged, recorded, and the target put on the case's legal hold
    row = store.one(
        "SELECT outcome, result_ids FROM audit_log WHERE action='export' ORDER BY seq DESC LIMIT 1"
    )
    assert row[0] == "ok" and json.loads(row[1]) == [sids[0]]
    assert (
        store.one("SELECT COUNT(*) FROM case_sightings WHERE case_no='C-1' AND sighting_id=?", (sids[0],))[0]
        == 1
    )


def test_route_json_hops(store, sids):
    route = {"hops": [{"sighting": sids[1], "camera": "CAM1", "start": 0.0, "end": 0.9, "frames": [1, 10]}]}
    hops = hops_from_route(store.conn, Route.from_dict(route))
    assert (hops[0].sighting, hops[0].first, hops[0].last) == (sids[1], 1, 10)
    with pytest.raises(InputError):
        hops_from_route(store.conn, Route.from_dict({"hops": "x"}))


@pytest.fixture
def package(store, sids, tmp_path):
    return export_evidence(
        store,
        tmp_path / "pkg",
        hops_from_sightings(store.conn, [sids[0]]),
        user="kim",
        case="C-1",
        pre_roll=0,
        post_roll=0,
        settings=NO_MODELS,
    ).path


def test_tampered_package_detected(package):
    assert verify_package(package).ok
    clip = package / "hops" / "01_CAM1" / "frames.json"
    clip.write_text(clip.read_text().replace('"frame"', '"frame" ', 1))
    res = verify_package(package)
    assert not res.ok and any("frames.json: changed" in p for p in res.problems)


def test_added_and_removed_files_detected(package):
    (package / "extra.txt").write_text("x")
    (package / "hops" / "01_CAM1" / "view.mp4").unlink()
    probs = verify_package(package).problems
    assert any("extra.txt: added" in p for p in probs) and any("view.mp4: removed" in p for p in probs)


def test_edited_manifest_breaks_signature(package):
    m = json.loads((package / "manifest.json").read_text())
    m["case"] = "C-2"
    (package / "manifest.json").write_text(json.dumps(m))
    assert any("bad signature" in p for p in verify_package(package).problems)


def test_resigned_with_other_key_detected(package, tmp_path, monkeypatch):
    (package / "custody.json").write_text("{}")
    monkeypatch.setenv("RELAYTRACK_SIGNING_KEY", str(tmp_path / "forger" / "k.pem"))
    seal(package, case="C-1", created=0.0)  # forger re-seals with their own key
    monkeypatch.delenv("RELAYTRACK_SIGNING_KEY")
    res = verify_package(package)
    assert not res.ok and any("not the trusted key" in p for p in res.problems)


def test_manifest_path_traversal_refused(package, tmp_path):
    m = json.loads((package / "manifest.json").read_text())
    m["files"].append({"path": "../outside.txt", "size": 1, "sha256": "0" * 64})
    (package / "manifest.json").write_text(json.dumps(m))
    assert any("relative path inside" in p for p in verify_package(package).problems)


def test_other_case_sightings_refused(store, sids, tmp_path):
    acc.hold_sightings(store.conn, "C-2", [sids[2]])
    before = store.one("SELECT COUNT(*) FROM exports")[0]
    with pytest.raises(AccessDenied, match="another case"):
        export_evidence(
            store,
            tmp_path / "p2",
            hops_from_sightings(store.conn, [sids[2]]),
            user="kim",
            case="C-1",
            settings=NO_MODELS,
        )
    assert store.one("SELECT COUNT(*) FROM exports")[0] == before
    assert not (tmp_path / "p2").exists()
    with pytest.raises(AccessDenied, match="not assigned"):
        export_evidence(
            store,
            tmp_path / "p3",
            hops_from_sightings(store.conn, [sids[0]]),
            user="kim",
            case="C-2",
            settings=NO_MODELS,
        )


@pytest.mark.parametrize("name", ["../escape", "/abs/path", "a/../../b", "x\x00y", "..", "~root"])
def test_export_dir_traversal_refused(store, sids, tmp_path, name):
    root = tmp_path / "exports"
    root.mkdir()
    with pytest.raises(InputError, match="relative path inside"):
        export_evidence(
            store,
            name,
            hops_from_sightings(store.conn, [sids[0]]),
            user="kim",
            case="C-1",
            export_root=root,
            settings=NO_MODELS,
        )
    assert list(root.iterdir()) == [] and not (tmp_path / "escape").exists()
    assert store.one("SELECT outcome FROM audit_log ORDER BY seq DESC LIMIT 1")[0] == "denied"


def test_existing_package_never_overwritten(store, sids, package):
    with pytest.raises(InputError, match="not empty"):
        export_evidence(
            store,
            package,
            hops_from_sightings(store.conn, [sids[0]]),
            user="kim",
            case="C-1",
            settings=NO_MODELS,
        )
    assert verify_package(package).ok


def test_cli_verify_exit_codes(package, tmp_path):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    r = CliRunner().invoke(app, ["evidence", "verify", str(package)])
    assert r.exit_code == 0, r.output
    shutil.copy(package / "custody.json", package / "copy.json")
    r = CliRunner().invoke(app, ["evidence", "verify", str(package)])
    assert r.exit_code == 1 and "copy.json: added" in r.output


def test_export_from_video_file_with_pre_roll(store, add_sightings, tmp_path):
    video = tmp_path / "cam.mp4"
    wr = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (W, H))
    for f in range(30):
        wr.write(np.full((H, W, 3), 8 * f, np.uint8))
    wr.release()
    ids = add_sightings(store, uri=str(video), n=1)
    store.conn.execute("UPDATE sightings SET first_frame=15, last_frame=20 WHERE id=?", (ids[0],))
    res = export_evidence(
        store,
        tmp_path / "pkg",
        hops_from_sightings(store.conn, ids),
        user="kim",
        case="C-1",
        pre_roll=0.5,
        post_roll=0.5,
        settings=NO_MODELS,
    )
    assert (res.hops[0].first, res.hops[0].last, res.hops[0].frames) == (10, 25, 16)
    frames = _frames(res.path / "hops" / "01_CAM1" / "evidence.avi")
    assert len(frames) == 16 and abs(float(frames[0].mean()) - 8 * 9) < 6  # frame 10 is the 10th written
    custody = json.loads((res.path / "custody.json").read_text())
    assert custody["sources"][0]["original"]["kind"] == "video"
    assert len(custody["sources"][0]["original"]["sha256"]) == 64


def test_alert_track_is_the_target(store, sids, footage, tmp_path):
    boxes = [[f, 0.0, 5 + 15 + f, 5, 10, 30] for f in range(1, 11)]  # the watch's track = sighting 2's person
    store.conn.execute(
        "INSERT INTO alerts(camera_id, source_id, boxes, start_s, end_s) VALUES ('CAM1', 1, ?, 0, 1)",
        (json.dumps(boxes),),
    )
    from relaytrack.evidence.export import hops_from_alert

    hops = hops_from_alert(store.conn, 1)
    assert (hops[0].first, hops[0].last, hops[0].sighting) == (1, 10, None)
    res = export_evidence(
        store,
        tmp_path / "pkg",
        hops,
        user="kim",
        case="C-1",
        pre_roll=0,
        post_roll=0,
        settings=NO_MODELS,
        keep_masks=True,
    )
    m = res.hops[0].masks[4]
    assert m.target == (25.0, 5.0, 35.0, 35.0)
    cover = m.coverage_mask(W, H)
    assert not cover[5:35, 25:35].any()  # sighting 2's own track is the target: never masked
    assert cover[5:35, 10:20].all() and cover[5:35, 40:50].all()  # sightings 1 and 3 are
