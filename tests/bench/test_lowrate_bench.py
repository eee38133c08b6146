"""`bench lowrate`: the tracker at 1-2 analysed frames/s with and without matching by distance."""

from __future__ import annotations

import numpy as np
import pytest

from relaytrack.config import TrackConfig
from relaytrack.paths import data_dir
from relaytrack.records import PERSON, Detections

SEQ = data_dir() / "mot15" / "TUD-Stadtmitte"


def _walker(f: int) -> Detections:
    x = 20.0 + 6.0 * f  # 60 px/s at 10 fps: 0.75 box heights (80 px) per second, a walk
    return Detections(np.array([[x, 100, x + 30, 180]]), np.array([0.9]), np.array([PERSON]))


def test_variants_differ_only_in_distance_matching():
    from relaytrack.bench.lowrate import stored_rows, variant_config

    base = TrackConfig()
    off = variant_config(base, "IoU only")
    assert variant_config(base, "distance") == base
    assert off.low_rate_min_len == base.min_len and off.low_rate_s > 1e6
    assert off.model_dump(exclude={"low_rate_s", "low_rate_min_len"}) == base.model_dump(
        exclude={"low_rate_s", "low_rate_min_len"}
    )
    grid = list(range(1, 101, 10))  # 1 fps over a 10 fps source
    dets = {f: _walker(f) for f in grid}
    on_rows = stored_rows(base, (640, 360), "C", grid, 10.0, dets)
    off_rows = stored_rows(off, (640, 360), "C", grid, 10.0, dets)
    assert sorted(set(on_rows[:, 0].astype(int))) == list(range(1, 11))  # renumbered analysed frames
    assert len(np.unique(on_rows[:, 1])) == 1  # one walker, one stored tracklet
    assert len(off_rows) == 0  # boxes 60 px apart (30 px wide) never overlap: nobody is stored


@pytest.mark.data
@pytest.mark.skipif(not (SEQ / "gt" / "gt.txt").exists(), reason="needs ../shared/data/mot15/TUD-Stadtmitte")
def test_real_footage_at_two_fps_distance_matching_beats_iou_only():
    from relaytrack.bench.lowrate import run_sequences
    from relaytrack.config import load_config

    res = run_sequences([SEQ], [2.0], load_config(None), say=lambda m: None)
    rows = {r["variant"]: r for r in res["table"]}
    assert rows["distance"]["IDF1"] > rows["IoU only"]["IDF1"] + 5
    assert rows["distance"]["FN"] < rows["IoU only"]["FN"]


def test_a_missing_folder_is_a_one_line_error(tmp_path):
    from relaytrack.bench.lowrate import run
    from relaytrack.config import load_config
    from relaytrack.errors import InputError

    with pytest.raises(InputError, match="no such folder"):
        run([tmp_path / "nope"], [1.0], load_config(None))
    with pytest.raises(InputError, match="no MOTChallenge sequences"):
        run([tmp_path], [1.0], load_config(None))
