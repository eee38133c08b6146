"""Korean plate grammar and voting across a tracklet's frames."""

import pytest

from relaytrack.describe.plate_grammar import CharRead, PlateError, PlateRead, parse_plate, vote

# text, expected (kind, format, region, class syllable) or the exception it must raise
CASES = [
    ("12가3456", ("private", "current-2", None, "가"), None),
    ("123가4567", ("private", "current-3", None, "가"), None),
    ("12 가 3456", ("private", "current-2", None, "가"), None),
    ("서울12가3456", ("private", "regional", "서울", "가"), None),
    ("경기58더8365", ("private", "regional", "경기", "더"), None),
    ("인천71바4770", ("commercial", "regional", "인천", "바"), None),
    ("34사1234", ("commercial", "current-2", None, "사"), None),
    ("80배1234", ("commercial", "current-2", None, "배"), None),
    ("56하5037", ("rental", "current-2", None, "하"), None),
    ("12호3456", ("rental", "current-2", None, "호"), None),
    ("05육2107", ("military", "current-2", None, "육"), None),
    ("서울강남가1234", ("motorbike", "motorbike", "서울", "가"), None),
    ("외교123-456", ("diplomatic", "diplomatic", None, "외교"), None),
    ("12갑3456", None, PlateError),  # not a class syllable
    ("1가3456", None, PlateError),  # one type digit without a region
    ("1234가3456", None, PlateError),
    ("12가345", None, PlateError),  # short serial
    ("12가34567", None, PlateError),
    ("서울123가4567", None, PlateError),  # region plates never had 3 type digits
    ("123456", None, PlateError),  # no syllable
    ("", None, PlateError),
    ("AB가1234", None, PlateError),
]


@pytest.mark.parametrize(("text", "want", "exc"), CASES)
def test_grammar_table(text, want, exc):
    if exc is not None:
        with pytest.raises(exc):
            parse_plate(text)
        return
    p = parse_plate(text)
    assert (p.kind, p.fmt, p.region, p.cls) == want
    assert " " not in p.text and "-" not in p.text


def _read(text: str, conf: float = 0.9, low: dict[int, tuple[str, float, dict]] | None = None) -> PlateRead:
    chars = [CharRead(c, conf, {c: conf}) for c in text]
    for i, (c, p, alts) in (low or {}).items():
        chars[i] = CharRead(c, p, alts)
    return PlateRead(chars)


def test_vote_outvotes_one_misread_digit():
    reads = [_read("12가3456"), _read("12가3456"), _read("12가3458", low={6: ("8", 0.6, {"8": 0.6, "6": 0.4})})]
    v = vote(reads)
    assert v is not None and v.text == "12가3456" and v.frames == 3
    assert v.confidence > 0.5


def test_vote_keeps_runner_up_as_alternative():
    reads = [_read("12가3456", low={2: ("가", 0.55, {"가": 0.55, "거": 0.45})})]
    v = vote(reads)
    assert v.text == "12가3456"
    assert v.alternatives and v.alternatives[0][0] == "12거3456"


def test_vote_ignores_non_plates_and_prefers_confident_layout():
    reads = [_read("12345"), _read("123가4567", 0.5), _read("12가3456", 0.9), _read("12가3456", 0.8)]
    v = vote(reads)
    assert v.text == "12가3456" and v.frames == 2
    assert vote([_read("12345"), _read("가가가")]) is None
    assert vote([]) is None


def test_vote_result_is_always_a_plate():
    # Positions voted apart must not produce a non-plate: the syllable votes stay within class syllables.
    reads = [_read("12가3456", 0.6), _read("12나3456", 0.6), _read("12가3456", 0.3)]
    v = vote(reads)
    assert parse_plate(v.text).cls in ("가", "나")
