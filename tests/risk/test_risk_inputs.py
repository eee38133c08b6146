"""Bad input: encodings, missing columns, wrong CRS, swapped lat/lon, rows outside Seoul, strict config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from risk_fixtures import mini_config

from relaytrack.errors import ConfigError, InputError
from relaytrack.risk.config import load_config
from relaytrack.risk.grid import cell_ids
from relaytrack.risk.index import build
from relaytrack.risk.io import decode, number, read_kosis
from relaytrack.risk.layers import norm_district


@pytest.mark.parametrize(
    "text, expected", [("1,066", 1066.0), ("-", 0.0), ("", None), ("abc", None), (" 3.5 ", 3.5)]
)
def test_number(text: str, expected: float | None) -> None:
    assert number(text) == expected


@pytest.mark.parametrize(
    "name, expected",
    [("서울특별시 종로구", "종로구"), ("서울종로구", "종로구"), ("동대문", "동대문구"), (" 중구 ", "중구")],
)
def test_norm_district(name: str, expected: str) -> None:
    assert norm_district(name) == expected


def test_decode_utf8_bom_cp949_and_broken(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes("\ufeff자치구\n".encode())
    (tmp_path / "b.csv").write_bytes("자치구\n".encode("cp949"))
    (tmp_path / "c.csv").write_bytes("자치구\n".encode("cp949") + b"\xff\xfe\n")
    assert decode(tmp_path / "a.csv") == ("자치구\n", "utf-8-sig")
    assert decode(tmp_path / "b.csv") == ("자치구\n", "cp949")
    text, enc = decode(tmp_path / "c.csv")
    assert enc == "cp949-broken" and "\ufffd" in text


def test_kosis_headers(mini) -> None:
    root, _ = mini
    tab = read_kosis(root / "seoul/crime/crime.csv")
    assert len(tab.columns[2]) == 4 and tab.find("2019", "소계", "발생") == [6]
    assert [r[1] for r in tab.rows] == ["종로구", "중구", "용산구"]


def test_cell_ids_national_grid() -> None:
    # 국가지점번호 of the corner (953900, 1952000) in EPSG:5179: 다 = 3rd 100 km column, 사 = 7th row.
    assert cell_ids(np.array([953_900.0]), np.array([1_952_000.0])) == ["다사 5390 5200"]


def test_bad_rows_counted_and_named(mini) -> None:
    _, cfg = mini
    res = build(cfg)
    cams = res.points["cameras"].ledger
    assert cams.read == 33 and cams.kept == 31
    assert cams.bad == {"unparsable": 1, "outside_seoul": 1}
    assert any("cams.csv:34" in e and "abc" in e for e in cams.examples)
    assert res.points["lights"].ledger.bad == {"outside_seoul": 1}
    bars = res.points["bars"].ledger
    assert bars.encoding == "cp949" and bars.filtered == 1 and bars.kept == 6
    assert res.points["police"].ledger.bad == {"unlocated": 1} and res.points["police"].ledger.filtered == 1


def test_wrong_crs_is_an_error_naming_the_file(mini) -> None:
    root, _ = mini
    cfg = mini_config(root)
    cfg.points["bars"].crs = "EPSG:5179"  # the bars are in 5181: about 200 km off
    with pytest.raises(InputError, match=r"bars\.csv: 100% of 6 rows fall outside Seoul.*EPSG:5179"):
        build(cfg)


def test_swapped_lat_lon(mini) -> None:
    root, cfg = mini
    cfg.points["cameras"].lat, cfg.points["cameras"].lon = "경도", "위도"
    with pytest.raises(InputError, match="swapped"):
        build(cfg)


def test_missing_column(mini) -> None:
    root, cfg = mini
    cfg.points["lights"].lat = "lat"
    with pytest.raises(InputError, match=r"lights\.csv: missing column\(s\) lat"):
        build(cfg)


def test_broken_cp949_rows_skipped(mini) -> None:
    root, cfg = mini
    p = root / "seoul/layers/lights.csv"
    p.write_bytes(p.read_bytes().replace(b"L3,", b"L\xff\xff3,"))
    res = build(cfg)
    led = res.points["lights"].ledger
    assert led.encoding == "utf-8-broken" and led.bad.get("encoding") == 1 and led.kept == 7


def test_strict_config(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("indicators:\n  venue_density:\n    wieght: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: indicators\.venue_density\.wieght"):
        load_config(p)
    p.write_text("indicators:\n  venue_density:\n    weight: 3\n", encoding="utf-8")
    cfg = load_config(p)
    assert cfg.indicators["venue_density"].weight == 3 and cfg.indicators["crime_index"].weight == 3.0
    assert len(cfg.indicators) == 10


def test_config_reports_every_error(tmp_path: Path) -> None:
    # The shared strict loader lists every bad field with its path, not only the first one.
    p = tmp_path / "c.yaml"
    p.write_text("cell_m: 1\nindicators:\n  venue_density:\n    wieght: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "c.yaml: cell_m:" in str(err.value) and "c.yaml: indicators.venue_density.wieght:" in str(err.value)
