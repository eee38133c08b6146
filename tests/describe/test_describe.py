"""Clothing colours, carried items and embeddings on synthetic crops and real re-id crops."""

import numpy as np
import pytest

from relaytrack.describe import colors
from relaytrack.describe.tracklet import CropBank, _Bank, _body_pixels, describe_tracklet
from relaytrack.paths import data_dir
from relaytrack.records import CLASS_ID, PERSON, TRACKED, Detections, TrackBox, Tracklet, Tracks

BGR = {"red": (30, 30, 200), "blue": (170, 70, 20), "yellow": (40, 210, 230), "black": (25, 25, 25),
       "white": (235, 235, 235), "green": (50, 140, 40), "gray": (128, 128, 128), "pink": (180, 140, 245)}


def person_crop(upper: str, lower: str, background=(110, 120, 125), h=160, w=64) -> np.ndarray:
    """A standing figure: torso and two legs with pavement showing between them."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = background
    img[int(0.02 * h):int(0.16 * h), int(0.38 * w):int(0.62 * w)] = (80, 110, 160)  # head
    img[int(0.16 * h):int(0.52 * h), int(0.22 * w):int(0.78 * w)] = BGR[upper]
    img[int(0.52 * h):int(0.97 * h), int(0.28 * w):int(0.46 * w)] = BGR[lower]
    img[int(0.52 * h):int(0.97 * h), int(0.54 * w):int(0.72 * w)] = BGR[lower]
    return img


@pytest.mark.parametrize("upper,lower", [("red", "blue"), ("yellow", "black"), ("white", "gray"),
                                         ("green", "blue"), ("pink", "black")])
def test_colours_of_torso_and_legs(upper, lower):
    up, lo = _body_pixels(person_crop(upper, lower))
    assert colors.dominant(up)[0] == upper
    name, conf = colors.dominant(lo)
    assert name == lower and conf > 0.6  # the pavement between the legs is not counted


@pytest.mark.parametrize("bgr,name", [((20, 20, 20), "black"), ((250, 250, 250), "white"),
                                      ((128, 128, 128), "gray"), ((0, 0, 220), "red"), ((0, 140, 255), "orange"),
                                      ((0, 220, 230), "yellow"), ((40, 160, 40), "green"), ((200, 90, 20), "blue"),
                                      ((150, 40, 120), "purple"), ((190, 150, 255), "pink"), ((40, 70, 120), "brown")])
def test_palette_pixels(bgr, name):
    assert colors.NAMES[colors.classify_pixels(np.array([bgr], np.uint8))[0]] == name


def test_palette_has_korean_names():
    assert len(colors.PALETTE) == 11 and colors.PALETTE["red"] == "빨강"
    assert colors.similarity("black", "gray") == 0.5 and colors.similarity("red", "blue") == 0.0


def test_tracklet_description_votes_over_crops_and_finds_a_backpack():
    bank = CropBank(keep=3)
    frame = np.full((360, 640, 3), (110, 120, 125), np.uint8)
    crop = person_crop("red", "blue", h=160, w=64)
    frame[100:260, 300:364] = crop
    box = np.array([300, 100, 364, 260], np.float32)
    bag = Detections(np.array([[330, 140, 380, 200]]), np.array([0.6]), np.array([CLASS_ID["backpack"]]))
    for f in range(1, 6):
        bank.add_frame(frame, f, Tracks([1], [PERSON], box[None], [0.9], [TRACKED]), bag)
    tl = Tracklet(1, "C1", "person", [TrackBox(f, f / 10, tuple(box), 0.9) for f in range(1, 6)])
    d = describe_tracklet(tl, bank.pop(1), embedder=None)
    assert (d.upper_color, d.lower_color) == ("red", "blue")
    assert "backpack" in d.items and d.thumbnail_jpeg and d.best_box[2] == 64


def _walk_bank(
    gap: float, quality_peak: int = 12, frames: int = 25, keep: int = 3, spread: int = 0
) -> list[tuple]:
    """One person walking towards the camera and away again at 5 fps (largest, best crop at `quality_peak`)."""
    bank = CropBank(keep=keep, min_gap_s=gap, spread=spread)
    frame = np.full((720, 1280, 3), (110, 120, 125), np.uint8)  # quality grows with height up to 252 px
    none = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    for f in range(frames):
        h = 200 - 8 * abs(f - quality_peak)
        box = np.array([300, 600 - h, 300 + h // 2.5, 600], np.float32)
        bank.add_frame(frame, f, Tracks([1], [PERSON], box[None], [0.9], [TRACKED]), none, t=f / 5.0)
    chosen = bank.pop(1)
    # Colours and plates are still read from the best crops, whatever the gap.
    assert sorted(c[1] for c in chosen.best) == [quality_peak - 1, quality_peak, quality_peak + 1]
    return sorted(chosen.crops, key=lambda c: c[1])


def test_crop_bank_keeps_crops_apart_in_time():
    # Without a gap the best crops are the consecutive frames around the closest approach.
    assert [c[1] for c in _walk_bank(0.0)] == [11, 12, 13]
    # With 0.4 s (two frames at 5 fps) they spread: the best frame and the best ones at least 0.4 s from it.
    kept = _walk_bank(0.4)
    assert [c[1] for c in kept] == [10, 12, 14]
    assert all(b[4] - a[4] >= 0.4 - 1e-9 for a, b in zip(kept, kept[1:], strict=False))


def test_crop_bank_embeds_more_views_than_it_reads_colours_from():
    # 5 crops 0.4 s apart for the embedding, the 3 best (checked in _walk_bank) for colours and plates.
    kept = _walk_bank(0.4, spread=5)
    assert [c[1] for c in kept] == [8, 10, 12, 14, 16]
    # The pool holds enough crops to spread that many: 3 x 5 best by quality.
    assert CropBank(keep=3, min_gap_s=0.4, spread=5).capacity == 5 * CropBank.POOL
    # A checkpoint written before the embedding had its own count embeds `keep` crops.
    old = CropBank.__new__(CropBank)
    old.__dict__.update(keep=2, min_gap_s=0.0, banks={})
    assert old.embedded == 2


def test_crop_bank_chooses_from_a_pool_and_reads_old_entries():
    bank = CropBank(keep=2, min_gap_s=1.0)
    assert bank.capacity == 2 * CropBank.POOL and CropBank(keep=2).capacity == 2
    bank.banks[1] = _Bank(crops=[(0.9, 1, b"a", (0, 0, 1, 1), 0.2),
                                (0.8, 2, b"b", (0, 0, 1, 1), 0.6), (0.5, 9, b"c", (0, 0, 1, 1), 1.8)])
    assert [c[1] for c in bank.pop(1).crops] == [1, 9] and 1 not in bank.banks
    # Too short for two crops a second apart: filled with the best remaining one (a fragment keeps its views).
    bank.banks[2] = _Bank(crops=[(0.9, 1, b"a", (0, 0, 1, 1), 0.2), (0.8, 2, b"b", (0, 0, 1, 1), 0.6)])
    assert [c[1] for c in bank.pop(2).crops] == [1, 2]
    # A checkpoint written before crops carried their time: its crops never clash.
    old = CropBank.__new__(CropBank)
    old.__dict__.update(keep=2, banks={1: _Bank(crops=[(0.9, 1, b"a", (0, 0, 1, 1)), (0.8, 2, b"b", (0, 0, 1, 1))])})
    assert old.min_gap_s == 0.0 and [c[1] for c in old.pop(1).crops] == [1, 2]


@pytest.mark.parametrize(("model", "width"), [("imagenet", 1280), ("parts", 2594)])
def test_embedder_ranks_the_same_person_first(model, width):
    crops_dir = data_dir() / "reid-samples" / "market1501-crops"
    if not crops_dir.is_dir():
        pytest.skip("../shared/data/reid-samples not present")
    import cv2

    from relaytrack.describe import Embedder

    files = sorted(crops_dir.glob("*.jpg"))
    pids = [f.name.split("_")[0] for f in files]
    emb = Embedder(model=model).embed([cv2.imread(str(f)) for f in files])
    assert emb.shape[1] == width and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    sims = emb @ emb.T
    np.fill_diagonal(sims, -1)
    same = [i for i in range(len(files)) if pids.count(pids[i]) > 1]
    assert same, "the sample set has a person seen twice"
    hits = sum(pids[int(np.argmax(sims[i]))] == pids[i] for i in same)
    # Not re-id trained: we only require better than chance on this tiny set (see README figures).
    assert hits / len(same) > 1 / (len(set(pids)))
