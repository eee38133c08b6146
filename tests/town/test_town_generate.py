"""A tiny rendered town: files, MOTChallenge gt validity, TrackEval reads it, determinism, truth contents,
the register without links beside links-truth.yaml, look-alike decoys, large towns' blind cameras."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from relaytrack.town import generate, load_truth
from relaytrack.town.generate import _visible_boxes, edge_of, render_frame, zones_for
from relaytrack.town.plan import TownSpec, plan_town
from relaytrack.town.render import LIGHT, build_view
from relaytrack.town.world import ground_texture


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return generate(seed=5, cameras=3, minutes=0.05, out_dir=tmp_path_factory.mktemp("town") / "t", decoys=2)


def test_folder_layout(tiny):
    for c in ("C01", "C02", "C03"):
        assert (tiny / "videos" / f"{c}.mp4").stat().st_size > 10_000
        assert (tiny / "mot" / c / "gt" / "gt.txt").exists()
        ini = (tiny / "mot" / c / "seqinfo.ini").read_text()
        assert "seqLength=30" in ini and "imWidth=640" in ini and "frameRate=10" in ini


def test_video_matches_gt_frames(tiny):
    import cv2

    cap = cv2.VideoCapture(str(tiny / "videos" / "C01.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 30
    assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 640


def test_gt_rows_are_valid_mot(tiny):
    rows = 0
    for c in ("C01", "C02", "C03"):
        for line in (tiny / "mot" / c / "gt" / "gt.txt").read_text().splitlines():
            f, pid, x, y, w, h, conf, cls, vis = line.split(",")
            assert 1 <= int(f) <= 30 and int(pid) >= 1
            assert (
                float(x) >= 1 and float(y) >= 1 and float(x) + float(w) <= 641 and float(y) + float(h) <= 361
            )
            assert float(h) >= 20 and float(w) > 0
            assert (conf, cls) == ("1", "1") and 0.2 <= float(vis) <= 1.0
            rows += 1
    assert rows > 20


def test_camera_network_file(tiny):
    net = yaml.safe_load((tiny / "cameras.yaml").read_text(encoding="utf-8"))
    ids = [c["id"] for c in net["cameras"]]
    assert ids == ["C01", "C02", "C03"]
    for c in net["cameras"]:
        assert 37.4 < c["lat"] < 37.7 and 126.7 < c["lon"] < 127.2
        assert 0 <= c["heading_deg"] < 360 and 40 < c["fov_deg"] < 100
        assert c["purpose"] in (
            "방범",
            "어린이보호구역",
            "도시공원·놀이터",
            "쓰레기무단투기",
            "시설안전·화재예방",
            "교통단속",
            "교통정보수집",
            "기타",
        )
        assert c["source"] == f"videos/{c['id']}.mp4" and c["start_time"].endswith("+09:00")
        for z in c.get("zones", []):
            assert z["kind"] in (
                "mailbox",
                "ac_unit",
                "bench",
                "utility_box",
                "flower_pot",
                "gas_meter",
                "stairwell",
                "other",
            )
            assert len(z["polygon"]) >= 3
    # A register, as a city would hand it over: no links. The derived links are the oracle's, in their own file.
    assert "links" not in net
    truth_links = yaml.safe_load((tiny / "links-truth.yaml").read_text(encoding="utf-8"))["links"]
    assert truth_links
    for link in truth_links:
        assert link["src"] in ids and link["dst"] in ids and link["src"] != link["dst"]
        assert link["exit_edge"] in ("left", "right", "top", "bottom", "inside")
        assert link["std_s"] >= 1.0 and link["min_s"] <= link["mean_s"] <= link["max_s"]
        assert link["samples"] >= 3  # the walks behind it: a pair's true time is their weighted mean


def test_links_truth_imports_after_the_register(tiny, tmp_path):
    from relaytrack.relay.network import all_links, import_network
    from relaytrack.store import Store

    store = Store(tmp_path / "oracle.db")
    try:
        reg = import_network(store, tiny / "cameras.yaml")
        assert reg["cameras"] == 3 and reg["links_given"] == 0
        oracle = import_network(store, tiny / "links-truth.yaml")
        true = yaml.safe_load((tiny / "links-truth.yaml").read_text(encoding="utf-8"))["links"]
        assert oracle["links_given"] == len(true) and oracle["cameras"] == 0
        # The store keeps one link per (src, dst, exit edge, mode): entry-edge variants of a pair share a row.
        keys = {(x["src"], x["dst"], x["exit_edge"], x["mode"]) for x in true}
        assert sum(1 for r in all_links(store.conn) if r["source"] == "file") == len(keys)
    finally:
        store.close()


def test_decoys_wear_the_suspects_colours(tiny):
    t = load_truth(tiny)
    s = t["suspect"]["attributes"]
    assert len(t["decoys"]) == 2
    people_ids = {int(k) for k in t["people"]}
    for d in t["decoys"]:
        assert d["id"] != t["suspect"]["id"] and d["role"] == "decoy"
        assert (d["upper"], d["lower"], d["sex"]) == (s["upper"], s["lower"], s["sex"])
        assert d["description_ko"] and isinstance(d["route"], list)
        for v in d["route"]:
            assert {"camera", "start", "end", "first_frame", "last_frame"} <= set(v)
        if d["route"]:
            assert d["id"] in people_ids
    # Every other decoy carries the suspect's item, the rest something else (or nothing).
    assert t["decoys"][0]["items"] == s["items"]
    assert t["decoys"][1]["items"] != s["items"]


def test_truth_file(tiny):
    t = load_truth(tiny)
    assert t["seed"] == 5 and t["fps"] == 10.0
    s = t["suspect"]
    assert s["description_ko"] and s["description_en"] and s["attributes"]["upper"]
    starts = [v["start"] for v in s["route"]]
    assert starts == sorted(starts)
    for v in s["route"]:
        assert v["first_frame"] <= v["last_frame"] and v["entry_edge"] in (
            "left",
            "right",
            "top",
            "bottom",
            "inside",
        )
    colours = {
        "black",
        "white",
        "gray",
        "red",
        "orange",
        "yellow",
        "green",
        "blue",
        "purple",
        "pink",
        "brown",
    }
    gt_ids = {
        int(line.split(",")[1])
        for c in ("C01", "C02", "C03")
        for line in (tiny / "mot" / c / "gt" / "gt.txt").read_text().splitlines()
    }
    assert gt_ids <= {int(k) for k in t["people"]}
    for p in t["people"].values():
        assert p["upper"] in colours and p["lower"] in colours and p["kind"] == "person"


def test_reuses_a_complete_town(tiny):
    before = (tiny / "truth.json").stat().st_mtime_ns
    assert generate(seed=5, cameras=3, minutes=0.05, out_dir=tiny, decoys=2) == tiny
    assert (tiny / "truth.json").stat().st_mtime_ns == before


def test_trackeval_reads_gt_with_perfect_scores(tiny, tmp_path):
    trackeval = pytest.importorskip("trackeval")
    seqs = {"C01": 30, "C02": 30, "C03": 30}
    data = tmp_path / "trackers" / "perfect" / "data"
    data.mkdir(parents=True)
    for c in seqs:
        (data / f"{c}.txt").write_text((tiny / "mot" / c / "gt" / "gt.txt").read_text())
    cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    cfg.update(
        GT_FOLDER=str(tiny / "mot"),
        TRACKERS_FOLDER=str(tmp_path / "trackers"),
        SKIP_SPLIT_FOL=True,
        SEQ_INFO=seqs,
        TRACKERS_TO_EVAL=["perfect"],
        BENCHMARK="town",
        PRINT_CONFIG=False,
    )
    ev_cfg = trackeval.Evaluator.get_default_eval_config()
    ev_cfg.update(
        PRINT_RESULTS=False,
        PRINT_CONFIG=False,
        OUTPUT_SUMMARY=False,
        OUTPUT_DETAILED=False,
        PLOT_CURVES=False,
        USE_PARALLEL=False,
        TIME_PROGRESS=False,
    )
    res, _ = trackeval.Evaluator(ev_cfg).evaluate(
        [trackeval.datasets.MotChallenge2DBox(cfg)],
        [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()],
    )
    summary = res["MotChallenge2DBox"]["perfect"]["COMBINED_SEQ"]["pedestrian"]
    assert summary["Identity"]["IDF1"] == pytest.approx(1.0)
    assert summary["CLEAR"]["MOTA"] == pytest.approx(1.0)
    assert float(np.mean(summary["HOTA"]["HOTA"])) == pytest.approx(1.0)


def test_rendering_is_deterministic_for_a_seed():
    spec = TownSpec(seed=9, cameras=2, minutes=0.5)
    a, b, c = plan_town(spec), plan_town(spec), plan_town(TownSpec(seed=10, cameras=2, minutes=0.5))
    assert [p.look for p in a.people] == [p.look for p in b.people]
    assert [p.look for p in a.people] != [p.look for p in c.people]

    def frame(town):
        rng = np.random.default_rng(1)
        tex, ox, oy = ground_texture(town.world, rng)
        views = [build_view(town.world, cs.cam, tex, (ox, oy), LIGHT["dusk"], rng) for cs in town.cameras]
        return render_frame(town, views, 12.0, LIGHT["dusk"])

    fa, fb = frame(a), frame(b)
    for (ia, ra), (ib, rb) in zip(fa, fb, strict=True):
        assert np.array_equal(ia, ib) and ra == rb


def test_default_town_suspect_crosses_four_cameras_and_courier_drops_in_view():
    town = plan_town(TownSpec())
    T = town.spec.duration
    suspect = next(p for p in town.people if p.id == town.suspect)
    ts = np.arange(0, T, 0.2)
    xs = np.interp(ts, suspect.times, suspect.xy[:, 0])
    ys = np.interp(ts, suspect.times, suspect.xy[:, 1])
    seen = [c.id for c in town.cameras if _visible_boxes(c, xs, ys, suspect.look.height, None)[0].sum() >= 10]
    assert len(seen) >= 4
    courier = next(p for p in town.people if p.id == town.couriers[0])
    inside = [s for s in courier.stops if 0 <= s["start"] and s["end"] <= T]
    assert len(inside) >= 2
    for s in inside:
        assert 5 <= s["end"] - s["start"] <= 40
        poses = [a[2] for a in courier.actions if s["start"] <= a[0] < s["end"]]
        assert ("crouch" in poses or "bend" in poses) and "phone" in poses
    cam = next(c for c in town.cameras if c.role == "courier")
    assert inside[0]["spot"] in {z["id"] for z in zones_for(town, cam, None)}


def test_edge_rule():
    assert edge_of((0, 100, 40, 200), 640, 360) == "left"
    assert edge_of((300, 100, 340, 359), 640, 360) == "bottom"
    assert edge_of((300, 100, 340, 200), 640, 360) == "inside"
    assert math.isclose(0.04 * 640, 25.6)
    assert json.dumps(edge_of((620, 0, 640, 40), 640, 360)) in ('"right"', '"top"')


def _seen(town, person, T: float) -> tuple[set[str], float]:
    """Cameras that see a person for at least 2 s (planning only, no occlusion) and the share of the person's
    time inside the footage spent seen by any camera."""
    ts = np.arange(max(0.0, person.times[0]), min(T, person.times[-1]), 0.2)
    xs = np.interp(ts, person.times, person.xy[:, 0])
    ys = np.interp(ts, person.times, person.xy[:, 1])
    any_cam = np.zeros(len(ts), bool)
    cams = set()
    for c in town.cameras:
        ok = _visible_boxes(c, xs, ys, person.look.height, None)[0]
        if ok.sum() >= 10:
            cams.add(c.id)
        any_cam |= ok
    return cams, float(any_cam.mean()) if len(ts) else 0.0


def test_a_large_town_has_blind_stretches_cameras_off_the_route_and_lookalikes_on_it():
    spec = TownSpec(seed=13, cameras=20, minutes=4.0, decoys=4, crowd=2.0)
    town = plan_town(spec)
    assert len(town.cameras) == 20
    by_id = {p.id: p for p in town.people}
    suspect = by_id[town.suspect]
    cams, seen_share = _seen(town, suspect, spec.duration)
    assert 4 <= len(cams) <= 12  # many cameras the suspect never passes
    assert seen_share < 0.85  # and stretches between cameras where nobody sees the suspect
    assert len(town.decoys) == 4
    crossing = 0
    for d in (by_id[i] for i in town.decoys):
        assert (d.upper, d.lower, d.look.female) == (suspect.upper, suspect.lower, suspect.look.female)
        crossing += bool(_seen(town, d, spec.duration)[0] & cams)
    assert crossing >= 3  # look-alikes pass the suspect's cameras
    assert sum(by_id[i].look.items == suspect.look.items for i in town.decoys) == 2
    # Decoys come from their own generator: the rest of the town is the one without decoys.
    plain = plan_town(TownSpec(seed=13, cameras=20, minutes=4.0, crowd=2.0))
    assert [(c.cam.x, c.cam.y) for c in plain.cameras] == [(c.cam.x, c.cam.y) for c in town.cameras]
    assert np.array_equal(plain.people[0].xy, suspect.xy)


def test_cli_contract_generate_with_decoys_and_crowd(tmp_path):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    out = tmp_path / "cli-town"
    args = ["town", "generate", "--seed", "8", "--cameras", "2", "--minutes", "0.05", "--decoys", "1"]
    res = CliRunner().invoke(
        app, [*args, "--crowd", "0.5", "--lighting", "dusk", "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    for name in ("cameras.yaml", "links-truth.yaml", "truth.json", "mot/C01/gt/gt.txt", "videos/C02.mp4"):
        assert (out / name).exists(), name
    t = load_truth(out)
    assert t["spec"]["decoys"] == 1 and t["spec"]["crowd"] == 0.5 and t["lighting"] == "dusk"
    assert t["suspect"]["id"] == 1 and t["suspect"]["description_ko"] and t["decoys"][0]["role"] == "decoy"
    assert "links" not in yaml.safe_load((out / "cameras.yaml").read_text(encoding="utf-8"))
