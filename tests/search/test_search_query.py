"""Parser tables: Korean and English descriptions to the same structure."""

import pytest

from relaytrack.errors import InputError
from relaytrack.search.query import parse_text

P = {"kind": "person"}
V = {"kind": "vehicle"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("빨간 상의에 검은 바지, 백팩", {**P, "upper": "red", "lower": "black", "items": ["backpack"]}),
        ("red top, black trousers, backpack", {**P, "upper": "red", "lower": "black", "items": ["backpack"]}),
        ("상의는 빨간색, 바지는 검정", {**P, "upper": "red", "lower": "black"}),
        ("top in red, trousers in black", {**P, "upper": "red", "lower": "black"}),
        ("붉은 자켓, 까만 치마", {**P, "upper": "red", "lower": "black"}),
        ("crimson jacket and dark skirt", {**P, "upper": "red", "lower": "black"}),
        ("남색 후드티, 청바지, 우산", {**P, "upper": "blue", "lower": "blue", "items": ["umbrella"]}),
        (
            "a man in a navy blue hoodie and jeans with an umbrella",
            {**P, "upper": "blue", "lower": "blue", "items": ["umbrella"]},
        ),
        ("하얀 셔츠, 카키 바지, 여행가방", {**P, "upper": "white", "lower": "green", "items": ["suitcase"]}),
        (
            "white shirt, khaki pants, suitcase",
            {**P, "upper": "white", "lower": "green", "items": ["suitcase"]},
        ),
        ("회색 코트에 핸드백, 휴대폰", {**P, "upper": "gray", "items": ["handbag", "cell phone"]}),
        ("grey coat with a handbag and a phone", {**P, "upper": "gray", "items": ["handbag", "cell phone"]}),
        ("검은색 옷차림의 여자", {**P, "upper": "black"}),
        (
            "흰색 승용차, 번호판 12가 3456",
            {**V, "vehicle_type": "car", "vehicle_color": "white", "plate": "12가3456"},
        ),
        (
            "white car, plate 12가 3456",
            {**V, "vehicle_type": "car", "vehicle_color": "white", "plate": "12가3456"},
        ),
        ("파란 트럭 번호 3456", {**V, "vehicle_type": "truck", "vehicle_color": "blue", "plate": "3456"}),
        ("blue truck plate 3456", {**V, "vehicle_type": "truck", "vehicle_color": "blue", "plate": "3456"}),
        ("빨간 오토바이", {**V, "vehicle_type": "motorcycle", "vehicle_color": "red"}),
        ("red motorbike", {**V, "vehicle_type": "motorcycle", "vehicle_color": "red"}),
        ("흰 차", {**V, "vehicle_type": "car", "vehicle_color": "white"}),
    ],
)
def test_parse_table(text, expected):
    got = parse_text(text).structure()
    want = {
        "kind": None,
        "upper": None,
        "lower": None,
        "items": [],
        "vehicle_type": None,
        "vehicle_color": None,
        "plate": None,
        "time_from": None,
        "time_to": None,
        "tod_from": None,
        "tod_to": None,
        "cameras": [],
        "districts": [],
        **expected,
    }
    assert got == want


def test_korean_and_english_identical():
    assert (
        parse_text("빨간 상의에 검은 바지, 백팩").structure()
        == parse_text("red top, black trousers, backpack").structure()
    )


@pytest.mark.parametrize(
    "text, tod",
    [
        ("오후 2시부터 3시 빨간 상의", (14 * 3600, 15 * 3600)),
        ("red top between 2pm and 3:30pm", (14 * 3600, 15 * 3600 + 1800)),
        ("red top 14:00-15:00", (14 * 3600, 15 * 3600)),
        ("red top after 22:00", (22 * 3600, 86400)),
    ],
)
def test_time_of_day(text, tod):
    q = parse_text(text)
    assert (q.tod_from, q.tod_to) == tod and q.upper == "red"


def test_absolute_window_cameras_districts():
    q = parse_text("2026-11-25 14:00 ~ 2026-11-25 15:00 마포구 camera C01, C02 파란 버스")
    assert q.time_to - q.time_from == 3600
    assert q.cameras == ["C01", "C02"] and q.districts == ["마포구"]
    assert (q.kind, q.vehicle_type, q.vehicle_color) == ("vehicle", "bus", "blue")
    j = q.to_json()
    assert j["time_from"].startswith("2026-11-25T14:00:00+09:00")
    assert "bus" in q.human()


@pytest.mark.parametrize("text", ["", "   ", "x" * 600])
def test_bad_text(text):
    with pytest.raises(InputError):
        parse_text(text)
