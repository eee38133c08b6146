"""The per-camera session shared by ingest and the watch: typed steps, finish, describe, checkpoint/resume."""

from __future__ import annotations

import numpy as np

from relaytrack.config import load_config
from relaytrack.pipeline.session import CameraSession, Stages
from relaytrack.records import PERSON, Detections, Frame, Tracks

W, H = 320, 240


class ScriptedDetector:
    """One person walking right, and a second one from frame 10 on: no model needed."""

    def detect(self, image: np.ndarray) -> Detections:
        i = int(image[0, 0, 0])  # the frame index is painted into the image
        boxes = [[10 + 4 * i, 60, 40 + 4 * i, 140]]
        if i >= 10:
            boxes.append([250 - 3 * i, 80, 280 - 3 * i, 170])
        return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9), np.full(len(boxes), PERSON))


def frames(first: int, last: int) -> list[Frame]:
    out = []
    for i in range(first, last + 1):
        img = np.full((H, W, 3), 120, np.uint8)
        img[0, 0, 0] = i
        out.append(Frame("C1", i, (i - 1) / 10, 1_700_000_000.0 + (i - 1) / 10, img))
    return out


def session(state=None) -> CameraSession:
    stages = Stages(load_config(None), ScriptedDetector(), None)  # type: ignore[arg-type]
    return CameraSession(stages, "C1", (W, H), state=state, source_id=7, start_wall=1_700_000_000.0)


def test_step_gives_named_tracks_and_finish_the_tracklets():
    s = session()
    steps = [s.step(f) for f in frames(1, 30)]
    assert all(isinstance(st.tracks, Tracks) for st in steps)
    assert steps[-1].frame.index == 30 and len(steps[-1].detections) == 2
    assert sorted(steps[-1].tracks.track_id.tolist()) == [1, 2]
    assert s.state.frame == 30 and s.timings["detect"] >= 0 and s.timings["track"] > 0
    done = s.finish()
    assert sorted(tl.track_id for tl in done) == [1, 2]
    described = s.describe(done)
    assert [d.sighting.track_id for d in described] == [d.tracklet.track_id for d in described]
    first = described[0].sighting
    assert first.camera == "C1" and first.source_id == 7 and first.kind == "person"
    assert first.wall_start == 1_700_000_000.0 + first.start


def test_restored_checkpoint_carries_on_exactly():
    whole = session()
    for f in frames(1, 30):
        whole.step(f)
    expected = [(tl.track_id, [(b.frame, b.xyxy) for b in tl.boxes]) for tl in whole.finish()]

    first = session()
    for f in frames(1, 12):
        first.step(f)
    first.prune()
    resumed = session(CameraSession.restore(first.checkpoint()))
    assert resumed.state.frame == 12
    for f in frames(13, 30):
        resumed.step(f)
    got = [(tl.track_id, [(b.frame, b.xyxy) for b in tl.boxes]) for tl in resumed.finish()]
    assert got == expected


def test_a_session_nobody_describes_keeps_no_crops():
    # The watch without stored sightings: a 24/7 camera must not keep every passer-by's crops.
    stages = Stages(load_config(None), ScriptedDetector(), None)  # type: ignore[arg-type]
    s = CameraSession(stages, "C1", (W, H), collect_crops=False)
    for f in frames(1, 30):
        s.step(f)
    assert s.state.bank.banks == {}
    kept = session()
    for f in frames(1, 30):
        kept.step(f)
    assert set(kept.state.bank.banks) == {1, 2}
