"""The plate reader on synthetic plate images (needs tesseract with the Korean model)."""

import numpy as np
import pytest

from relaytrack.describe import plate as reader

pytestmark = pytest.mark.skipif(not reader.available(), reason=reader.tesseract_status() or "")


def test_blank_image_reads_no_plate():
    assert reader.read_image(np.full((60, 200, 3), 230, np.uint8)) == []
    assert reader.read_crop(np.zeros((4, 4, 3), np.uint8)) is None


def test_digit_templates_read_rendered_digits():
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(reader._FONT_DIR + "DejaVuSansCondensed-Bold.ttf", 44)
    wrong = 0
    for d in "0123456789":
        im = Image.new("L", (60, 70), 0)
        ImageDraw.Draw(im).text((10, 5), d, 255, font=font)
        wrong += reader.read_digit(np.asarray(im) > 127).char != d
    assert wrong == 0
