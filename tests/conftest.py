"""Shared fixtures: real data from ../shared when present (tests needing it skip with a reason otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relaytrack.paths import data_dir

os.environ.setdefault("RELAYTRACK_LANG", "en")  # human output in English unless a test says --lang ko
os.environ.setdefault("RELAYTRACK_HOME", str(Path(__file__).resolve().parent.parent / ".relaytrack" / "test-home"))

PETS = data_dir() / "mot15" / "PETS09-S2L1"
needs_data = pytest.mark.skipif(not PETS.is_dir(), reason="../shared/data (real MOT footage) not present")


@pytest.fixture(scope="session")
def pets_dir() -> Path:
    if not PETS.is_dir():
        pytest.skip("../shared/data/mot15/PETS09-S2L1 not present")
    return PETS


@pytest.fixture(scope="session")
def pets_clip(tmp_path_factory, pets_dir) -> Path:
    """The first 40 PETS09 frames as a small MJPEG/mp4v video (a real camera clip, quick to ingest)."""
    import cv2

    out = tmp_path_factory.mktemp("clips") / "pets40.mp4"
    frames = sorted((pets_dir / "img1").glob("*.jpg"))[:40]
    first = cv2.imread(str(frames[0]))
    h, w = first.shape[:2]
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 7.0, (w, h))
    for p in frames:
        vw.write(cv2.imread(str(p)))
    vw.release()
    return out
