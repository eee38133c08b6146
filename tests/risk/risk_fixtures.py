"""A synthetic two-구 'Seoul' in the real files' layouts (KOSIS headers, CP949, projected x/y)."""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Transformer

from relaytrack.risk.config import RiskConfig

# Three 0.02° x 0.02° squares side by side near City Hall; each split in two 동.
LON0, LAT0, STEP = 126.96, 37.55, 0.02
GU = [("11010", "종로구"), ("11020", "중구"), ("11030", "용산구")]
DONG = [
    ("1101053", "사직동", 0),
    ("1101054", "삼청동", 0),
    ("1102052", "소공동", 1),
    ("1102054", "회현동", 1),
    ("1103051", "후암동", 2),
    ("1103052", "용산2가동", 2),
]


def _square(x0: float, y0: float, w: float, h: float) -> dict:
    ring = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _fc(feats: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)


def write_mini_seoul(root: Path) -> Path:
    d = root / "seoul"
    for sub in ("boundaries", "cctv", "crime", "layers"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    gus = [
        {
            "type": "Feature",
            "properties": {"code": c, "name": n},
            "geometry": _square(LON0 + i * STEP, LAT0, STEP, STEP),
        }
        for i, (c, n) in enumerate(GU)
    ]
    (d / "boundaries/gu.geojson").write_text(_fc(gus), encoding="utf-8")
    dongs = []
    for k, (c, n, g) in enumerate(DONG):
        dongs.append(
            {
                "type": "Feature",
                "properties": {"code": c, "name": n},
                "geometry": _square(LON0 + g * STEP, LAT0 + (k % 2) * STEP / 2, STEP, STEP / 2),
            }
        )
    (d / "boundaries/dong.geojson").write_text(_fc(dongs), encoding="utf-8")
    # Cameras: dense in 중구's north half, one in 종로구; one row outside Seoul, one broken number.
    cams = ["자치구,위도,경도"]
    for i in range(30):
        cams.append(f"중구,{LAT0 + 0.012 + (i % 6) * 0.001:.5f},{LON0 + STEP + 0.002 + (i // 6) * 0.002:.5f}")
    cams += [f"종로구,{LAT0 + 0.005},{LON0 + 0.005}", "중구,35.1,129.0", "중구,abc,127.0"]
    (d / "cctv/cams.csv").write_text("\n".join(cams) + "\n", encoding="utf-8-sig")
    sites = [
        "man,object,num,lat,lng",
        f"x,생활방범,2,{LAT0 + 0.013},{LON0 + STEP + 0.003}",
        f"x,교통단속,1,{LAT0 + 0.005},{LON0 + 0.005}",
    ]
    (d / "cctv/sites.csv").write_text("\n".join(sites) + "\n", encoding="cp949")
    lights = ["관리번호,위도,경도"] + [f"L{i},{LAT0 + 0.002 * i:.4f},{LON0 + 0.01}" for i in range(8)]
    lights.append("BAD,0,4664046.125")
    (d / "layers/lights.csv").write_text("\n".join(lights) + "\n", encoding="utf-8")
    to5181 = Transformer.from_crs("EPSG:4326", "EPSG:5181", always_xy=True)
    bars = ["관리번호,영업상태명,사업장명,좌표정보(X),좌표정보(Y)"]
    for i in range(6):
        x, y = to5181.transform(LON0 + STEP + 0.01 + i * 0.0005, LAT0 + 0.015)
        bars.append(f"B{i},영업/정상,바{i},{x:.3f},{y:.3f}")
    bars.append("B9,폐업,닫힘,,")
    (d / "layers/bars.csv").write_bytes(("\n".join(bars) + "\n").encode("cp949"))
    police = [
        "연번,시도청,경찰서,관서명,구분,주소",
        "1,서울청,종로,사직,파출소,서울특별시 종로구 사직로 1",
        "2,서울청,남대문,회현,파출소,서울특별시 중구 회현로 2",
        "3,부산청,부산중부,중앙,지구대,부산광역시 중구 1",
        "4,서울청,종로,없는곳,파출소,서울특별시 종로구 어딘가 3",
    ]
    (d / "layers/police.csv").write_text("\n".join(police) + "\n", encoding="utf-8")
    head = [
        '"자치구별(1)",자치구별(2)' + "".join(f",{y},{y}" for y in range(2017, 2023)),
        '"자치구별(1)",자치구별(2)' + ",합계,합계" * 6,
        '"자치구별(1)",자치구별(2)' + ",소계,소계" * 6,
        '"자치구별(1)",자치구별(2)' + ",발생,검거" * 6,
    ]
    crime = {
        "종로구": [100, 110, 120, 130, 140, 150],
        "중구": [300, 290, 280, 270, 260, 250],
        "용산구": [200, 200, 200, 200, 200, 200],
    }
    body = [f'"합계",{g},' + ",".join(f"{v},1" for v in vals) for g, vals in crime.items()]
    (d / "crime/crime.csv").write_text("\n".join(head + body) + "\n", encoding="utf-8-sig")
    pop = [
        '"동별(1)",동별(2),2021,2021',
        '"동별(1)",동별(2),세대 (세대),합계 (명)',
        '"동별(1)",동별(2),소계,소계',
        '"합계",소계,"1,500","3,000"',
        '"합계",종로구,"1,000","2,000"',
        '"합계",중구,"500","1,000"',
        '"합계",용산구,"700","1,500"',
    ]
    (d / "layers/pop.csv").write_text("\n".join(pop) + "\n", encoding="utf-8")
    area = [
        '"자치구별(1)",자치구별(2),2022',
        '"자치구별(1)",자치구별(2),면적 (km²)',
        '"서울시",종로구,3.9',
        '"서울시",중구,3.9',
        '"서울시",용산구,3.9',
    ]
    (d / "layers/area.csv").write_text("\n".join(area) + "\n", encoding="utf-8")
    region = [
        "범죄대분류,범죄중분류,서울종로구,서울중구,서울용산구,부산중구",
        "마약범죄,마약범죄,5,20,12,9",
        "절도범죄,절도범죄,50,60,55,70",
    ]
    (d / "crime/region.csv").write_text("\n".join(region) + "\n", encoding="cp949")
    intel = [
        "지능형 CCTV 수량,,",
        "자치구,관제수량,계",
        "종로,100,50",
        "중구,200,20",
        "용산구,100,10",
        "합계,400,80",
    ]
    (d / "cctv/intel.csv").write_text("\n".join(intel) + "\n", encoding="utf-8")
    tod = [
        "범죄대분류,범죄중분류,"
        + ",".join(f"{h:02d}시00분-{h + 2:02d}시59분" for h in range(0, 24, 3))
        + ",미상",
        "강력범죄,강도," + ",".join(str(v) for v in (10, 5, 5, 10, 10, 10, 20, 30)) + ",3",
    ]
    (d / "crime/tod.csv").write_text("\n".join(tod) + "\n", encoding="utf-8")
    return root


def mini_config(root: Path, **over) -> RiskConfig:
    raw = {
        "data_dir": str(root),
        "districts_geojson": "seoul/boundaries/gu.geojson",
        "dongs_geojson": "seoul/boundaries/dong.geojson",
        "points": {
            "cameras": {
                "path": "seoul/cctv/cams.csv",
                "lat": "위도",
                "lon": "경도",
                "label_columns": ["자치구"],
            },
            "camera_sites": {
                "path": "seoul/cctv/sites.csv",
                "lat": "lat",
                "lon": "lng",
                "label_columns": ["object"],
                "count_column": "num",
            },
            "lights": {
                "path": "seoul/layers/lights.csv",
                "lat": "위도",
                "lon": "경도",
                "id_column": "관리번호",
            },
            "bars": {
                "path": "seoul/layers/bars.csv",
                "x": "좌표정보(X)",
                "y": "좌표정보(Y)",
                "crs": "EPSG:5181",
                "where": {"영업상태명": ["영업/정상"]},
                "id_column": "관리번호",
            },
        },
        "addresses": {
            "police": {
                "path": "seoul/layers/police.csv",
                "name_column": "관서명",
                "address_column": "주소",
                "where": {"시도청": ["서울청"]},
            }
        },
        "tables": {
            "crime_by_year": "seoul/crime/crime.csv",
            "crime_latest": None,
            "crime_by_region": "seoul/crime/region.csv",
            "population": "seoul/layers/pop.csv",
            "area": "seoul/layers/area.csv",
            "intelligent_cctv": "seoul/cctv/intel.csv",
            "time_of_day": "seoul/crime/tod.csv",
        },
        "backtest": {"test_years": [2020, 2021, 2022], "history_years": 2, "top_k": 1},
    }
    raw.update(over)
    return RiskConfig.model_validate(raw)
