"""Strict configuration of the risk index: where each layer comes from and how each indicator is built.

Every field has a default that works on the Seoul open data in `shared/data/seoul`; a YAML/JSON file given
with `relaytrack risk build --config FILE` overrides any part. Unknown keys are rejected so that a typo in
a weight or a path never passes silently. Relative paths are resolved against `data_dir`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from relaytrack.config import Strict, load_strict
from relaytrack.paths import data_dir as default_data_dir


class PointLayer(Strict):
    """A file of points: CSV with lat/lon or projected x/y columns, or GeoJSON points."""

    path: str = Field(description="CSV or GeoJSON file; relative paths are under data_dir")
    lat: str | None = Field(None, description="Latitude column (WGS84)")
    lon: str | None = Field(None, description="Longitude column (WGS84)")
    x: str | None = Field(None, description="Projected easting column (needs crs)")
    y: str | None = Field(None, description="Projected northing column (needs crs)")
    crs: str = Field("EPSG:4326", description="CRS of x/y (lat/lon are always EPSG:4326)")
    where: dict[str, list[str]] = Field(
        default_factory=dict, description="Keep rows whose column value is one of these"
    )
    id_column: str | None = Field(None, description="Column with a stable id (cameras)")
    label_columns: list[str] = Field(default_factory=list, description="Columns copied into rankings")
    count_column: str | None = Field(None, description="Column with a multiplicity (e.g. cameras per site)")

    @model_validator(mode="after")
    def _coords(self) -> PointLayer:
        is_geojson = self.path.lower().endswith((".geojson", ".json"))
        if not is_geojson and not ((self.lat and self.lon) or (self.x and self.y)):
            raise ValueError(f"layer {self.path}: give lat+lon or x+y columns")
        return self


class AddressLayer(Strict):
    """Points known only by address (police posts): placed at the centroid of the dong named in a column."""

    path: str
    name_column: str = Field(
        description="Column whose value names the dong (e.g. post name '신당' -> 신당동)"
    )
    address_column: str = Field(description="Address column; its 구 picks among same-named dongs")
    where: dict[str, list[str]] = Field(default_factory=dict)


class DistrictTables(Strict):
    """District (구) statistics tables in KOSIS/열린데이터광장 layout (header rows, then one row per 구)."""

    crime_by_year: str = "seoul/crime/seoul_5major_crimes_by_gu_316_20231122.csv"
    crime_latest: str | None = "seoul/crime/seoul_5major_crimes_by_gu_2023.csv"
    crime_by_region: str | None = "seoul/crime/knpa_crime_by_region_20231231.csv"
    population: str = "seoul/layers/seoul_registered_population_by_gu_20231123.csv"
    area: str = "seoul/layers/seoul_gu_area_20231127.csv"
    intelligent_cctv: str | None = "seoul/cctv/seoul_intelligent_cctv_by_gu_20241231.csv"
    time_of_day: str | None = "seoul/crime/knpa_crime_by_time_weekday_20191231.csv"


class DistrictValueLayer(Strict):
    """A user table: one header row, a district-name column and a numeric value column."""

    path: str
    district_column: str
    value_column: str


Method = Literal["district", "density", "distance", "gap", "incidents"]


class Indicator(Strict):
    method: Method = Field(
        description="district: a per-구 value; density: points within radius_m; "
        "distance: metres to the nearest point; gap: metres to the nearest camera "
        "beyond the coverage radius; incidents: confirmed incidents nearby"
    )
    source: str = Field(
        description="district: a built-in value name or a district_layers key; "
        "other methods: a points/addresses layer key"
    )
    weight: float = Field(1.0, ge=0, le=100)
    higher_is_riskier: bool = True
    radius_m: float = Field(150.0, gt=0, le=5000, description="Search radius for density/incidents")
    cap_m: float = Field(1000.0, gt=0, le=20000, description="Distances are clipped here")
    status: Literal["confirmed", "assumed"] = Field(
        "assumed", description="confirmed = publicly named as one of Seoul's 9 siting indicators"
    )
    note: str = ""


def _default_indicators() -> dict[str, Indicator]:
    return {
        "crime_index": Indicator(
            method="district",
            source="crime_rate",
            weight=3.0,
            status="confirmed",
            note="5 major crimes per 1,000 residents in the cell's 구, latest year",
        ),
        "one_person_households": Indicator(
            method="district",
            source="small_households",
            weight=2.0,
            status="confirmed",
            note="proxy: 1 / (residents per household) of the 구; no 1인가구 table in the data",
        ),
        "surveillance_gap": Indicator(
            method="gap",
            source="cameras",
            weight=2.0,
            cap_m=300.0,
            note="metres from the cell centre to the nearest camera beyond the "
            "coverage radius (standard model 감시취약지수)",
        ),
        "lighting_gap": Indicator(
            method="density",
            source="lights",
            weight=0.5,
            radius_m=150.0,
            higher_is_riskier=False,
            note="street lights within 150 m (data covers road lights only)",
        ),
        "venue_density": Indicator(
            method="density",
            source="bars",
            weight=1.5,
            radius_m=300.0,
            note="licensed entertainment bars (영업/정상) within 300 m (범죄취약지수)",
        ),
        "population_density": Indicator(
            method="district",
            source="population_density",
            weight=1.0,
            note="residents per km² of the cell's 구",
        ),
        "police_distance": Indicator(
            method="distance",
            source="police",
            weight=0.5,
            cap_m=3000.0,
            note="metres to the nearest 지구대/파출소, placed at its dong centroid",
        ),
        "drug_crime": Indicator(
            method="district",
            source="drug_rate",
            weight=1.0,
            note="마약범죄 per 100,000 residents in the 구 (경찰청 2023)",
        ),
        "intelligent_gap": Indicator(
            method="district",
            source="non_intelligent_share",
            weight=0.5,
            note="share of the 구's monitored CCTVs that are not intelligent (2024)",
        ),
        "incidents": Indicator(
            method="incidents",
            source="alerts",
            weight=2.0,
            radius_m=150.0,
            note="relaytrack's own confirmed alerts within 150 m (only when any exist)",
        ),
    }


def _default_points() -> dict[str, PointLayer]:
    return {
        "cameras": PointLayer(
            path="seoul/cctv/seoul_ansimi_cctv_latlon_only.csv",
            lat="위도",
            lon="경도",
            label_columns=["자치구"],
        ),
        "camera_sites": PointLayer(
            path="seoul/cctv/seoul_cctv_standard_2018_renamed_cols.csv",
            lat="lat",
            lon="lng",
            label_columns=["object", "add"],
            count_column="num",
        ),
        "lights": PointLayer(
            path="seoul/layers/seoul_streetlights_OA-22205.csv", lat="위도", lon="경도", id_column="관리번호"
        ),
        # LOCALDATA x/y: EPSG:5181 (GRS80 central origin) placed 68% of bars inside the dong their address
        # names and EPSG:5174 66%, EPSG:2097 53% (90th-percentile miss 164 m vs 263 m vs 410 m), so 5181.
        "bars": PointLayer(
            path="seoul/layers/seoul_entertainment_bars_licences.csv",
            x="좌표정보(X)",
            y="좌표정보(Y)",
            crs="EPSG:5181",
            where={"영업상태명": ["영업/정상"]},
            id_column="관리번호",
            label_columns=["사업장명"],
        ),
    }


class BacktestConfig(Strict):
    test_years: list[int] = Field(
        default_factory=lambda: [2019, 2020, 2021, 2022, 2023],
        description="Each year is predicted from the years before it",
    )
    history_years: int = Field(3, ge=1, le=10, description="Earlier years averaged into the crime indicator")
    top_k: int = Field(5, ge=1, le=25, description="k of the top-k hit rate")


class RiskConfig(Strict):
    data_dir: Path | None = Field(
        None, description="Base of relative paths; default relaytrack.paths.data_dir()"
    )
    cell_m: float = Field(100.0, ge=25, le=2000, description="Grid cell side in metres")
    crs: str = Field("EPSG:5179", description="Metric CRS of the grid (national grid 국가지점번호 uses 5179)")
    districts_geojson: str = "seoul/boundaries/seoul_municipalities_geo_simple.kostat2013.geojson"
    dongs_geojson: str = "seoul/boundaries/seoul_submunicipalities_geo_simple.kostat2013.geojson"
    coverage_radius_m: float = Field(50.0, gt=0, le=1000, description="A camera covers this radius")
    gap_min_percentile: float = Field(
        80.0, ge=0, le=100, description="Cells at or above this score percentile can be coverage gaps"
    )
    max_outside_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Above this share of rows outside Seoul a layer is rejected as a wrong CRS",
    )
    normalise: Literal["rank", "minmax"] = Field("rank", description="rank: percentile; minmax: p1..p99 clip")
    points: dict[str, PointLayer] = Field(default_factory=_default_points)
    addresses: dict[str, AddressLayer] = Field(
        default_factory=lambda: {
            "police": AddressLayer(
                path="seoul/layers/knpa_police_posts_nationwide_addresses.csv",
                name_column="관서명",
                address_column="주소",
                where={"시도청": ["서울청"]},
            )
        }
    )
    tables: DistrictTables = Field(default_factory=DistrictTables)
    district_layers: dict[str, DistrictValueLayer] = Field(default_factory=dict)
    indicators: dict[str, Indicator] = Field(default_factory=_default_indicators)
    residential_purposes: list[str] = Field(
        default_factory=lambda: ["생활방범", "어린이보호", "다목적"],
        description="camera_sites purposes that mark a residential street (courier watch)",
    )
    residential_radius_m: float = Field(150.0, gt=0, le=2000)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)

    def base(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    def resolve(self, rel: str) -> Path:
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.base() / p


def load_config(path: Path | None) -> RiskConfig:
    """Defaults, overridden by a YAML or JSON file. Errors name the file and every offending key."""
    # Merged over the defaults so that `indicators: {venue_density: {weight: 3}}` changes one weight and
    # keeps the rest (set a weight to 0 to switch an indicator off); a layer's `where` row filter is
    # replaced whole, not merged.
    return load_strict(RiskConfig, path, what="risk config", merge_defaults=True, atomic=frozenset({"where"}))
