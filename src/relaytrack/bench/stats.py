"""Uncertainty of small-sample benchmark figures: a proportion k/n and an event count over an exposure.

Benchmarks here score a handful of events (couriers' drops in a few towns, false alarms in minutes of real
footage), so a bare rate would claim more than the data shows. Every proportion is reported as k/n with a
95 % interval and every count with its exposure and a one-sided 95 % upper bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scipy.stats import beta, chi2, norm


@dataclass(frozen=True)
class Proportion:
    """k successes of n with a two-sided interval (Wilson by default: sound at k = 0 or k = n)."""

    k: int
    n: int
    low: float | None
    high: float | None
    method: str

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None

    def text(self) -> str:
        if not self.n:
            return "0/0"
        return f"{self.k}/{self.n} = {self.rate:.2f} [{self.low:.2f}, {self.high:.2f}]"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rate"] = None if self.rate is None else round(self.rate, 4)
        d["low"] = None if self.low is None else round(self.low, 4)
        d["high"] = None if self.high is None else round(self.high, 4)
        return d


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of k/n."""
    if n <= 0:
        return None
    z = float(norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """Exact (conservative) binomial interval of k/n."""
    if n <= 0:
        return None
    a = 1 - level
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def proportion(k: int, n: int, method: str = "wilson", level: float = 0.95) -> Proportion:
    fn = {"wilson": wilson, "clopper-pearson": clopper_pearson}[method]
    ci = fn(k, n, level)
    return Proportion(k, n, ci[0] if ci else None, ci[1] if ci else None, method)


def poisson_upper(count: int, level: float = 0.95) -> float:
    """One-sided upper confidence bound of a Poisson mean after observing `count` events (3.0 at 0)."""
    return float(chi2.ppf(level, 2 * (count + 1)) / 2)


@dataclass(frozen=True)
class Rate:
    """A count of events over an exposure (camera-hours), with the one-sided 95 % upper bound of the rate."""

    count: int
    exposure: float
    unit: str
    upper_95: float | None

    @property
    def per_unit(self) -> float | None:
        return self.count / self.exposure if self.exposure > 0 else None

    def text(self) -> str:
        if self.exposure <= 0:
            return f"{self.count} in 0 {self.unit}"
        return (
            f"{self.count} in {self.exposure:.3f} {self.unit} = {self.per_unit:.2f}/{self.unit.rstrip('s')} "
            f"(95% upper {self.upper_95:.1f})"
        )

    def as_dict(self) -> dict:
        return {
            "count": self.count,
            "exposure": round(self.exposure, 4),
            "unit": self.unit,
            "rate": None if self.per_unit is None else round(self.per_unit, 3),
            "upper_95": None if self.upper_95 is None else round(self.upper_95, 2),
        }


def poisson_rate(count: int, exposure: float, unit: str = "camera-hours") -> Rate:
    up = poisson_upper(count) / exposure if exposure > 0 else None
    return Rate(count, exposure, unit, up)
