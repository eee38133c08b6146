"""View-to-view map links on arrays (relay.viewgaps, used by relay.maplinks.map_links) are those of the
per-pair `map_link` (relay.footprint's View / footprint / view_gap, kept as the reference): same pairs, same
edges, the same travel times to float rounding, on random mounted registers."""

import math

import numpy as np
import pytest

from relaytrack.records import Camera
from relaytrack.relay.footprint import Mount
from relaytrack.relay.maplinks import map_link, map_links
from relaytrack.relay.viewgaps import footprints, view_gaps, views_of

M_LAT = 1 / 111_195.0  # degrees of latitude per metre


def _mounted_register(rng, n, *, spread_m=600.0, shared=0):
    """n cameras in a square of spread_m, random headings, fields of view, frame sizes and mounts (some
    with the register's blanks: no width, height or field of view; some looking at the sky); the first
    `shared` come in pairs on one pole with one view (view_gap's degenerate case: the same centre)."""
    cams, mounts = [], {}
    m_lon = M_LAT / math.cos(math.radians(37.5))
    for i in range(n):
        lat = 37.5 + rng.uniform(0, spread_m) * M_LAT
        lon = 127.0 + rng.uniform(0, spread_m) * m_lon
        kind = i % 7
        cam = Camera(
            id=f"M{i:04d}",
            lat=lat,
            lon=lon,
            heading_deg=float(rng.integers(0, 360)) if kind == 3 else float(rng.uniform(0, 360)),
            fov_deg=None if kind == 1 else float(rng.uniform(40, 120)),
            width=None if kind == 2 else int(rng.choice([640, 1280, 1920])),
            height=None if kind in (2, 4) else int(rng.choice([360, 720, 1080])),
        )
        if i < shared and i % 2 == 1:  # the previous camera again, on the same pole with the same view
            prev = cams[-1]
            cam = Camera(id=cam.id, lat=prev.lat, lon=prev.lon, heading_deg=prev.heading_deg,
                         fov_deg=prev.fov_deg, width=prev.width, height=prev.height)  # fmt: skip
            mounts[cam.id] = mounts[prev.id]
        elif kind == 5:
            mounts[cam.id] = Mount(float(rng.uniform(20, 60)), float(rng.uniform(2, 6)))  # looks at the sky
        else:
            mounts[cam.id] = Mount(float(rng.uniform(3, 8)), float(rng.uniform(15, 45)))
        cams.append(cam)
    return cams, mounts


def _reference(table, mounts):
    """Each pair of the table worked out by `map_link`, one by one."""
    return [
        map_link(table.cams[i], table.cams[j], table.mode, mounts)
        for i, j in zip(table.a, table.b, strict=True)
    ]


def _assert_same(table, ref):
    c = table.cols
    assert [(ln.exit_edge, ln.entry_edge) for ln in ref] == list(
        zip(c["exit_edge"].tolist(), c["entry_edge"].tolist(), strict=True)
    )
    for key in ("mean_s", "std_s", "min_s", "max_s"):
        assert np.allclose(c[key], [getattr(ln, key) for ln in ref], rtol=1e-9, atol=1e-9), key


@pytest.mark.parametrize(
    ("seed", "n", "mode", "radius", "k", "shared"),
    [
        (0, 300, "walk", 300.0, 6, 0),
        (1, 250, "drive", 1500.0, 6, 20),
        (2, 400, "walk", 60.0, 10, 0),  # close poles: overlapping views
        (3, 200, "walk", 300.0, 3, 40),
    ],
)
def test_array_view_links_equal_map_link(seed, n, mode, radius, k, shared):
    rng = np.random.default_rng(seed)
    cams, mounts = _mounted_register(rng, n, shared=shared)
    table = map_links(cams, cams, mode=mode, radius_m=radius, neighbours=k, mounts=mounts)
    ref = _reference(table, mounts)
    assert len(ref) > n
    _assert_same(table, ref)
    # The case covers what view_gap tells apart: overlapping views, a gap between them, a camera looking at
    # the sky (no footprint: linked pole to pole), every edge.
    lo = table.cols["min_s"]
    assert (lo < 0).any() and (lo > 0).any()
    poles = map_links(cams, cams, mode=mode, radius_m=radius, neighbours=k, mounts={})
    assert 0 < (poles.cols["mean_s"] == table.cols["mean_s"]).sum() < len(table) / 2
    assert {ln.exit_edge for ln in ref} == {"top", "bottom", "left", "right"}
    assert {ln.entry_edge for ln in ref} == {"top", "bottom", "left", "right"}


def test_partly_mounted_register_mixes_both_kinds_of_link():
    """Unmounted or unheaded cameras link pole to pole, mounted pairs view to view, in one table."""
    rng = np.random.default_rng(7)
    cams, mounts = _mounted_register(rng, 300)
    cams = [c.with_(heading_deg=None) if i % 11 == 0 else c for i, c in enumerate(cams)]
    mounts = {cid: m for i, (cid, m) in enumerate(sorted(mounts.items())) if i % 3}
    table = map_links(cams[::2], cams, mode="walk", radius_m=300.0, neighbours=6, mounts=mounts)
    _assert_same(table, _reference(table, mounts))


def test_gaps_of_the_views_directly():
    """view_gaps against footprint.view_gap (map_link's path without its cache): the gap, pair by pair."""
    from relaytrack.relay.footprint import View, footprint, view_gap

    rng = np.random.default_rng(11)
    cams, mounts = _mounted_register(rng, 120, spread_m=150.0, shared=10)
    a, b = rng.integers(0, len(cams), 600), rng.integers(0, len(cams), 600)
    a[:5], b[:5] = np.arange(0, 10, 2), np.arange(1, 11, 2)  # a pole's two cameras with one view
    views = views_of(cams, [mounts[c.id] for c in cams])
    gap, exit_edge, entry_edge = view_gaps(views, footprints(views), a, b)
    for r, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        ref = (cams[i].lat, cams[i].lon)
        va, vb = View(cams[i], mounts[cams[i].id], ref), View(cams[j], mounts[cams[j].id], ref)
        g = view_gap(va, footprint(va), vb, footprint(vb))
        if g is None:
            assert math.isnan(gap[r])
        else:
            assert gap[r] == pytest.approx(g.gap_m, rel=1e-9, abs=1e-9)
            assert (exit_edge[r], entry_edge[r]) == (g.exit_edge, g.entry_edge)
    assert np.isnan(gap).any() and (gap[:5] < 0).all() and (exit_edge[:5] == "top").all()  # no view; one view


def test_reach_where_the_strip_edge_meets_grid_points():
    """The closed form of `_reach` against testing every footprint point (`_last_inside`'s test, the same
    float operations), where the strip's edge passes through a grid point to rounding and rays run along the
    line: the neighbours of the closed form's end must be tested there, or it lands a step off."""
    from relaytrack.relay.viewgaps import RADII, STRIP_M, Footprints, _reach

    rng = np.random.default_rng(3)
    n, rays = 400, 12
    sn, cs, j0, j1, centre, ux, uy = [], [], [], [], [], [], []
    for i in range(n):
        ang = rng.uniform(0, 2 * math.pi) + np.linspace(-0.8, 0.8, rays)
        first = rng.integers(0, 20, rays)
        sn += np.sin(ang).tolist()
        cs += np.cos(ang).tolist()
        j0 += first.tolist()
        j1 += (first + rng.integers(0, 30, rays)).tolist()
        phi = ang[rng.integers(rays)] + (
            0.0 if i % 4 == 0 else rng.uniform(-1.5, 1.5)
        )  # a ray along the line
        u = np.array([math.cos(phi), math.sin(phi)])
        ray = int(rng.integers(rays))
        p = RADII[j1[-rays + ray] - int(rng.integers(0, 3))] * np.array([sn[-rays + ray], cs[-rays + ray]])
        side = 1 if i % 2 else -1
        centre.append(p - rng.uniform(0, 20) * u - side * STRIP_M * np.array([-u[1], u[0]]))  # p on the edge
        ux.append(u[0])
        uy.append(u[1])
    fp = Footprints(
        np.full(n, 1), np.array(centre), np.arange(0, n * rays + 1, rays), np.array(sn), np.array(cs),
        np.array(j0), np.array(j1),
    )  # fmt: skip
    got = _reach(fp, np.arange(n), np.array(ux), np.array(uy))
    for i in range(n):
        best = -np.inf
        for run in range(i * rays, (i + 1) * rays):
            r = RADII[j0[run] : j1[run] + 1]
            sx, sy = r * sn[run] - centre[i][0], r * cs[run] - centre[i][1]
            along = sx * ux[i] + sy * uy[i]
            ok = (np.abs(sx * -uy[i] + sy * ux[i]) <= STRIP_M) & (along >= 0)
            best = max(best, along[ok].max()) if ok.any() else best
        assert got[i] == (best if np.isfinite(best) else 0.0), i


def test_bench_cameras_mounted_register(tmp_path):
    """`bench cameras --mounted`: the unmounted register's cameras with mounts (3-8 m, 15-45 degrees), linked
    view to view on import."""
    import json
    import sqlite3

    from relaytrack.bench.camera_import import run, write_register
    from relaytrack.paths import data_dir

    if not (data_dir() / "seoul" / "cctv").is_dir():
        pytest.skip("../shared/data/seoul not present")

    def entries(path):
        return [
            json.loads(line.strip()[2:]) for line in path.read_text().splitlines() if line.startswith("  - ")
        ]

    plain = entries(write_register(tmp_path / "plain.yaml", 300, seed=4))
    mounted = entries(write_register(tmp_path / "mounted.yaml", 300, seed=4, mounted=True))
    assert [{k: v for k, v in e.items() if k != "mount"} for e in mounted] == plain
    assert all(3 <= e["mount"]["height_m"] <= 8 and 15 <= e["mount"]["tilt_deg"] <= 45 for e in mounted)
    res = run(300, seed=4, work=tmp_path / "bench", mounted=True, say=lambda *_: None)
    assert res["mounted"] and res["links_inferred"] > 1000
    with sqlite3.connect(res["db"]) as conn:  # only view-to-view links have a window opening before 0 s
        assert conn.execute("SELECT COUNT(*) FROM camera_links WHERE min_s < 0").fetchone()[0] > 0


def test_footprints_are_shared_by_the_modes_of_one_import_through_the_callers_cache():
    cams, mounts = _mounted_register(np.random.default_rng(7), 60)
    cache: dict = {}
    shared = [map_links(cams, cams, mode=m, mounts=mounts, footprint_cache=cache) for m in ("walk", "drive")]
    assert len(cache) == 1  # worked out once for both modes, held only as long as the caller keeps the dict
    for m, table in zip(("walk", "drive"), shared, strict=True):
        alone = map_links(cams, cams, mode=m, mounts=mounts)
        assert table.links() == alone.links()
