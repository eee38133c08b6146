"""Detector recall on rendered people (slow: runs the real detector)."""

import importlib.util

import pytest

from relaytrack.paths import shared_models_dir

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    importlib.util.find_spec("relaytrack.detect") is None, reason="relaytrack.detect not built yet"
)
@pytest.mark.skipif(
    not (shared_models_dir() / "nanodet-coco80-416.onnx").exists(), reason="NanoDet model missing"
)
def test_detector_finds_rendered_people(tmp_path):
    from relaytrack.town import generate, measure_detector_recall

    town = generate(seed=3, cameras=2, minutes=0.1, out_dir=tmp_path / "t")
    r = measure_detector_recall(town, max_frames=15, every=4)
    assert r["gt_boxes"] >= 20
    assert r["recall"] >= 0.8, r
