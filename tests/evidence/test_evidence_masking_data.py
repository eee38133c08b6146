"""The masking pass with the real detector and BlazeFace on real footage (PETS09-S2L1, a few frames)."""

import pytest

from relaytrack.paths import data_dir, shared_models_dir

SEQ = data_dir() / "mot15" / "PETS09-S2L1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.data,
    pytest.mark.skipif(not (SEQ / "gt" / "gt.txt").exists(), reason="needs ../shared/data/mot15/PETS09-S2L1"),
    pytest.mark.skipif(
        not (shared_models_dir() / "nanodet-coco80-416.onnx").exists(), reason="needs NanoDet"
    ),
]


def test_detection_pass_masks_bystanders_keeps_target():
    from relaytrack.bench.evidence import measure_masking

    res = measure_masking(SEQ, target=9, frames=6, tracks=False, detect=True, faces=True)
    assert res["frames"] == 6 and res["non_target_boxes"] >= 10
    assert res["masked_rate"] >= 0.9  # measured 1.0 on these frames
    assert res["target_visible_mean"] >= 0.9  # the target walks alone here


def test_without_any_masking_source_nothing_is_masked():
    from relaytrack.bench.evidence import measure_masking

    res = measure_masking(SEQ, target=9, frames=3, tracks=False, detect=False, faces=False)
    assert res["masked_rate"] == 0.0 and res["target_visible_mean"] == 1.0
