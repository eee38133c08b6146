"""The plate reader's split score (describe.plate._score): type digits stand at the serial's pitch, so a
frame edge just left of them does not become a leading 1 (53어1144 read as 153어1144 on rendered plates)."""

from __future__ import annotations

import numpy as np

from relaytrack.describe import plate, plate_chars
from relaytrack.describe.plate_segment import Layout


def _probs(boxes_chars: list[tuple[tuple, str]], sure: float) -> dict:
    out = {}
    for box, ch in boxes_chars:
        p = np.full(len(plate_chars.CLASSES), 1e-3, np.float32)
        p[plate_chars.CLASSES.index(ch)] = sure
        out[(box, True)] = p
    return out


def test_a_frame_edge_at_another_pitch_is_not_a_type_digit():
    # Glyphs 25 px apart (centres 52.5, 77.5 | syllable | 134.5 ... 209.5); the frame edge 20 px left of "5".
    edge, five, three = (30, 21, 5, 38), (42, 22, 21, 32), (67, 23, 20, 31)
    syl = (91, 23, 30, 31)
    serial = [(124 + 25 * i, 22, 21, 33) for i in range(4)]
    chars = [(edge, "1"), (five, "5"), (three, "3"), (syl, "어")] + list(zip(serial, "1144", strict=True))
    probs = _probs(chars, 0.95)
    # The edge reads as a confident 1 and as "no character" only weakly: without the pitch, the 3-digit split
    # (no skipped group to pay for) wins.
    probs[(edge, True)][plate_chars.CLASSES.index(plate_chars.JUNK)] = 0.05
    three_digit = Layout(True, [edge, five, three, syl, *serial], "dddHdddd", [])
    two_digit = Layout(True, [five, three, syl, *serial], "ddHdddd", [edge])
    s3, c3 = plate._score(three_digit, probs, three_digit.kinds)
    s2, c2 = plate._score(two_digit, probs, two_digit.kinds)
    assert "".join(c.char for c in c2) == "53어1144" and "".join(c.char for c in c3) == "153어1144"
    assert s2 > s3


def test_type_digits_at_the_serial_pitch_keep_a_three_digit_plate():
    digits = [(20 + 25 * i, 22, 21, 33) for i in range(3)]
    syl = (95, 23, 30, 31)
    serial = [(134 + 25 * i, 22, 21, 33) for i in range(4)]
    chars = list(zip(digits, "123", strict=True)) + [(syl, "가")] + list(zip(serial, "4567", strict=True))
    probs = _probs(chars, 0.95)
    lay = Layout(True, [*digits, syl, *serial], "dddHdddd", [])
    s, c = plate._score(lay, probs, lay.kinds)
    assert "".join(x.char for x in c) == "123가4567"
    # Only the 3-digit plates' own cost and the class probabilities: no pitch penalty to speak of.
    assert s > -plate.THREE_DIGIT_COST - 1.0
