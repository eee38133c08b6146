"""The route report's map (issue 19 item 4) and the report in Korean (item 2): 구/동 outlines from a boundary
folder given at run time (a tiny GeoJSON written here, never the shared data), cameras by purpose, the route
with arrows and Seoul times, labels that never overlap; cameras only (and saying so) without the folder."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from relay_factory import DIM, T0, add_person, unit

from relaytrack.clock import seoul
from relaytrack.i18n import use_lang
from relaytrack.relay import import_network, relay
from relaytrack.relay.basemap import base_layer, simplify
from relaytrack.relay.labels import Label, place, text_box
from relaytrack.relay.outputs import route_html
from relaytrack.store import Store

LAT, LON = 37.5563, 126.9220
STEP = 100 / (111_195 * math.cos(math.radians(LAT)))  # 100 m of longitude
# Six cameras 100 m apart west -> east, looking north, different purposes; the route walks A..D.
PURPOSES = ["방범", "어린이보호구역", "방범", "교통단속", None, "도시공원·놀이터"]
NETWORK = "cameras:\n" + "".join(
    f"  - {{id: {c}, lat: {LAT}, lon: {LON + i * STEP:.7f}, heading_deg: 0, owner: 자치구"
    + (f", purpose: {PURPOSES[i]}" if PURPOSES[i] else "")
    + "}\n"
    for i, c in enumerate("ABCDEF")
)


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> list:
    return [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]


def write_boundaries(folder: Path) -> Path:
    """Two 구 side by side splitting the cameras, each with two 동, plus one far away (must be clipped off)."""
    folder.mkdir(parents=True, exist_ok=True)
    mid = LON + 2.5 * STEP
    w, e, s, n = LON - 0.02, LON + 0.03, LAT - 0.01, LAT + 0.01

    def fc(feats):
        return {"type": "FeatureCollection", "features": feats}

    def feat(code, name, eng, coords):
        return {
            "type": "Feature",
            "properties": {"code": code, "name": name, "name_eng": eng},
            "geometry": {"type": "Polygon", "coordinates": coords},
        }

    gu = [
        feat("11440", "마포구", "Mapo-gu", square(w, s, mid, n)),
        feat("11410", "서대문구", "Seodaemun-gu", square(mid, s, e, n)),
        feat("11680", "강남구", "Gangnam-gu", square(127.02, 37.49, 127.06, 37.52)),
    ]
    dong = [
        feat("1144071", "서교동", "Seogyo-dong", square(w, s, mid, LAT)),
        feat("1144072", "연남동", "Yeonnam-dong", square(w, LAT, mid, n)),
        feat("1141071", "신촌동", "Sinchon-dong", square(mid, s, e, LAT)),
        feat("1141072", "연희동", "Yeonhui-dong", square(mid, LAT, e, n)),
    ]
    (folder / "districts.geojson").write_text(json.dumps(fc(gu), ensure_ascii=False), encoding="utf-8")
    (folder / "dongs_sub.geojson").write_text(json.dumps(fc(dong), ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def walked(tmp_path: Path):
    store = Store(tmp_path / "store.db")
    net = tmp_path / "net.yaml"
    net.write_text(NETWORK, encoding="utf-8")
    import_network(store, net, modes=("walk",), radius_m={"walk": 150.0})
    rng = np.random.default_rng(5)
    for k in range(24):  # others, so appearance has something to compare with
        add_person(
            store,
            "ABCDEF"[k % 6],
            3000 + 9 * k,
            unit(rng.normal(size=DIM)),
            track_id=100 + k,
            dur=8.0,
            entry="left",
            exit_="right",
            upper="gray",
            lower="gray",
            thumbnail_jpeg=b"\xff\xd8fakejpeg",
        )
    me = unit(rng.normal(size=DIM))
    ids = [
        add_person(
            store,
            c,
            i * 88.0,
            unit(me + 0.2 * unit(rng.normal(size=DIM))),
            track_id=i + 1,
            dur=8.0,
            entry="left",
            exit_="right",
            upper="red",
            lower="black",
            thumbnail_jpeg=b"\xff\xd8fakejpeg",
        )
        for i, c in enumerate("ABCD")
    ]
    route = relay(store, ids[0], 5)
    assert route.sighting_ids == ids
    yield store, route
    store.close()


def svg_of(page: str) -> str:
    m = re.search(r'<svg[^>]*class="route-map".*?</svg>', page, re.S)
    assert m, "no route map in the report"
    return m.group(0)


def label_boxes(svg: str) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each label's text and the box it covers, measured here independently of the writer: a Hangul
    character 1 em wide, anything else 0.62 em, 0.9 em above the baseline and 0.25 em below."""
    out = []
    for attrs, text in re.findall(r"<text ([^>]*class=\"lbl[^\"]*\"[^>]*)>([^<]*)</text>", svg):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        x, y, size = float(a["x"]), float(a["y"]), float(a["font-size"])
        text = text.replace("&amp;", "&")
        w = sum(size * (1.0 if ord(ch) >= 0x1100 else 0.62) for ch in text)
        x0 = {"start": x, "middle": x - w / 2, "end": x - w}[a.get("text-anchor", "start")]
        out.append((text, (x0, y - 0.9 * size, x0 + w, y + 0.25 * size)))
    return out


def test_report_map_draws_boundaries_route_and_labels_that_never_overlap(walked, tmp_path):
    store, route = walked
    folder = write_boundaries(tmp_path / "bounds")
    with use_lang("ko"):
        page = route_html(route, store, boundaries=folder)
    svg = svg_of(page)
    # Outlines of both 구 and all four 동 in the view; the far 강남구 clipped off (the page stays small).
    assert len(re.findall(r'<path class="gu"', svg)) == 2 and len(re.findall(r'<path class="dong"', svg)) == 4
    assert 'data-code="11680"' not in svg and "강남구" not in svg
    labels = label_boxes(svg)
    texts = [t for t, _ in labels]
    assert "마포구" in texts and "서대문구" in texts
    # Every hop: its number and Seoul time; each leg an arrow.
    for k, h in enumerate(route.hops):
        assert f"{k + 1} {seoul(h.true_start):%H:%M:%S}" in texts
    assert svg.count('class="arrow"') == 3
    # Cameras coloured by purpose; the legend names the purposes.
    colours = {c: f for f, c in re.findall(r'fill="(#[0-9a-f]{6})"[^>]*data-camera="(\w)"', svg)}
    assert colours["A"] == colours["C"] != colours["B"] != colours["D"] != colours["E"]
    assert "F" not in colours and "도시공원" not in page  # zoomed to the route: F, 200 m past it, is out
    assert "어린이보호구역" in page and "목적 미상" in page
    # No two labels overlap, and every one lies inside the map.
    w, h = (float(x) for x in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    for i, (ta, a) in enumerate(labels):
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= w and a[3] <= h, ta
        for tb, b in labels[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (ta, tb)
    assert 'data-base="1"' in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_report_without_boundaries_draws_cameras_and_says_so(walked, tmp_path):
    store, route = walked
    with use_lang("en"):
        page = route_html(route, store, boundaries=tmp_path / "nowhere")
    svg = svg_of(page)
    assert '<path class="gu"' not in svg and svg.count('<circle class="cam') == 5
    assert 'data-base="0"' in page and "No boundary files: cameras only" in page
    assert "Relay route from #" in page and "time (KST)" in page


def test_korean_report_has_no_english_ui_strings(walked, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "service"))
    from test_service_korean import english_words  # the Korean console's check, reused

    store, route = walked
    with use_lang("ko"):
        page = route_html(route, store, boundaries=write_boundaries(tmp_path / "bounds"))
    assert '<html lang="ko">' in page and "경로 추적 보고서" not in page  # titled by its origin
    assert f"목격 #{route.origin}에서 추적한 경로" in page and "시각(KST)" in page
    visible = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", page, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)  # text a person reads, not markup or data URLs
    visible = re.sub(r"&\w+;", " ", visible)
    data = [*"ABCDEF", "KST", "km"]
    assert not english_words(visible, data), english_words(visible, data)
    # Times are Seoul time (the UTC instant of the first hop would read 9 hours earlier).
    assert f"{seoul(route.hops[0].true_start):%Y-%m-%d %H:%M:%S}" in page
    assert seoul(T0).utcoffset().total_seconds() == 9 * 3600


def test_base_layer_clips_simplifies_and_names(tmp_path):
    folder = write_boundaries(tmp_path / "bounds")
    base = base_layer((LON - 0.001, LAT - 0.001, LON + 0.006, LAT + 0.001), folder=folder)
    assert base.available and {d["name"] for d in base.districts} == {"마포구", "서대문구"}
    for d in base.districts + base.dongs:
        for ring in d["rings"]:  # clipped to the view plus 5 %
            assert all(
                LON - 0.0015 <= x <= LON + 0.0065 and LAT - 0.0015 <= y <= LAT + 0.0015 for x, y in ring
            )
    missing = base_layer((LON, LAT, LON + 0.01, LAT + 0.01), folder=tmp_path / "none")
    assert (
        not missing.available
        and "RELAYTRACK_BOUNDARIES" in missing.note
        and str(tmp_path) not in missing.note
    )
    line = [(float(i), 0.001 * (i % 2)) for i in range(50)]
    assert simplify(line, 0.01) == [line[0], line[-1]]


def test_greedy_labels_skip_or_move_colliding_ones():
    labels = [Label(f"라벨{i}", 50.0, 50.0) for i in range(30)]  # thirty labels on one point
    placed = place(labels, 200, 120)
    assert 2 <= len(placed) < 30
    boxes = [p.box for p in placed]
    for i, a in enumerate(boxes):
        assert a == text_box(placed[i].label.text, placed[i].x, placed[i].y, 11.0, placed[i].anchor)
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
