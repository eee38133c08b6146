"""Alerts with their evidence (issue 19 item 6): the watch stores an alert's clip and key frames relative to
the store, so a store copied or moved with its clips/ folder still plays them; the console gets the key
frames (the crouch, the reach, the decision frame) with their names in the person's language."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
from fastapi.testclient import TestClient
from svc_world import hdr

from relaytrack.store import Store
from relaytrack.watch.alerts import Alert, get_alert
from relaytrack.watch.service import _Sink

KO = {"Accept-Language": "ko"}


def _evidence(folder: Path, alert_id: int) -> tuple[Path, list[Path]]:
    """A 6-frame MJPEG clip and two key frames, as the watch writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"alert-{alert_id}-C03-t1.avi"
    vw = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (160, 120))
    for i in range(6):
        vw.write(np.full((120, 160, 3), 40 * i, np.uint8))
    vw.release()
    frames = []
    for name in ("crouch", "decision"):
        p = folder / f"alert-{alert_id}-{name}.jpg"
        cv2.imwrite(str(p), np.full((720, 1280, 3), 128, np.uint8))
        frames.append(p)
    return clip, frames


def _app(db: Path, tmp: Path):
    from relaytrack.evidence.mask import MaskSettings
    from relaytrack.service.app import create_app

    return create_app(db, export_root=tmp / "exports", mask=MaskSettings(detect=False, faces=False))


def test_clips_and_key_frames_travel_with_the_store(world, tmp_path: Path):
    db = Path(world.db)
    with Store(db) as store:
        sink = _Sink(store)
        a = Alert("C03", 1.0, 3.0, 0.9, ["stopped 18 s at mailbox m1"], wall_start=1.0, wall_decided=2.0)
        sink.persist(a, True)  # the watch opens the alert, then writes its evidence when the person leaves
        clip, frames = _evidence(db.parent / "clips" / "C03", a.id)
        a.clip, a.keyframes = str(clip), [str(p) for p in frames]
        sink.persist(a, False)
        stored = get_alert(store.conn, a.id)
    assert a.clip == str(clip)  # what `watch --json` prints keeps the path as written
    assert stored.clip == f"clips/C03/{clip.name}" and stored.keyframes[0] == f"clips/C03/{frames[0].name}"

    # The store and its clips are moved elsewhere: the service there still shows and plays them.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(db, moved / db.name)
    for suffix in (".audit-anchor", ".audit-heads"):
        if Path(str(db) + suffix).exists():
            shutil.copy(Path(str(db) + suffix), moved / (db.name + suffix))
    shutil.copytree(db.parent / "clips", moved / "clips")
    shutil.rmtree(db.parent / "clips")
    with TestClient(_app(moved / db.name, tmp_path), raise_server_exceptions=False) as client:
        h = {**hdr(world, "op", None), **KO}
        frames_out = client.get(f"/api/alerts/{a.id}/keyframes", headers=h).json()
        assert [f["moment"] for f in frames_out] == ["crouch", "decision"]
        assert [f["label"] for f in frames_out] == ["웅크린 순간", "경보 판단 시점"]
        jpg = frames_out[0]["image"]
        assert jpg.startswith("data:image/jpeg;base64,")
        import base64

        img = cv2.imdecode(np.frombuffer(base64.b64decode(jpg.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        assert img.shape[1] == 640  # scaled for the wall
        with client.stream("GET", f"/api/video/alert/{a.id}.mjpeg?speed=16", headers=h) as r:
            assert r.status_code == 200
            assert b"".join(r.iter_bytes()).count(b"Content-Type: image/jpeg") == 6
        assert client.get("/api/alerts/999999/keyframes", headers=h).status_code == 404


def test_key_frames_outside_the_clip_folders_are_not_read(client, world, tmp_path_factory):
    outside = tmp_path_factory.mktemp("not-the-store")  # neither the store's folder nor the installation's
    _, frames = _evidence(outside, 1)
    with Store(world.db) as store, store.tx() as conn:
        from relaytrack.watch.alerts import insert_alert

        aid = insert_alert(
            conn, Alert("C03", 1.0, 3.0, 0.9, ["x"], wall_start=1.0, keyframes=[str(p) for p in frames])
        )
    r = client.get(f"/api/alerts/{aid}/keyframes", headers=hdr(world, "op", None))
    assert r.status_code == 200 and r.json() == []


def test_background_export_with_progress_and_a_zip_download(client, world):
    """An export runs as a job the console polls; the finished package downloads as one ZIP."""
    import io
    import time
    import zipfile

    h = {**hdr(world, "kim"), **KO}
    assert (
        client.post("/api/relay", json={"origin": world.suspect[0], "hops": 6}, headers=h).status_code == 200
    )
    r = client.post("/api/exports/jobs", json={"origin": world.suspect[0]}, headers=h)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "running" and job["frames_total"] > 0
    assert (
        client.get(f"/api/exports/jobs/{job['job']}", headers={**hdr(world, "lee", "C-2")}).status_code == 404
    )
    t0 = time.time()
    while job["state"] == "running" and time.time() - t0 < 120:
        time.sleep(0.3)
        job = client.get(f"/api/exports/jobs/{job['job']}", headers=h).json()
    assert job["state"] == "done", job
    assert job["percent"] == 100 and job["frames_done"] >= 4 * 26  # every hop's frames were counted
    eid = job["export_id"]
    assert job["result"]["manifest_sha256"] and "manifest.json" in job["result"]["files"]

    r = client.get(f"/api/exports/{eid}/download", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert (
        r.headers["content-disposition"].startswith("attachment; filename=")
        and ".zip" in r.headers["content-disposition"]
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
        manifest = next(n for n in names if n.endswith("/manifest.json"))
        assert json.loads(zf.read(manifest))  # the package's own files, intact
    assert len(names) == len(job["result"]["files"])
    assert client.get(f"/api/exports/{eid}/download", headers=hdr(world, "lee", "C-2")).status_code == 403

    rows = client.get("/api/audit?limit=50", headers={**hdr(world, "sup", None), **KO}).json()
    said = [x["summary_text"] for x in rows]
    assert any("증거 반출을 시작함" in x for x in said) and any("파일을 내려받음" in x for x in said), said
