"""City simulator cameras: Seoul's inventory by owner and purpose, real 안심이 sites first, the rest per district."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from relaytrack.paths import data_dir
from relaytrack.town.city_cameras import CRIME, Inventory, Sites, place_cameras

needs_seoul = pytest.mark.skipif(
    not (data_dir() / "seoul" / "cctv").is_dir(), reason="../shared/data/seoul not present"
)

TABLE = Inventory(
    {
        ("본청", CRIME): 20,
        ("본청", "교통정보수집"): 110,
        ("투출기관", CRIME): 200,
        ("투출기관", "시설안전·화재예방"): 400,
        ("자치구", CRIME): 680,
        ("자치구", "어린이보호구역"): 84,
        ("자치구", "교통단속"): 83,
    }
)


def _sites(n: int, seed: int = 0) -> Sites:
    """n real camera rows in three districts, a quarter of them sharing a pole with another."""
    rng = np.random.default_rng(seed)
    base = n - n // 4
    lat = np.round(37.5 + rng.uniform(0, 0.1, base), 4)
    lon = np.round(127.0 + rng.uniform(0, 0.1, base), 4)
    dist = np.array(["강남구", "마포구", "중구"], dtype=object)[(lon > 127.03).astype(int) + (lon > 127.07)]
    dup = rng.integers(0, base, n // 4)
    return Sites(np.r_[lat, lat[dup]], np.r_[lon, lon[dup]], np.r_[dist, dist[dup]])


def _check(plan, inv: Inventory) -> None:
    assert Counter(plan.owner.tolist()) == Counter(inv.by_owner())
    assert Counter(plan.purpose.tolist()) == Counter(inv.by_purpose())
    assert Counter(zip(plan.owner.tolist(), plan.purpose.tolist(), strict=True)) == Counter(inv.cells)


def test_scaled_inventory_keeps_the_mix():
    s = TABLE.scaled(500)
    assert s.total == 500
    for k, v in TABLE.cells.items():
        assert abs(s.cells[k] - v * 500 / TABLE.total) < 1


@pytest.mark.parametrize("n", [300, 700, 1577, 3000])
def test_placement_matches_scaled_table(n):
    sites = _sites(800)
    plan = place_cameras(n, np.random.default_rng(1), sites=sites, inventory=TABLE, weights_path=None, seed=1)
    assert len(plan) == n
    _check(plan, TABLE.scaled(n))
    n_real = min(n, len(sites))
    assert plan.real.sum() == n_real
    # Real cameras take the crime-prevention slots first, the districts' own before the other owners'.
    crime = TABLE.scaled(n).by_purpose()[CRIME]
    assert (plan.purpose[plan.real] == CRIME).sum() == min(n_real, crime)
    if n_real <= TABLE.scaled(n).cells[("자치구", CRIME)]:
        assert set(plan.owner[plan.real]) == {"자치구"}
    # Every camera has its own position, inside the districts it was placed in.
    pos = set(zip(np.round(plan.lat, 7).tolist(), np.round(plan.lon, 7).tolist(), strict=True))
    assert len(pos) == n
    assert set(plan.district) <= {"강남구", "마포구", "중구"}


def test_small_cities_draw_distinct_sites_as_before():
    sites = _sites(800)
    plan = place_cameras(100, np.random.default_rng(3), sites=sites, inventory=TABLE)
    d = sites.distinct()
    rng = np.random.default_rng(3)
    rows = d[np.sort(rng.choice(len(d), 100, replace=False))]
    assert np.array_equal(plan.lat, sites.lat[rows]) and list(plan.district) == list(sites.district[rows])


@needs_seoul
def test_full_city_matches_the_2023_inventory():
    inv = Inventory.load()
    assert inv.total == 176_371
    assert inv.by_owner() == {"본청": 3958, "사업소": 10954, "투출기관": 61944, "자치구": 99515}
    assert inv.by_purpose()[CRIME] == 90_006
    plan = place_cameras(176_371, np.random.default_rng(0))
    _check(plan, inv)
    assert plan.real.sum() == 83_734
    assert len(set(plan.district)) == 25
    per = Counter(plan.district.tolist())
    assert min(per.values()) > 2000 and per["강남구"] == max(per.values())
    # All real 안심이 cameras are crime-prevention cameras.
    assert set(plan.purpose[plan.real]) == {CRIME}
    assert (
        37.40 < plan.lat.min()
        and plan.lat.max() < 37.72
        and 126.76 < plan.lon.min()
        and plan.lon.max() < 127.19
    )


@needs_seoul
def test_bulk_load_without_indexes_gives_the_same_store(tmp_path, monkeypatch):
    from relaytrack.store import Store
    from relaytrack.town import city

    city.simulate_city(tmp_path / "a.db", cameras=40, sightings=1200, seed=4, dim=8)
    monkeypatch.setattr(city, "BULK_LOAD", 1000)
    s = city.simulate_city(tmp_path / "b.db", cameras=40, sightings=1200, seed=4, dim=8)
    assert "build_indexes" in s["seconds_by_step"]
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        q = "SELECT * FROM sightings ORDER BY id"
        rows = [[{k: r[k] for k in r.keys() if k != "created_at"} for r in s.query(q)] for s in (a, b)]
        assert rows[0] == rows[1]
        idx = "SELECT name FROM pragma_index_list('sightings') ORDER BY name"
        assert [r[0] for r in a.query(idx)] == [r[0] for r in b.query(idx)]
        assert len(a.query(idx)) >= 13


@needs_seoul
def test_bulk_load_on_postgres_rebuilds_the_same_indexes(pg_cluster, monkeypatch):
    # PostgreSQL's index definitions come from the server (the migrations' text is translated there): a bulk
    # load drops and rebuilds exactly those, and the rows are those of a load with its indexes in place.
    from relaytrack.store import Store
    from relaytrack.town import city

    urls = [pg_cluster.new_database(), pg_cluster.new_database()]
    try:
        city.simulate_city(urls[0], cameras=40, sightings=1200, seed=4, dim=8)
        monkeypatch.setattr(city, "BULK_LOAD", 1000)
        s = city.simulate_city(urls[1], cameras=40, sightings=1200, seed=4, dim=8)
        assert "build_indexes" in s["seconds_by_step"]
        with Store(urls[0]) as a, Store(urls[1]) as b:
            q = "SELECT * FROM sightings ORDER BY id"
            rows = [[{k: r[k] for k in r.keys() if k != "created_at"} for r in s.query(q)] for s in (a, b)]
            assert rows[0] == rows[1]
            idx = "SELECT indexdef FROM pg_indexes WHERE tablename = 'sightings' ORDER BY indexname"
            assert [r[0] for r in a.query(idx)] == [r[0] for r in b.query(idx)]
            assert len(a.query(idx)) >= 13
            links = "SELECT src, dst, mode, source FROM camera_links ORDER BY src, dst, mode"
            assert a.query(links) == b.query(links) and len(a.query(links)) > 40
    finally:
        for u in urls:
            pg_cluster.drop_database(u)
