"""Scoring: confidences, soft colours, items, plates, reasons, bounds."""

import json

import pytest

from relaytrack.search.query import Query
from relaytrack.search.score import bound, plate_credit, reasons, score_rows


def row(i, up=None, uc=0.0, lo=None, lc=0.0, items=None, vt=None, vc=None, plate=None, kind="person"):
    return (i, kind, up, uc, lo, lc, json.dumps(items or {}), vt, vc, plate)


def test_exact_beats_neighbour_beats_other():
    q = Query(kind="person", upper="black")
    sc = score_rows(q, [row(1, "black", 0.8), row(2, "gray", 0.8), row(3, "red", 0.9), row(4, None)])
    s = dict(zip(sc.ids.tolist(), sc.score.tolist(), strict=True))
    assert s[1] == pytest.approx(0.8)
    assert 0 < s[2] < s[1]
    assert s[3] == 0 and s[4] == 0


def test_confidence_matters_and_weights_normalise():
    q = Query(kind="person", upper="red", lower="black", items=["backpack"])
    rows = [
        row(1, "red", 0.9, "black", 0.9, {"backpack": 0.9}),
        row(2, "red", 0.4, "black", 0.4, {"backpack": 0.4}),
        row(3, "red", 0.9, "black", 0.9),
    ]
    sc = score_rows(q, rows)
    assert sc.score[0] > sc.score[2] > 0 and sc.score[0] > sc.score[1]
    assert sc.score.max() <= 1.0
    r = reasons(q, rows[0], {a: float(c[0]) for a, c in sc.credits.items()})
    assert r == ["upper red (0.90)", "lower black (0.90)", "backpack (0.90)"]
    r2 = reasons(Query(upper="black"), row(5, "gray", 0.8), {"upper": 0.4})
    assert r2 == ["upper gray~black (0.40)"]


def test_bound_is_an_upper_bound():
    q = Query(kind="person", upper="red", lower="black", items=["backpack"])
    rows = [row(i, "pink", 1.0, "gray", 1.0, {"backpack": 1.0}) for i in range(3)]
    sc = score_rows(q, rows)
    assert sc.score.max() <= bound(q, upper="pink", lower="gray") + 1e-6
    assert bound(q, upper="pink", lower="gray") < bound(q, upper="red", lower="black") == pytest.approx(1.0)


@pytest.mark.parametrize(
    "frag, plate, credit",
    [
        ("12가3456", "12가3456", 1.0),
        ("3456", "123나3456", 1.0),
        ("12가 34", "12가3456", 1.0),
        ("3456", "12가7890", 0.0),
        ("12가3456", "12가3457", pytest.approx(0.6 * 6 / 7)),
        ("3456", None, 0.0),
    ],
)
def test_plate_credit(frag, plate, credit):
    assert plate_credit(frag, plate) == credit


def test_vehicle_scoring():
    q = Query(kind="vehicle", vehicle_type="car", vehicle_color="white", plate="3456")
    rows = [
        row(1, vt="car", vc="white", plate="12가3456", kind="vehicle"),
        row(2, vt="car", vc="white", kind="vehicle"),
        row(3, vt="truck", vc="gray", kind="vehicle"),
    ]
    sc = score_rows(q, rows)
    assert sc.score[0] == pytest.approx(1.0)
    assert sc.score[0] > sc.score[1] > sc.score[2] > 0
