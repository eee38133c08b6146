"""Map links from the k-d tree (relay.maplinks) are those of sorting the whole pool for every source (the
quadratic way the import used to take, kept here as the reference): same pairs, same times and edges."""

import math

import numpy as np
import pytest

from relaytrack.records import Camera
from relaytrack.relay.footprint import Mount
from relaytrack.relay.network import infer_links, map_link


def reference_links(sources, pool, *, mode, radius_m, neighbours, mounts):
    """The former relay.network.infer_links: every source against the whole pool, sorted by distance (stable,
    so ties go by pool order)."""
    placed = [c for c in pool if c.lat is not None]
    if not placed:
        return []
    lat = np.radians([c.lat for c in placed])
    lon = np.radians([c.lon for c in placed])
    out = {}
    for a in sources:
        if a.lat is None:
            continue
        la, lo = math.radians(a.lat), math.radians(a.lon)
        h = np.sin((lat - la) / 2) ** 2 + math.cos(la) * np.cos(lat) * np.sin((lon - lo) / 2) ** 2
        dist = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        taken = 0
        for j in np.argsort(dist, kind="stable"):
            if dist[j] > radius_m or taken >= neighbours:
                break
            b = placed[int(j)]
            if b.id == a.id:
                continue
            taken += 1
            out.setdefault((a.id, b.id), map_link(a, b, mode, mounts))
            out.setdefault((b.id, a.id), map_link(b, a, mode, mounts))
    return list(out.values())


def _register(rng, n, *, clusters=0):
    cams = []
    for i in range(n):
        lat, lon = 37.5 + rng.uniform(-0.01, 0.01), 127.0 + rng.uniform(-0.012, 0.012)
        if i < clusters:  # several cameras on one pole: equal distances, ties broken by pool order
            lat, lon = 37.5 + (i % 3) * 0.001, 127.0
        cams.append(
            Camera(
                id=f"C{i:04d}",
                lat=None if i % 53 == 7 else lat,
                lon=None if i % 53 == 7 else lon,
                heading_deg=None if i % 5 == 0 else float(rng.uniform(0, 360)),
                fov_deg=70.0,
                width=640,
                height=360,
            )
        )
    mounts = {c.id: Mount(6.0, 30.0) for c in cams if int(c.id[1:]) % 4 == 1}
    return cams, mounts


def _key(links):
    return sorted(
        (ln.src, ln.dst, ln.exit_edge, ln.entry_edge, ln.mode, ln.source, ln.mean_s, ln.std_s, ln.min_s, ln.max_s)
        for ln in links
    )


def _same(fast, ref):
    kf, kr = _key(fast), _key(ref)
    assert [k[:6] for k in kf] == [k[:6] for k in kr]
    assert np.allclose([k[6:] for k in kf], [k[6:] for k in kr], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("seed", "n", "clusters", "mode", "radius", "k"),
    [
        (0, 300, 0, "walk", 300.0, 6),
        (1, 400, 24, "walk", 250.0, 3),
        (2, 300, 12, "drive", 1500.0, 6),
        (3, 200, 40, "walk", 120.0, 10),
        (4, 250, 0, "drive", 800.0, 1),
    ],
)
def test_tree_links_equal_full_sort(seed, n, clusters, mode, radius, k):
    rng = np.random.default_rng(seed)
    cams, mounts = _register(rng, n, clusters=clusters)
    sources = [c for c in cams if rng.random() < 0.6]
    fast = infer_links(sources, cams, mode=mode, radius_m=radius, neighbours=k, mounts=mounts)
    ref = reference_links(sources, cams, mode=mode, radius_m=radius, neighbours=k, mounts=mounts)
    assert len(ref) > n // 2  # the case links something
    _same(fast, ref)


def test_source_outside_the_pool_and_empty_cases():
    rng = np.random.default_rng(9)
    cams, mounts = _register(rng, 120)
    outsider = Camera(id="X", lat=37.5, lon=127.0, heading_deg=10.0)
    for sources, pool in (([outsider], cams), ([], cams), (cams[:5], []), ([outsider], [outsider])):
        fast = infer_links(sources, pool, mode="walk", radius_m=400.0, neighbours=4, mounts=mounts)
        ref = reference_links(sources, pool, mode="walk", radius_m=400.0, neighbours=4, mounts=mounts)
        _same(fast, ref)


def test_a_crowd_at_one_spot_ties_by_pool_order():
    """More cameras at one spot than neighbours asked for (the tree's first answer cannot settle the ties)."""
    cams = [Camera(id=f"P{i:02d}", lat=37.5, lon=127.0, heading_deg=float(i * 10)) for i in range(30)]
    cams += [Camera(id="Q", lat=37.5001, lon=127.0)]
    fast = infer_links(cams[::7], cams, mode="walk", radius_m=300.0, neighbours=5)
    ref = reference_links(cams[::7], cams, mode="walk", radius_m=300.0, neighbours=5, mounts={})
    _same(fast, ref)


def test_import_works_links_out_again_when_another_writer_came_between(tmp_path, monkeypatch):
    """Links are worked out before the write lock; a camera another connection stored meanwhile is not missed."""
    from relaytrack.relay import netimport
    from relaytrack.relay.network import all_links, import_network
    from relaytrack.store import Store

    db = tmp_path / "s.db"
    first = tmp_path / "a.yaml"
    first.write_text("cameras:\n  - {id: A, lat: 37.5, lon: 127.0}\n  - {id: B, lat: 37.501, lon: 127.0}\n")
    second = tmp_path / "b.yaml"
    second.write_text("cameras:\n  - {id: D, lat: 37.5, lon: 127.003}\n")
    store = Store(db)
    assert import_network(store, first, modes=("walk",))["inferred_before_lock"] is True
    plan = netimport._plan

    def plan_then_another_writer(*args):
        out = plan(*args)
        other = Store(db)
        with other.tx():
            other.conn.execute("INSERT INTO cameras(id, name, lat, lon) VALUES ('C', 'C', 37.5, 127.0029)")
        other.close()
        return out

    monkeypatch.setattr(netimport, "_plan", plan_then_another_writer)
    summary = import_network(store, second, modes=("walk",))
    assert summary["inferred_before_lock"] is False
    pairs = {(ln["src"], ln["dst"]) for ln in all_links(store.conn)}
    assert ("D", "C") in pairs and ("C", "D") in pairs
    store.close()


def test_import_and_reimport_on_both_backends(store_db, tmp_path):
    """The batched import (cameras, file links, map links, the city-size delete) on SQLite and PostgreSQL: the
    links the tree finds are stored, a re-import replaces them with the same ones, a file link stays."""
    from relaytrack.relay import netimport
    from relaytrack.relay.network import all_links, import_network
    from relaytrack.store import Store

    rng = np.random.default_rng(5)
    lines = ["cameras:"]
    for i in range(300):
        lat, lon = 37.5 + rng.uniform(-0.01, 0.01), 127.0 + rng.uniform(-0.012, 0.012)
        lines.append(f'  - {{"id": "C{i:03d}", "lat": {lat:.6f}, "lon": {lon:.6f}, "heading_deg": {i % 360}.0}}')
    reg = tmp_path / "reg.yaml"
    reg.write_text("\n".join(lines) + "\n")
    given = tmp_path / "given.yaml"
    given.write_text("cameras: []\nlinks: [{src: C000, dst: C299, mean_s: 30}]\n")
    store = Store(store_db)
    first = import_network(store, reg)
    links = all_links(store.conn)
    import_network(store, given)  # C000's exits are the file's now
    assert not any(ln["src"] == "C000" and ln["source"] == "map" for ln in all_links(store.conn))
    netimport.BIG = 100  # the re-import takes the city-size path (one-pass delete on SQLite)
    try:
        again = import_network(store, reg)
    finally:
        netimport.BIG = 5000
    assert first["links_inferred"] > 1000 and again["inferred_before_lock"]
    after = all_links(store.conn)
    # The register brings C000's map links back, but for the pair the file links.
    assert [ln for ln in after if ln["source"] == "map"] == [
        ln for ln in links if (ln["src"], ln["dst"]) != ("C000", "C299")
    ]
    assert [(ln["src"], ln["dst"]) for ln in after if ln["source"] == "file"] == [("C000", "C299")]
    store.close()
