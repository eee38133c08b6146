"""Interval functions on known values (textbook examples and exact Poisson limits)."""

import pytest

from relaytrack.bench import stats


def test_wilson_known_values():
    lo, hi = stats.wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = stats.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert stats.wilson(3, 0) is None


def test_clopper_pearson_known_values():
    lo, hi = stats.clopper_pearson(8, 10)
    assert lo == pytest.approx(0.4439, abs=1e-4) and hi == pytest.approx(0.9748, abs=1e-4)
    lo, hi = stats.clopper_pearson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.6915, abs=1e-4)


def test_poisson_upper_known_values():
    assert [round(stats.poisson_upper(k), 2) for k in range(4)] == [3.0, 4.74, 6.3, 7.75]


def test_rate_and_proportion_records():
    r = stats.poisson_rate(0, 0.5)
    assert r.per_unit == 0.0 and r.upper_95 == pytest.approx(5.99, abs=0.01)
    assert r.as_dict()["exposure"] == 0.5
    p = stats.proportion(4, 5, "clopper-pearson")
    assert p.rate == 0.8 and p.as_dict()["k"] == 4 and p.text().startswith("4/5 = 0.80 [")
