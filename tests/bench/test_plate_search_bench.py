"""The partial-plate search measurement of `bench plates` (bench/plate_search.py): patterns as an investigator
types them, rank 1 through the search engine, a look-alike plate or an unread vehicle counted honestly."""

from __future__ import annotations

from relaytrack.bench.plate_search import patterns, score
from relaytrack.describe.plate_grammar import PlateVote


def _vote(text: str, conf: float = 0.9, alts: list | None = None) -> PlateVote:
    return PlateVote(text, conf, [conf] * len(text), alts or [], 3)


def test_patterns_of_each_format():
    assert patterns("12가3456") == {"serial": "3456", "head": "12가*", "masked": "??가3456"}
    assert patterns("123가4567")["masked"] == "???가4567"
    assert patterns("서울12가3456")["head"] == "서울12가*"
    assert patterns("서울강남가1234") == {"serial": "1234", "head": "서울강남가*", "masked": "*가1234"}


def test_rank1_through_the_search_engine():
    a, b, c, d = (1, "V1", "12가3456"), (1, "V2", "34나5678"), (2, "V3", "56다7890"), (2, "V4", "78라1111")
    tracklets = [
        (a, _vote("12가3456")),
        (a, _vote("12거3456", 0.6)),  # a second camera's read, one syllable confused
        (b, _vote("34나5678")),
        (
            c,
            _vote("56다7B90", 0.5),
        ),  # misread serial (B for 8): the serial pattern still fits, 0.9 below exact
        (c, None),
        (d, None),  # never read: not a query
    ]
    res = score(tracklets)
    assert (res["vehicles"], res["vehicles_read"], res["queries"]) == (4, 3, 9)
    assert res["rank1"] == 1.0 and res["met"]


def test_another_vehicle_read_as_the_plate_takes_rank_1():
    # V2's plate was misread as V1's: searching V1's serial finds both, V2's read first (higher confidence).
    v1, v2 = (1, "V1", "12가3456"), (1, "V2", "19가3456")
    res = score([(v1, _vote("12가3456", 0.5)), (v2, _vote("12가3456", 0.95))])
    assert res["by_pattern"]["serial"] == 0.5 and res["rank1"] < 1.0 and not res["met"]
