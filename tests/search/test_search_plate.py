"""Search by plate: patterns, confusion tolerance, ranking and explanation."""

import pytest

from relaytrack.errors import InputError
from relaytrack.search.plate import best_match, check_pattern, match
from relaytrack.search.query import parse_text

PLATES = ["12가3456", "34나3456", "123가4567", "12거3456", "12가3458", "56하5037", "12가B456"]


def _rank(pattern: str) -> list[str]:
    scored = [(m.score, p) for p in PLATES if (m := match(check_pattern(pattern), p)) is not None]
    return [p for _, p in sorted(scored, key=lambda t: (-t[0], t[1]))]


@pytest.mark.parametrize(
    ("pattern", "first", "absent"),
    [
        ("3456", "12가3456", "56하5037"),
        ("12가*", "12가3456", "34나3456"),
        ("??가3456", "12가3456", "123가4567"),
        ("12가3456", "12가3456", "56하5037"),
        ("123가*", "123가4567", "12가3456"),
    ],
)
def test_pattern_ranks_exact_first(pattern, first, absent):
    r = _rank(pattern)
    assert r[0] == first
    assert absent not in r


def test_confusions_rank_below_exact_but_match():
    r = _rank("12가3456")
    # 거 for 가 is a usual confusion, B for 8 too; 3458 is one wrong digit: all below the exact plate.
    assert r.index("12가3456") < r.index("12거3456")
    assert "12가3458" in r
    m = match("12가3456", "12거3456")
    assert m.notes and "가~거" in m.notes[0]
    assert match("1234", "12가3456") is None  # the run never appears
    assert match("3456", "12가9999") is None


def test_typed_latin_letters_are_confusions():
    m = match("12가345B", "12가3458")
    assert m is not None and 0.8 < m.score < 1.0
    m0 = match("O5하5O37", "05하5037")
    assert m0 is not None and m0.score > 0.8


def test_alternative_reading_matches_discounted():
    m = best_match("3456", "12가3486", '[["12가3456", 0.4]]')
    assert m is not None and "alternative reading" in m.notes and m.score < 1.0


def test_bad_patterns():
    for bad in ("", "*", "  ", "1234567890123456789"):
        with pytest.raises(InputError):
            check_pattern(bad)


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("번호판 3456으로 끝나는 흰색 포터", "*3456"),
        ("12가로 시작하는 검은 승용차", "12가*"),
        ("plate ending 3456 white truck", "*3456"),
        ("??가3456 흰색 트럭", "??가3456"),
        ("흰색 트럭 12가3456", "12가3456"),
    ],
)
def test_description_plates(text, plate):
    q = parse_text(text)
    assert q.plate == plate
    assert q.kind == "vehicle"


def test_description_plate_with_vehicle():
    q = parse_text("번호판 3456으로 끝나는 흰색 포터")
    assert (q.vehicle_type, q.vehicle_color) == ("truck", "white")


def test_search_plate_over_a_store(tmp_path):
    from relaytrack.records import Sighting
    from relaytrack.search.plate import search_plate
    from relaytrack.store import Store
    from relaytrack.store.sightings import ensure_camera, insert_sighting

    plates = {"12가3456": 0.9, "12거3456": 0.95, "77머3456": 0.8, "56하5037": 0.9}
    with Store(tmp_path / "p.db") as st:
        with st.tx() as conn:
            ensure_camera(conn, "C01")
            for i, (p, conf) in enumerate(plates.items()):
                s = Sighting(
                    id=0, camera="C01", source_id=None, track_id=i, kind="vehicle", class_name="car",
                    start=i, end=i + 1, first_frame=i, last_frame=i + 1, wall_start=1e9 + i,
                    wall_end=1e9 + i + 1, box=(0, 0, 10, 10), vehicle_type="car", plate=p,
                )  # fmt: skip
                sid = insert_sighting(conn, s)
                conn.execute("UPDATE sightings SET plate_conf=? WHERE id=?", (conf, sid))
            res = search_plate(conn, "12가3456", top=5)
            got = [h.public()["plate"] for h in res.hits]
            # The exact plate first even though the confused one was read more confidently.
            assert got[:2] == ["12가3456", "12거3456"]
            assert "56하5037" not in got and "77머3456" not in got
            assert "가~거" in res.hits[1].reasons[0]
            ends = [h.public()["plate"] for h in search_plate(conn, "3456", top=5).hits]
            assert set(ends) == {"12가3456", "12거3456", "77머3456"}
            assert search_plate(conn, "9999").message
