"""The plate reader on rendered characters and plates (needs the Noto CJK fonts the classifier is drawn from).

A small character model is trained once for the module (a few seconds, fewer glyphs than the real one) so
the tests do not depend on the project's model file; it must read characters rendered with another seed,
which it never saw, and whole rendered plates.
"""

import json

import cv2
import numpy as np
import pytest

from relaytrack.describe import plate as reader
from relaytrack.describe import plate_chars

pytestmark = pytest.mark.skipif(
    plate_chars.fonts_status() is not None, reason=plate_chars.fonts_status() or ""
)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("plate") / "chars.npz"
    plate_chars.train(path, n_per_class=60, epochs=10, seed=3)
    return path


@pytest.fixture
def use_model(small_model, monkeypatch):
    monkeypatch.setenv("RELAYTRACK_PLATE_CHARS", str(small_model))
    return small_model


def render_plate(text: str, height: int = 60, dark: bool = True) -> np.ndarray:
    """A one-line plate: black characters on white with a frame and two bolts, a bumper around it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(plate_chars._NOTO + "NotoSansCJK-Bold.ttc", 80, index=1)
    w = 60 * len(text) + 80
    im = Image.new("L", (w, 130), 255)
    d = ImageDraw.Draw(im)
    d.rectangle((4, 4, w - 5, 125), outline=0, width=4)
    d.ellipse((14, 58, 26, 70), fill=90)
    d.ellipse((w - 27, 58, w - 15, 70), fill=90)
    x = 40
    for ch in text:
        d.text((x, 8), ch, 0, font=font)
        x += 48 if ch.isdigit() else 74
    a = np.asarray(im)
    if not dark:
        a = 255 - a
    a = np.pad(a, 20, constant_values=120)
    s = height / a.shape[0]
    small = cv2.resize(a, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)


def test_classifier_reads_unseen_rendered_characters(use_model):
    x, y = plate_chars.synth_set(4, seed=99)  # another seed: glyphs the model never saw
    pred = plate_chars.load().probs(x).argmax(1)
    assert (pred == y).mean() >= 0.7  # a small model; chance is 1/56


def test_blank_image_reads_no_plate(use_model):
    assert reader.read_image(np.full((60, 200, 3), 230, np.uint8)) == []
    assert reader.read_crop(np.zeros((4, 4, 3), np.uint8)) is None


@pytest.mark.parametrize("text", ["12가3456", "123호4567", "58너8365"])
def test_reads_rendered_plate(use_model, text):
    reads = reader.read_image(render_plate(text))
    assert reads and reads[0].text == text
    assert all(len(c.alternatives) >= 1 for c in reads[0].chars)


def test_plate_read_cli_contract(use_model, tmp_path):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    good, blank, bad = tmp_path / "p.png", tmp_path / "blank.png", tmp_path / "bad.jpg"
    cv2.imwrite(str(good), render_plate("34수5678"))
    cv2.imwrite(str(blank), np.full((80, 240, 3), 200, np.uint8))
    bad.write_bytes(b"not an image")
    res = CliRunner().invoke(app, ["plate", "read", str(good), str(bad), str(blank), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [o["file"] for o in out] == [str(good), str(bad), str(blank)]
    (p,) = out[0]["plates"]
    assert p["text"] == "34수5678" and 0 < p["confidence"] <= 1
    assert len(p["box"]) == 4 and isinstance(p["alternatives"], list)
    assert out[1]["plates"] == [] and out[2]["plates"] == []
    assert "bad.jpg" in res.stderr and len(res.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_project_model_reads_unseen_rendered_characters():
    """The project's character model (trained here first when missing: minutes)."""
    x, y = plate_chars.synth_set(6, seed=99)
    pred = plate_chars.load(plate_chars.model_path()).probs(x).argmax(1)
    assert (pred == y).mean() >= 0.9


def test_an_older_model_file_turns_ingest_plate_reading_off(tmp_path, monkeypatch):
    """Ingest (status(trained=True)) never retrains mid-run: a model file of an older version counts as none,
    and says so; `plate read` (trained=False) may still train it on first use."""
    import numpy as np

    from relaytrack.describe import plate

    old = tmp_path / "plate-chars.npz"
    np.savez(old, version=np.array(plate_chars.VERSION - 1), classes=np.array(plate_chars.CLASSES))
    monkeypatch.setenv("RELAYTRACK_PLATE_CHARS", str(old))
    assert not plate_chars.is_current()
    assert "older plate character model" in (plate.status(trained=True) or "")
    assert plate.status(trained=False) is None
    old.write_bytes(b"not a model")
    assert not plate_chars.is_current()
    monkeypatch.setenv("RELAYTRACK_PLATE_CHARS", str(tmp_path / "missing.npz"))
    assert "no plate character model" in (plate.status(trained=True) or "")
