"""The console map's base layer (issue 19 item 4): /api/basemap serves the 구/동 outlines of the view from the
boundary folder given at run time (a tiny GeoJSON written here, never the shared data), says so when there is
none, and the console's map script (static/map.js) draws it and places labels exactly as the report does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from svc_world import hdr
from test_service_korean import STATIC, console_tables, english_words

from relaytrack.relay.labels import Label, place

LAT, LON = 37.5563, 126.9220  # the test world's first camera
BOX = {"west": 126.919, "south": 37.553, "east": 126.929, "north": 37.560}


def _square(w, s, e, n):
    return [[[w, s], [e, s], [e, n], [w, n], [w, s]]]


def _boundaries(folder: Path) -> Path:
    folder.mkdir(parents=True)

    def fc(rows):
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": code, "name": name, "name_eng": eng},
                    "geometry": {"type": "Polygon", "coordinates": _square(*box)},
                }
                for code, name, eng, box in rows
            ],
        }

    mid = LON + 0.0018
    gu = [
        ("11440", "마포구", "Mapo-gu", (LON - 0.02, LAT - 0.01, mid, LAT + 0.01)),
        ("11410", "서대문구", "Seodaemun-gu", (mid, LAT - 0.01, LON + 0.03, LAT + 0.01)),
        ("11680", "강남구", "Gangnam-gu", (127.02, 37.49, 127.06, 37.52)),
    ]
    dong = [("1144071", "서교동", "Seogyo-dong", (LON - 0.02, LAT - 0.01, mid, LAT))]
    (folder / "districts.geojson").write_text(json.dumps(fc(gu), ensure_ascii=False), encoding="utf-8")
    (folder / "submunicipalities.geojson").write_text(
        json.dumps(fc(dong), ensure_ascii=False), encoding="utf-8"
    )
    return folder


def test_basemap_serves_the_outlines_in_the_view(client, world, tmp_path, monkeypatch):
    monkeypatch.setenv("RELAYTRACK_BOUNDARIES", str(_boundaries(tmp_path / "bounds")))
    h = hdr(world, "op", None)
    r = client.get("/api/basemap", params=BOX, headers=h)
    assert r.status_code == 200, r.text
    base = r.json()
    assert base["available"] and base["note"] == ""
    assert [d["name"] for d in base["districts"]] == ["마포구", "서대문구"]  # 강남구 is far outside: not sent
    assert [d["name"] for d in base["dongs"]] == ["서교동"]
    for d in base["districts"] + base["dongs"]:
        assert d["label_at"] is not None
        for ring in d["rings"]:  # clipped to the view (plus its 5 % margin)
            assert all(126.9184 <= x <= 126.9296 and 37.5526 <= y <= 37.5604 for x, y in ring), ring
    assert client.get("/api/basemap", params=BOX).status_code == 401
    bad = client.get("/api/basemap", params={**BOX, "east": BOX["west"] - 1}, headers=h)
    assert bad.status_code == 422

    monkeypatch.setenv("RELAYTRACK_BOUNDARIES", str(tmp_path / "absent"))
    none = client.get("/api/basemap", params=BOX, headers=h).json()
    assert not none["available"] and none["districts"] == [] and "RELAYTRACK_BOUNDARIES" in none["note"]
    assert str(tmp_path) not in json.dumps(none)  # no server path


def test_console_loads_the_map_script_and_its_words(client):
    page = client.get("/").text
    scripts = re.findall(r'<script src="/static/(\w+)\.js"', page)
    assert scripts.index("app") < scripts.index("map") < scripts.index("search")  # map.js builds on app.js
    js = client.get("/static/map.js")
    assert js.status_code == 200 and "/api/basemap" in js.text and "placeLabels" in js.text
    assert "http" not in js.text.replace("http://www.w3.org", "")  # offline: no tiles, no CDN
    tables = console_tables()
    used = set(re.findall(r'\bt\((?:[^()"]*\? )?"([\w.]+)"', js.text)) | set(
        re.findall(r'"(map\.\w+)"', js.text)
    )
    assert {"map.base", "map.nobase"} <= used
    for key in used:
        assert key in tables["ko"] and key in tables["en"], key
        assert not english_words(tables["ko"][key]), tables["ko"][key]


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_console_places_labels_like_the_report():
    """map.js's greedy placement, run under node, keeps labels apart and agrees with relay.labels."""
    labels = [Label(f"C{i:02d}", 40 + 9 * (i % 6), 40 + 7 * (i // 6), 11.0) for i in range(24)]
    labels += [Label("마포구", 70, 55, 13.0, centred=True), Label("서교동", 60, 50, 9.5, centred=True)]
    data = [{"text": lb.text, "x": lb.x, "y": lb.y, "size": lb.size, "centred": lb.centred} for lb in labels]
    script = (
        "global.window = {};"
        f"eval(require('fs').readFileSync({json.dumps(str(STATIC / 'map.js'))}, 'utf8'));"
        f"console.log(JSON.stringify(window.RTMap.placeLabels({json.dumps(data)}, 220, 160, [[50, 50, 60, 60]])));"
    )
    out = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
    assert 4 <= len(out) < len(labels)  # crowded: some moved, some left out
    boxes = [p["box"] for p in out]
    for i, a in enumerate(boxes):
        assert not (a[0] < 60 and 50 < a[2] and a[1] < 60 and 50 < a[3])  # the reserved box stays clear
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    py = place(labels, 220, 160, [(50, 50, 60, 60)])
    assert [(p["text"], p["anchor"]) for p in out] == [(p.label.text, p.anchor) for p in py]
    assert all(p["box"] == pytest.approx(list(q.box)) for p, q in zip(out, py, strict=True))
