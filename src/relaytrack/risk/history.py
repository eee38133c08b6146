"""What the backtest may know when it predicts year t: the date of each layer, and a combined model.

A layer dated in or after year t cannot predict year t (the 2023 drug-crime table cannot predict 2019-2022).
Each indicator source has the first year it may predict (the year after its data date); layers without a
date are static snapshots with no history and are left out of the backtest altogether, since their date may
be after every test year. Where an older dated layer measures the same thing (the 2018 CCTV standard data for
the undated 안심이 camera points), it stands in for the years before the newer one.

The combined model asks whether the indicators add anything over last year's crime: a ridge regression of
log(crime in year y) on log(crime in y-1) and the 구 means of the indicators available at t, fitted on the
pairs (y-1, y) with y < t only, then applied to t-1 -> t. Its rival is the same regression on last year's
crime alone, so any gain comes from the indicators, not from the fitted trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerDate:
    """First year a layer may predict (None: undated, never used in the backtest) and why."""

    first_year: int | None
    note: str
    stand_in: str | None = None  # an older layer of the same kind used before first_year


LAYER_DATES: dict[str, LayerDate] = {
    "small_households": LayerDate(2022, "registered population and households, 2021-12"),
    "population_density": LayerDate(2022, "registered population 2021-12 over 구 area"),
    "drug_rate": LayerDate(2024, "경찰청 crime by region, 2023"),
    "non_intelligent_share": LayerDate(2025, "intelligent CCTV share, 2024-12-31"),
    "cameras": LayerDate(
        2023,
        "안심이 CCTV points, undated; their 강남구 count equals the 2022-12-01 extract",
        stand_in="camera_sites",
    ),
    "camera_sites": LayerDate(2019, "전국CCTV표준데이터 Seoul rows, dated 2015-08 .. 2018-03"),
    "bars": LayerDate(2024, "entertainment-bar licences open (영업/정상) at the 2023-11-24 extract"),
    "lights": LayerDate(None, "street lights, undated (file of 2025): static, no history"),
    "police": LayerDate(None, "police-post addresses, undated: static, no history"),
    "alerts": LayerDate(None, "relaytrack's own confirmed alerts: scored by the cell backtest instead"),
}


def layer_date(source: str) -> LayerDate:
    return LAYER_DATES.get(source, LayerDate(None, "layer from config with no known date: static, no history"))


def usable_source(source: str, year: int) -> str | None:
    """The layer to use for `source` when predicting `year`: itself, an older stand-in, or None."""
    d = layer_date(source)
    if d.first_year is not None and d.first_year <= year:
        return source
    if d.stand_in is not None:
        return usable_source(d.stand_in, year)
    return None


def _ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mu) / sd
    ym = float(y.mean())
    coef = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - ym))
    return mu, sd, coef, ym


def ridge_predict(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, alpha: float = 1.0
) -> np.ndarray:
    """Ridge on standardised features (the intercept unpenalised): few 구 and correlated indicators."""
    mu, sd, coef, ym = _ridge_fit(train_x, train_y, alpha)
    return ym + ((test_x - mu) / sd) @ coef


def combined_forecast(
    series: dict[int, np.ndarray], year: int, extra: np.ndarray | None, alpha: float = 1.0
) -> dict[str, np.ndarray] | None:
    """Log forecasts of `series[year]` (per 구) from pairs (y-1, y), y < year: last year alone, and last year
    plus `extra` (구 x k indicator means). None when no training pair exists."""
    pairs = [y for y in sorted(series) if y < year and (y - 1) in series]
    if not pairs or (year - 1) not in series:
        return None
    lg = {y: np.log1p(np.asarray(v, np.float64)) for y, v in series.items()}
    tr_last = np.concatenate([lg[y - 1] for y in pairs])[:, None]
    tr_y = np.concatenate([lg[y] for y in pairs])
    te_last = lg[year - 1][:, None]
    out = {"last_year_model": ridge_predict(tr_last, tr_y, te_last, alpha)}
    if extra is not None and extra.shape[1]:
        tr = np.column_stack([tr_last, np.vstack([extra] * len(pairs))])
        out["combined"] = ridge_predict(tr, tr_y, np.column_stack([te_last, extra]), alpha)
    return out
