import numpy as np
import pytest

from relaytrack.config import DetectConfig
from relaytrack.detect import Detector, nms
from relaytrack.errors import ModelError
from relaytrack.records import PERSON


def _iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def detector():
    return Detector(DetectConfig())


def test_decodes_people_on_a_real_frame(detector, pets_dir):
    import cv2

    img = cv2.imread(str(pets_dir / "img1" / "000001.jpg"))
    gt = np.loadtxt(pets_dir / "gt" / "gt.txt", delimiter=",")
    gt = gt[(gt[:, 0] == 1) & (gt[:, 6] != 0)]
    boxes = gt[:, 2:6].copy()
    boxes[:, 2:] += boxes[:, :2]
    dets = detector.detect(img)
    persons = dets.select((dets.class_id == PERSON) & (dets.confidence >= 0.35))
    found = sum(any(_iou(g, d) >= 0.5 for d in persons.xyxy) for g in boxes)
    # Anchor-centre decoding off by half a cell drops recall on PETS from ~0.9 to ~0.5 (MODELS.md).
    assert found / len(boxes) >= 0.7, (found, len(boxes))
    assert persons.xyxy[:, 0].min() >= 0 and persons.xyxy[:, 2].max() <= img.shape[1]


def test_empty_frame_gives_no_people(detector):
    dets = detector.detect(np.full((360, 640, 3), 128, np.uint8))
    assert (dets.class_id == PERSON).sum() == 0


def test_rejects_non_image(detector):
    with pytest.raises(ValueError, match="HxWx3"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_tiles_cover_wide_views(detector):
    regions = Detector._tiles(detector, 1920, 1080)
    assert len(regions) == 5 and regions[0] == (0, 0, 1920, 1080)
    # Overlapping tiles cover the whole frame.
    assert min(r[0] for r in regions[1:]) == 0 and max(r[2] for r in regions[1:]) == 1920
    assert Detector._tiles(detector, 1280, 720) == [(0, 0, 1280, 720)]
    assert Detector._tiles(detector, 640, 360) == [(0, 0, 640, 360)]


@pytest.mark.parametrize(
    "boxes,scores,classes,expected",
    [
        ([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]], [0.9, 0.8, 0.7], [0, 0, 0], [0, 2]),
        ([[0, 0, 10, 10], [1, 1, 10, 10]], [0.5, 0.9], [0, 0], [1]),
        ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 24], [0, 1]),  # other class is not suppressed
        ([], [], [], []),
    ],
)
def test_nms(boxes, scores, classes, expected):
    keep = nms(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32), np.array(classes), 0.5)
    assert sorted(keep.tolist()) == expected


def test_wrong_model_file_is_named(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="bad.onnx"):
        Detector(DetectConfig(model=str(bad)))


def test_model_with_wrong_contract_is_refused():
    from relaytrack.paths import shared_models_dir

    other = shared_models_dir() / "mobilenetv2-imagenet-embedder.onnx"
    if not other.is_file():
        pytest.skip("shared models not present")
    with pytest.raises(ModelError, match="wrong"):
        Detector(DetectConfig(model=str(other)))
