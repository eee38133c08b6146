"""Camera network: import formats, link inference from bearings, refinement, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relaytrack.errors import InputError
from relaytrack.records import Camera
from relaytrack.relay.footprint import Mount
from relaytrack.relay.geo import bearing_deg, edge_for_relative_bearing, haversine_m
from relaytrack.relay.network import (
    all_links,
    camera_info,
    camera_mounts,
    import_network,
    links_from,
    map_link,
    read_network,
    refine_links,
)
from relaytrack.store import Store

LAT, LON = 37.5563, 126.9220
M_LAT = 1 / 111_195.0  # degrees per metre north


def _m_lon(lat: float = LAT) -> float:
    import math

    return 1 / (111_195.0 * math.cos(math.radians(lat)))


@pytest.fixture
def store(store_db: str) -> Store:
    s = Store(store_db)
    yield s
    s.close()


YAML = """
cameras:
  - id: C01
    name: "Mapo 1-gil north"
    lat: 37.5563
    lon: 126.9220
    heading_deg: 0
    fov_deg: 70
    district: 마포구
    owner: 자치구
    purpose: 방범
    stream_url: null
    clock_offset_s: 1.5
    width: 640
    height: 360
    start_time: "2026-11-25T14:00:00+09:00"
    source: videos/C01.mp4
    zones:
      - {id: Z1, kind: mailbox, polygon: [[10, 10], [50, 10], [50, 60]]}
  - {id: C02, lat: 37.5563, lon: 126.92313, heading_deg: 0, owner: 본청, purpose: 어린이보호구역}
  - {id: C03, lat: 37.5572, lon: 126.9220, heading_deg: 180}
links:
  - {src: C01, dst: C02, exit_edge: right, entry_edge: left, mean_s: 35.0, std_s: 8.0, min_s: 15.0, max_s: 80.0, mode: walk}
"""


@pytest.mark.parametrize(
    ("rel", "edge"),
    [(0, "top"), (30, "top"), (90, "right"), (180, "bottom"), (200, "bottom"), (270, "left"), (-60, "left")],
)
def test_edge_for_relative_bearing(rel: float, edge: str) -> None:
    assert edge_for_relative_bearing(rel) == edge


def test_map_link_exit_edge_from_bearing_and_walking_time() -> None:
    a = Camera("A", lat=LAT, lon=LON, heading_deg=0)  # looks north
    east = Camera("E", lat=LAT, lon=LON + 100 * _m_lon(), heading_deg=0)
    north = Camera("N", lat=LAT + 100 * M_LAT, lon=LON, heading_deg=90)
    south = Camera("S", lat=LAT - 100 * M_LAT, lon=LON, heading_deg=180)
    assert abs(haversine_m(a.lat, a.lon, east.lat, east.lon) - 100) < 1
    assert abs(bearing_deg(a.lat, a.lon, east.lat, east.lon) - 90) < 0.5
    ln = map_link(a, east)
    assert (ln.exit_edge, ln.entry_edge) == (
        "right",
        "left",
    )  # east of a north-looking camera; A is west of E
    assert 100 / 1.8 - 1 < ln.min_s < ln.mean_s < ln.max_s
    assert ln.max_s >= 100 / 0.8
    assert map_link(a, north).exit_edge == "top"
    assert map_link(a, north).entry_edge == "right"  # N looks east; A lies south = to its right
    assert map_link(a, south).exit_edge == "bottom"
    assert map_link(a, south).entry_edge == "bottom"  # S looks south; A lies north, behind the camera
    drive = map_link(a, east, "drive")
    assert drive.mean_s < ln.mean_s
    assert map_link(Camera("X", lat=LAT, lon=LON), east).exit_edge is None  # no heading: any edge


def test_yaml_import_keeps_fields_extra_and_infers_missing_links(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "cameras.yaml"
    f.write_text(YAML, encoding="utf-8")
    summary = import_network(store, f)
    assert summary["cameras"] == 3 and summary["links_given"] == 1
    info = camera_info(store.conn, "C01")
    assert info["owner"] == "자치구" and info["clock_offset_s"] == 1.5 and info["heading_deg"] == 0
    assert info["extra"]["start_time"] == "2026-11-25T14:00:00+09:00"
    assert info["extra"]["source"] == "videos/C01.mp4"
    assert info["extra"]["source_path"] == str((tmp_path / "videos/C01.mp4").resolve())
    assert info["extra"]["zones"][0]["id"] == "Z1"
    links = all_links(store.conn)
    given = [ln for ln in links if ln["src"] == "C01"]
    assert len(given) == 1 and given[0]["source"] == "file" and given[0]["mean_s"] == 35.0
    # C02 and C03 had no links in the file: inferred from the map, both modes.
    inferred = {(ln["src"], ln["dst"], ln["mode"]) for ln in links if ln["source"] == "map"}
    assert ("C03", "C01", "walk") in inferred and ("C02", "C01", "drive") in inferred
    c03_to_c01 = next(ln for ln in links if (ln["src"], ln["dst"], ln["mode"]) == ("C03", "C01", "walk"))
    assert c03_to_c01["exit_edge"] == "top"  # C03 looks south, C01 is south of it
    # Re-import is idempotent.
    before = all_links(store.conn)
    import_network(store, f)
    assert all_links(store.conn) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cameras:\n  - {id: C01, lat: 37.5, lon: 127.0}\nlinks:\n  - {src: C01, dst: C99, mean_s: 30}\n",
            "links[0]: link to missing camera 'C99'",
        ),
        ("cameras:\n  - {id: C01, owner: 구청}\n", "cameras[0] (camera C01): owner '구청'"),
        ("cameras:\n  - {id: C01, purpose: spying}\n", "purpose 'spying'"),
        ("cameras:\n  - {id: C01, lat: 137.5, lon: 127.0}\n", "lat 137.5 out of range"),
        ("cameras:\n  - {id: C01}\n  - {id: C01}\n", "duplicate camera id"),
        (
            "cameras:\n  - {id: C01}\n  - {id: C02}\nlinks:\n  - {src: C01, dst: C02, mean_s: 30, exit_edge: up}\n",
            "exit_edge 'up'",
        ),
        (
            "cameras:\n  - {id: C01}\n  - {id: C02}\nlinks:\n  - {src: C01, dst: C02, mean_s: 30, min_s: 40}\n",
            "min_s <= mean_s <= max_s",
        ),
        ("cameras: [\n", "not valid YAML"),
    ],
)
def test_bad_input_names_the_row_and_changes_nothing(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=None) as err:
        import_network(store, f)
    assert message in str(err.value) and str(f) in str(err.value)
    assert store.one("SELECT COUNT(*) FROM cameras")[0] == 0
    assert store.one("SELECT COUNT(*) FROM camera_links")[0] == 0


def test_link_to_missing_camera_rolls_back_cameras_of_the_same_file(store: Store, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("cameras:\n  - {id: A, lat: 37.5, lon: 127.0, heading_deg: 0}\n", encoding="utf-8")
    import_network(store, good)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cameras:\n  - {id: B, lat: 37.5001, lon: 127.0}\nlinks:\n  - {src: B, dst: Z, mean_s: 9}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="missing camera 'Z'"):
        import_network(store, bad)
    assert [r[0] for r in store.query("SELECT id FROM cameras")] == ["A"]


def test_csv_and_geojson_import(store: Store, tmp_path: Path) -> None:
    cams = tmp_path / "cams.csv"
    cams.write_text(
        "id,name,latitude,longitude,heading,owner,purpose,clock_offset_s\n"
        "A,a,37.5563,126.9220,90,자치구,방범,0\nB,b,37.5563,126.9232,270,사업소,교통단속,2\n",
        encoding="utf-8",
    )
    links = tmp_path / "links.csv"
    links.write_text(
        "src,dst,exit_edge,entry_edge,mean_s,std_s,mode\nA,B,top,top,80,10,walk\n", encoding="utf-8"
    )
    assert import_network(store, cams, infer=False)["cameras"] == 2
    assert import_network(store, links)["links_given"] == 1
    assert camera_info(store.conn, "B")["clock_offset_s"] == 2.0
    gj = tmp_path / "net.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [126.9244, 37.5563]},
                        "properties": {"id": "C", "heading_deg": 0, "purpose": "기타"},
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                        "properties": {"src": "B", "dst": "C", "mean_s": 70, "exit_edge": "left"},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    summary = import_network(store, gj)
    assert summary["cameras"] == 1 and summary["links_given"] == 1
    assert camera_info(store.conn, "C")["lon"] == pytest.approx(126.9244)
    (tmp_path / "cams.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="unknown network format"):
        read_network(tmp_path / "cams.txt")


def test_refine_links_blends_prior_with_observations(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "n.yaml"
    f.write_text(
        "cameras:\n  - {id: A}\n  - {id: B}\nlinks:\n"
        "  - {src: A, dst: B, mean_s: 60, std_s: 20, min_s: 10, max_s: 150}\n",
        encoding="utf-8",
    )
    import_network(store, f)
    obs = [
        ("A", "B", 30.0),
        ("A", "B", 32.0),
        ("A", "B", 28.0),
        ("A", "B", 31.0),
        ("A", "B", 29.0),
        ("A", "B", 30.0),
    ]
    with store.tx() as conn:
        out = refine_links(conn, observations=[*obs, ("B", "A", 5.0)])
    assert out["links_updated"] == 1 and out["unlinked"] == [["B", "A"]]
    ln = all_links(store.conn)[0]
    assert ln["source"] == "data" and ln["n_obs"] == 6
    assert 30 < ln["mean_s"] < 45  # pulled from the prior 60 towards the observed 30
    assert ln["std_s"] < 20
    with store.tx() as conn:
        refine_links(conn, observations=obs)
    assert all_links(store.conn)[0]["mean_s"] == ln["mean_s"]  # recomputed from the prior: idempotent


def test_mounted_cameras_link_view_to_view_overlap_and_facing_edges(store: Store, tmp_path: Path) -> None:
    # Two poles 36 m apart on a north-south street, facing each other, 5.5 m up, tilted 33 deg: each watches
    # the ground some 4-35 m ahead, so both see the middle of the street. Walking from one to the other, the
    # second view is entered before the first is left (negative travel time), and both are crossed by their
    # top edge (walking away from one camera, towards the other). Pole to pole it would be a 20-60 s walk.
    south = Camera("S", lat=LAT, lon=LON, heading_deg=0, fov_deg=70, width=640, height=360)
    north = Camera("N", lat=LAT + 36 * M_LAT, lon=LON, heading_deg=180, fov_deg=70, width=640, height=360)
    mounts = {"S": Mount(5.5, 33.0), "N": Mount(5.5, 33.0)}
    ln = map_link(south, north, mounts=mounts)
    assert ln.min_s < 0 < ln.max_s and ln.mean_s < 5
    assert (ln.exit_edge, ln.entry_edge) == ("top", "top")
    # Side by side, looking the same way 60 m apart: the views are ~30 m apart, less than the poles' 60 m.
    east = Camera("E", lat=LAT, lon=LON + 60 * _m_lon(), heading_deg=0, fov_deg=70, width=640, height=360)
    side = map_link(south, east, mounts={**mounts, "E": Mount(5.5, 33.0)})
    assert (side.exit_edge, side.entry_edge) == ("right", "left")
    assert 0 < side.min_s < 60 / 1.8 and side.mean_s < map_link(south, east).mean_s
    # The register's mount reaches the links through an import.
    f = tmp_path / "mounted.yaml"
    f.write_text(
        "cameras:\n"
        f"  - {{id: S, lat: {south.lat}, lon: {LON}, heading_deg: 0, fov_deg: 70, width: 640, height: 360,"
        " mount: {height_m: 5.5, tilt_deg: 33}}\n"
        f"  - {{id: N, lat: {north.lat}, lon: {LON}, heading_deg: 180, fov_deg: 70, width: 640, height: 360,"
        " mount: {height_m: 5.5, tilt_deg: 33}}\n",
        encoding="utf-8",
    )
    import_network(store, f)
    assert camera_mounts(store.conn) == mounts
    (stored,) = [x for x in links_from(store.conn, "S", "walk") if x.dst == "N"]
    assert stored.min_s < 0
