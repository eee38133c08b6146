"""Search over real stores: exact top-K agreement, example search, IVF, bad input, access, CLI contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from relaytrack.errors import AccessDenied, InputError, NotFound
from relaytrack.evidence.access import create_case, create_user
from relaytrack.paths import data_dir
from relaytrack.records import Sighting
from relaytrack.search.engine import Filters, search_description, search_example, search_sighting
from relaytrack.search.query import Query, parse_text
from relaytrack.search.score import ATTR_COLUMNS, score_rows
from relaytrack.store import Store, vectors
from relaytrack.store.sightings import ensure_camera, insert_sighting

COLORS = ("black", "white", "gray", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
T0 = 1_795_000_000.0
N = 3000
DIM = 16


def _fill(store: Store, n: int = N, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    protos = rng.standard_normal((50, DIM)).astype(np.float32)
    with store.tx() as conn:
        for cam in ("C01", "C02", "C03"):
            ensure_camera(conn, cam)
        for i in range(n):
            person = rng.random() < 0.7
            emb = protos[i % 50] + 0.3 * rng.standard_normal(DIM).astype(np.float32)
            s = Sighting(
                id=0,
                camera=("C01", "C02", "C03")[i % 3],
                source_id=None,
                track_id=i,
                kind="person" if person else "vehicle",
                class_name="person" if person else "car",
                start=i * 2.0,
                end=i * 2.0 + 5,
                first_frame=i * 20 + 1,
                last_frame=i * 20 + 50,
                wall_start=T0 + i * 2.0,
                wall_end=T0 + i * 2.0 + 5,
                box=(1.0, 2.0, 30.0, 80.0),
                upper_color=str(rng.choice(COLORS)) if person else None,
                upper_conf=float(rng.uniform(0.2, 1)),
                lower_color=str(rng.choice(COLORS)) if person else None,
                lower_conf=float(rng.uniform(0.2, 1)),
                items={"backpack": round(float(rng.uniform(0.3, 1)), 3)}
                if person and rng.random() < 0.3
                else {},
                vehicle_type=None if person else str(rng.choice(["car", "truck", "bus"])),
                vehicle_color=None if person else str(rng.choice(COLORS)),
                plate=None
                if person or rng.random() < 0.5
                else f"{rng.integers(10, 99)}가{rng.integers(0, 9999):04d}",
                embedding=emb / np.linalg.norm(emb),
            )
            insert_sighting(conn, s)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(request, tmp_path_factory):
    if request.param == "postgresql":
        path = request.getfixturevalue("pg_cluster").new_database()
    else:
        path = tmp_path_factory.mktemp("search") / "s.db"
    st = Store(path)
    _fill(st)
    st.conn.execute("ANALYZE")
    yield st
    st.close()


def _exact(conn, q: Query, k: int) -> tuple[float, dict[int, float]]:
    rows = conn.execute(f"SELECT {ATTR_COLUMNS} FROM sightings WHERE kind=?", (q.kind,)).fetchall()
    sc = score_rows(q, rows)
    kth = float(np.sort(sc.score)[-k])
    return kth, dict(zip(sc.ids.tolist(), sc.score.tolist(), strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "빨간 상의에 검은 바지, 백팩",
        "red top",
        "black trousers",
        "backpack",
        "white car",
        "blue truck plate 12가",
        "gray top, brown skirt",
        "handbag",
        "red top, backpack",
        "black top with a handbag",
        "blue top, cell phone",
    ],
)
def test_tiered_search_equals_exact_topk(filled, text):
    q = parse_text(text)
    res = search_description(filled.conn, q, top=15)
    kth, exact = _exact(filled.conn, q, 15)
    assert res.hits, res.message
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)
    for h in res.hits:  # every hit is a valid member of the exact top-15 (ties at the cut are equivalent)
        assert exact[h.sighting.id] == pytest.approx(h.score, abs=1e-5)
        if kth > 0:
            assert h.score >= kth - 1e-5
    if kth > 0:
        assert len(res.hits) == 15


def test_filters_time_camera(filled):
    q = parse_text("red top")
    f = Filters(time_from=T0 + 1000, time_to=T0 + 2000, cameras=["C02"])
    res = search_description(filled.conn, q, top=50, filters=f)
    assert res.stats["strategy"] == "filtered"
    for h in res.hits:
        s = h.sighting
        assert s.camera == "C02" and s.wall_end >= T0 + 1000 and s.wall_start <= T0 + 2000


def test_window_outside_recordings_and_empty_store(filled, tmp_path):
    res = search_description(
        filled.conn, parse_text("red top"), filters=Filters(time_from=T0 - 9e5, time_to=T0 - 8e5)
    )
    assert res.hits == [] and "does not overlap" in res.message
    with pytest.raises(InputError):
        search_description(filled.conn, parse_text("red top"), filters=Filters(time_from=T0 + 10, time_to=T0))
    with Store(tmp_path / "empty.db") as st:
        res = search_description(st.conn, parse_text("red top"))
        assert res.hits == [] and "no sightings" in res.message
        assert search_example(st.conn, np.ones(DIM, np.float32)).hits == []


def test_example_search_and_ivf(filled, tmp_path):
    res = search_sighting(filled.conn, 7, top=10)
    assert res.hits and all(h.sighting.id != 7 for h in res.hits)
    assert res.hits[0].reasons[0].startswith("appearance")
    # Same prototype (id % 50) should dominate the neighbours.
    same = sum(1 for h in res.hits if (h.sighting.id - 1) % 50 == 6)
    assert same >= 7
    with pytest.raises(NotFound):
        search_sighting(filled.conn, 10**9)
    # IVF: probing every cell is exact; probing few keeps most of the neighbours.
    q = filled.conn.execute("SELECT embedding FROM sightings WHERE id=11").fetchone()[0]
    v = np.frombuffer(q, np.float32)
    exact = vectors.knn(filled.conn, v, 20, exact=True)
    with filled.tx() as conn:
        info = vectors.build_ivf(conn, nlist=16)
    assert info == {"vectors": N, "nlist": 16}
    assert vectors.partitioned(filled.conn) and vectors.centroids(filled.conn).shape == (16, DIM)
    assert [i for i, _ in vectors.knn(filled.conn, v, 20, nprobe=16)] == [i for i, _ in exact]
    approx = {i for i, _ in vectors.knn(filled.conn, v, 20, nprobe=4)}
    assert len(approx & {i for i, _ in exact}) >= 15
    with filled.tx() as conn:  # new vectors land in the unassigned cell and are still found
        vectors.add(conn, 999_999, v)
    assert vectors.knn(filled.conn, v, 1, nprobe=1)[0][0] in (11, 999_999)


def _cli_store(path):
    st = Store(path)
    _fill(st, 400)
    with st.tx() as conn:
        create_user(conn, "kim", "investigator")
        create_case(conn, "C-7", legal_basis="형사소송법 제215조", purpose="test", members=["kim"])
    st.close()
    return path


def test_cli_contract_and_access(store_db):
    from relaytrack.cli import app

    path = _cli_store(store_db)
    run = CliRunner().invoke
    r = run(app, ["search", "--text", "빨간 상의에 검은 바지", "--top", "5", "--db", str(path), "--json"])
    assert r.exit_code == 1 and isinstance(r.exception, AccessDenied) or "refused" in r.output
    r = run(
        app,
        [
            "search",
            "--text",
            "빨간 상의에 검은 바지",
            "--top",
            "5",
            "--db",
            str(path),
            "--json",
            "--user",
            "kim",
            "--case",
            "C-7",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert 0 < len(out) <= 5
    assert set(out[0]) == {
        "sighting", "camera", "start", "end", "start_time", "end_time", "frames", "box", "score", "reasons"
    }  # fmt: skip
    # start/end stay seconds into the clip; start_time/end_time are the Seoul wall-clock time beside them
    assert isinstance(out[0]["start"], float) and out[0]["start_time"].endswith("+09:00")
    assert out[0]["score"] >= out[-1]["score"] and any("upper red" in x for x in out[0]["reasons"])
    r = run(
        app,
        [
            "search",
            "--sighting",
            str(out[0]["sighting"]),
            "--db",
            str(path),
            "--json",
            "--user",
            "kim",
            "--case",
            "C-7",
            "--camera",
            "C01",
        ],
    )
    assert r.exit_code == 0, r.output
    assert all(h["camera"] == "C01" for h in json.loads(r.stdout))
    r = run(
        app, ["search", "--sighting", "123456", "--db", str(path), "--json", "--user", "kim", "--case", "C-7"]
    )
    assert r.exit_code != 0 and "123456" in str(r.exception)
    r = run(
        app,
        [
            "search",
            "--text",
            "red top",
            "--from",
            "2001-01-01T00:00",
            "--to",
            "2001-01-02T00:00",
            "--db",
            str(path),
            "--json",
            "--user",
            "kim",
            "--case",
            "C-7",
        ],
    )
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    with Store(path) as st:
        log = st.query("SELECT action, outcome, result_ids FROM audit_log ORDER BY seq")
    outcomes = [(a, o) for a, o, _ in log if a == "search"]
    assert outcomes[0][1] == "denied" and ("search", "ok") in outcomes
    assert any(str(out[0]["sighting"]) in (x or "") for a, o, x in log if a == "search" and o == "ok")


@pytest.mark.skipif(not (data_dir() / "seoul" / "cctv").is_dir(), reason="../shared/data/seoul not present")
def test_city_simulator_small(tmp_path):
    from relaytrack.town.city import simulate_city

    s = simulate_city(tmp_path / "city.db", cameras=60, sightings=4000, seed=3, dim=32)
    assert s["sightings"] == 4000 and s["cameras"] == 60
    with Store(tmp_path / "city.db") as st:
        assert st.one("SELECT COUNT(*) FROM sim_truth")[0] == 4000
        assert st.one("SELECT COUNT(DISTINCT camera_id) FROM sightings")[0] > 40
        assert st.one("SELECT COUNT(*) FROM camera_links")[0] > 0
        d = st.one("SELECT COUNT(*) FROM cameras WHERE district LIKE '%구'")[0]
        assert d == 60
        # Route continuity: consecutive sightings of an identity are on linked (neighbouring) cameras.
        rows = st.query(
            "SELECT t.identity, s.camera_id, s.wall_start FROM sim_truth t JOIN sightings s ON "
            "s.id = t.sighting_id ORDER BY t.identity, s.wall_start"
        )
        links = {(a, b) for a, b in st.query("SELECT src, dst FROM camera_links")}
        pairs = [(a[1], b[1]) for a, b in zip(rows, rows[1:], strict=False) if a[0] == b[0]]
        assert pairs and sum((p in links) for p in pairs) / len(pairs) > 0.95
        # Example search finds the same identity more often than chance.
        ident = dict(st.query("SELECT sighting_id, identity FROM sim_truth"))
        hits, same = 0, 0
        for sid in range(1, 200, 20):
            res = search_sighting(st.conn, sid, top=5)
            hits += len(res.hits)
            same += sum(ident[h.sighting.id] == ident[sid] for h in res.hits)
        assert same / hits > 0.3
        with pytest.raises(Exception, match="already holds"):
            simulate_city(tmp_path / "city.db", cameras=10, sightings=10)


def test_sum_order_bound_never_undercuts_an_unread_row():
    # Reading by s = upper_conf + lower_conf, every unread row (u + l <= s) scores at most the bound, and the
    # bound is reached by some such row (it is tight), for unequal weights too.
    from relaytrack.search.engine import partial_sum_bound

    rng = np.random.default_rng(5)
    for a, b in [(0.4, 0.4), (0.5, 0.2), (0.1, 0.45), (0.3, 0.0)]:
        at = partial_sum_bound(1.0, a, b)
        for s in np.linspace(0, 2, 21):
            u = rng.uniform(0, 1, 4000)
            lo = np.clip(rng.uniform(0, 1, 4000), 0, np.maximum(s - u, 0))
            keep = u + lo <= s + 1e-12
            scores = 1.0 - a * (1 - u[keep]) - b * (1 - lo[keep])
            assert (scores <= at(s) + 1e-9).all()
            best_u = min(1.0, s) if a >= b else max(0.0, s - 1.0)  # confidence on the larger weight first
            best = 1.0 - a * (1 - best_u) - b * (1 - min(1.0, s - best_u))
            assert at(s) == pytest.approx(best, abs=1e-9)


def test_item_indexes_hold_only_rows_with_the_item(store_db):
    # The tiers read "has the item" best first; PostgreSQL walks NULLs first in a descending scan, so the item
    # indexes are partial (search:005) on both backends, and a tier still reads exactly.
    from relaytrack.store import Store

    with Store(store_db) as st:
        if st.backend == "postgresql":
            rows = st.query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sightings'")
        else:
            rows = st.query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sightings'"
            )
        defs = {r[0]: r[1] for r in rows}
    for slug in ("backpack", "handbag", "suitcase", "umbrella", "phone"):
        for name in (f"sightings_upper_{slug}", f"sightings_item_{slug}"):
            assert "IS NOT NULL" in defs[name], (name, defs[name])
