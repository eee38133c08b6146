"""Re-identification: the part-feature graph, the projection learned without labels, train/apply on a store."""

from __future__ import annotations

import numpy as np
import pytest

from relaytrack.errors import InputError, ModelError, StoreError
from relaytrack.reid.crops import TrackletCrops, co_occurring
from relaytrack.reid.learn import augment, fit
from relaytrack.reid.metrics import cross_camera


def person(upper, lower, h=96, w=40, stripe=None, rng=None):
    """A crude person crop: a grey street, a shirt and trousers of given BGR colours, optional stripes."""
    rng = rng or np.random.default_rng(0)
    img = np.full((h, w, 3), 110, np.uint8) + rng.integers(0, 12, (h, w, 3)).astype(np.uint8)
    img[int(0.05 * h) : int(0.18 * h), int(0.35 * w) : int(0.65 * w)] = (60, 80, 120)  # head
    img[int(0.18 * h) : int(0.52 * h), int(0.2 * w) : int(0.8 * w)] = upper
    img[int(0.52 * h) : int(0.95 * h), int(0.28 * w) : int(0.72 * w)] = lower
    if stripe:
        img[int(0.18 * h) : int(0.52 * h) : 6, int(0.2 * w) : int(0.8 * w)] = stripe
    return img


def graph_features(spec, bgr):
    """The feature graph of `spec` run on BGR crops already at the spec's size (the embedder's input)."""
    import onnxruntime as ort

    from relaytrack.reid import model as reid_model
    from relaytrack.reid.graph import MEAN, STD

    data = reid_model.model_bytes(reid_model.build(spec=spec))
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = ((np.asarray(bgr)[..., ::-1].astype(np.float32) / 255.0 - MEAN) / STD).transpose(0, 3, 1, 2)
    return sess.run(None, {"input": np.ascontiguousarray(x, np.float32)})[0]


def tracklet(key, cam, frames, crops, ident=None):
    return TrackletCrops(key, cam, frames, (frames[0] / 10, frames[1] / 10), tuple(crops), ident)


def test_parts_model_is_brightness_robust_and_mirror_invariant():
    from relaytrack.describe.embed import Embedder

    e = Embedder(model="parts")
    a = person((40, 40, 200), (30, 30, 30))
    darker = (a.astype(np.float32) * 0.55).astype(np.uint8)
    other = person((200, 60, 40), (30, 30, 30))
    va, vd, vm, vo = e.embed([a, darker, a[:, ::-1].copy(), other])
    assert e.dim == va.shape[0] and np.isfinite(va).all()
    assert va @ vm > 0.999  # stripes are horizontal: left/right does not matter
    assert va @ vd > va @ vo  # a darker camera sees the same red shirt closer than a blue one


def test_local_maxima_keep_a_patch_wherever_it_is_across_the_row():
    from relaytrack.reid.graph import FeatureSpec

    spec = FeatureSpec(block_norm=False)  # values comparable across crops (each crop's blocks unscaled)
    rows, windows = spec.local_max
    # A red bag (one window wide, one row high) beside the torso on the left, then on the right.
    a = np.full((spec.height, spec.width, 3), 110, np.uint8)
    b = a.copy()
    ys, xw = slice(8 * (spec.height // rows), 9 * (spec.height // rows)), spec.width // windows
    a[ys, 1 * xw : 2 * xw] = (40, 40, 200)
    b[ys, 5 * xw : 6 * xw] = (40, 40, 200)
    fa, fb = graph_features(spec, [a, b])
    local = spec.channels * rows  # the local maxima close the feature vector, channel by channel
    colour = slice(fa.shape[0] - local, fa.shape[0] - local + spec.colour_channels * rows)
    assert fa.shape[0] == spec.dim()
    assert np.allclose(fa[colour], fb[colour], atol=1e-3)
    # A maximum, not a mean over the row: the bag's window reads as red as a row that is red all across.
    full = np.full_like(a, 110)
    full[ys] = (40, 40, 200)
    row8 = np.arange(spec.chroma_bins**2) * rows + 8  # chromaticity (intensity is relative to the crop)
    red = graph_features(spec, [full])[0][colour][row8]
    bins = red > 0.2
    assert bins.any() and np.allclose(fa[colour][row8][bins], red[bins], atol=0.02)
    # The stripe means weigh the centre more, so they tell the two apart; the maxima's colours do not.
    assert np.abs(fa[:-local] - fb[:-local]).max() > 1e-2
    assert FeatureSpec(local_max=(0, 0)).dim() == spec.dim() - local


def test_balanced_chromaticity_cancels_the_colour_of_the_light():
    from relaytrack.describe.embed import Embedder
    from relaytrack.reid.graph import FeatureSpec

    spec = FeatureSpec()
    e = Embedder(model="parts")
    a = person((40, 40, 200), (30, 30, 30))
    # The same person under a warm street lamp: every channel of the crop, street included, scaled apart.
    lamp = np.clip(a * np.array([0.72, 0.92, 1.15]), 0, 255).astype(np.uint8)
    fa, fl = e.features([a, lamp])
    k2 = spec.chroma_bins**2
    body = (spec.channels + int(spec.foreground)) * (sum(spec.stripes) - 1)  # the whole-body stripe's block
    plain, balanced = slice(body, body + k2), slice(body + k2, body + 2 * k2)
    assert fa[balanced].sum() > 1.0  # the person's colours are there
    assert np.abs(fa[balanced] - fl[balanced]).sum() < 0.25 * np.abs(fa[plain] - fl[plain]).sum()
    pooled = sum(spec.stripes) + spec.local_max[0]  # stripes and rows of local maxima
    assert FeatureSpec(balanced_chroma=False).dim() == spec.dim() - k2 * pooled


def test_pooled_features_are_compressed_so_a_small_patch_still_counts():
    from relaytrack.reid.graph import FeatureSpec

    spec = FeatureSpec()
    assert spec.power < 0.5
    h, w = spec.height, spec.width
    bgr = np.stack([person((40, 40, 200), (30, 30, 30), h=h, w=w),
                    person((40, 200, 40), (30, 200, 200), h=h, w=w, stripe=(250, 250, 250))])
    old = graph_features(FeatureSpec(power=0.5, block_norm=False), bgr)
    new = graph_features(FeatureSpec(block_norm=False), bgr)
    assert np.allclose(new, old ** (spec.power / 0.5), atol=1e-5)
    # A bin a tenth of the pixels fill against one all of them fill: 0.1 ** 0.5 = 0.32 of its weight before,
    # 0.1 ** 0.15 = 0.71 now, so the few white stripe pixels weigh more beside the green shirt.
    assert (new[1] > 0.3).sum() > (old[1] > 0.3).sum()
    # Each pooled block (the 8, 4 and 1 stripes, the rows of local maxima) at unit length, whatever its size.
    normed = graph_features(spec, np.concatenate([bgr, (bgr * 0.5).astype(np.uint8)]))
    sizes = [(spec.channels + 1) * s for s in spec.stripes] + [spec.channels * spec.local_max[0]]
    edges = np.cumsum([0, *sizes])
    assert edges[-1] == spec.dim() == normed.shape[1]
    norms = [np.linalg.norm(normed[:, a:b], axis=1) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    assert np.allclose(norms, 1.0, atol=1e-4)
    first = new[:, : edges[1]] / np.linalg.norm(new[:, : edges[1]], axis=1, keepdims=True)
    assert np.allclose(normed[:2, : edges[1]], first, atol=1e-4)  # the same block, only scaled


def test_tracklet_rejects_empty_or_bad_crops():
    with pytest.raises(InputError, match="no crops"):
        tracklet("t", "C1", (1, 2), [])
    with pytest.raises(InputError, match="shape"):
        tracklet("t", "C1", (1, 2), [np.zeros((4, 4), np.uint8)])


def test_co_occurring_pairs_are_same_camera_overlapping_in_time():
    img = person((0, 0, 200), (0, 0, 0))
    trs = [
        tracklet("a", "C1", (1, 10), [img]),
        tracklet("b", "C1", (5, 20), [img]),
        tracklet("c", "C1", (30, 40), [img]),
        tracklet("d", "C2", (1, 10), [img]),
    ]
    assert co_occurring(trs) == [(0, 1)]


def test_cross_camera_metrics_leave_the_same_camera_out():
    emb = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.9, 0.1], [1, 0]], np.float32)
    r = cross_camera(emb, ["p", "q", "p", "q", "p"], ["A", "A", "B", "B", "A"])
    # Query 0's identical twin (row 4) is on its own camera and does not count; across cameras its nearest is
    # q@B: a miss. Only p@B finds p first (tie broken by order). 1 of 5.
    assert r.queries == 5 and r.rank1 == pytest.approx(0.2)
    assert 0 < r.mAP < 1 and r.rank5 == 1.0


def _synthetic_features(n_people=30, views=6, seed=0):
    """Identity in some directions, a large per-camera nuisance in others, which the views of one tracklet
    also show (what the camera-like augmentations of `reid train` give the within-person spread)."""
    rng = np.random.default_rng(seed)
    d = 40
    ident = rng.normal(size=(n_people, d)) * np.r_[np.ones(10), np.zeros(30)]
    feats, cams, ids = [], [], []
    for p in range(n_people):
        for cam in ("A", "B"):
            shift = rng.normal(size=d) * np.r_[np.zeros(10), 3 * np.ones(30)]
            feats.append(
                ident[p] + shift + rng.normal(size=(views, d)) * np.r_[0.3 * np.ones(10), 3 * np.ones(30)]
            )
            cams.append(cam)
            ids.append(str(p))
    return feats, cams, ids


def test_fit_learns_to_ignore_nuisance_directions():
    feats, cams, ids = _synthetic_features()
    raw = np.stack([f.mean(0) for f in feats])
    proj = fit(feats, cams, [], dim=12)
    learned = proj.apply(np.stack([f.mean(0) for f in feats]))
    r_raw = cross_camera(raw, ids, cams).rank1
    r_learned = cross_camera(learned, ids, cams).rank1
    assert r_learned >= 0.75 and r_learned > r_raw + 0.5  # raw 0.05: the nuisance dominates


def test_fit_refuses_too_few_tracklets():
    feats, cams, _ = _synthetic_features(n_people=3)
    with pytest.raises(InputError, match="at least 8"):
        fit(feats, cams, [])


def test_augment_keeps_a_usable_crop():
    rng = np.random.default_rng(1)
    img = person((0, 0, 200), (0, 0, 0))
    for _ in range(20):
        out = augment(img, rng)
        assert out.dtype == np.uint8 and out.shape[0] >= 8 and out.shape[1] >= 4


def _fill_store(store, n_people=12, seed=0):
    """Sightings with crops on two cameras; people in one camera's frame at once co-occur."""
    import cv2

    from relaytrack.records import Sighting
    from relaytrack.store import sightings as st

    rng = np.random.default_rng(seed)
    palette = rng.integers(20, 235, (n_people, 2, 3))
    with store.tx() as conn:
        for cam_i, cam in enumerate(("C1", "C2")):
            st.ensure_camera(conn, cam)
            for p in range(n_people):
                crops = []
                for k in range(3):
                    img = person(
                        tuple(int(v) for v in palette[p, 0]),
                        tuple(int(v) for v in palette[p, 1]),
                        rng=np.random.default_rng(100 * p + 10 * cam_i + k),
                    )
                    if cam_i:
                        img = (img.astype(np.float32) * 0.7).astype(np.uint8)
                    crops.append((1.0 - 0.1 * k, k, cv2.imencode(".jpg", img)[1].tobytes()))
                t0 = 100.0 * cam_i + 5 * (p // 3)
                s = Sighting(
                    id=0,
                    camera=cam,
                    source_id=None,
                    track_id=p,
                    kind="person",
                    class_name="person",
                    start=t0,
                    end=t0 + 4,
                    first_frame=int(t0 * 10),
                    last_frame=int(t0 * 10) + 40,
                    wall_start=t0,
                    wall_end=t0 + 4,
                    box=(0, 0, 40, 96),
                )
                st.insert_sighting(conn, s, crops=crops, thumbnail_jpeg=crops[0][2])
    return palette


def test_train_then_apply_reembeds_resumably_and_never_mixes(store_db, monkeypatch):
    from relaytrack.reid import train
    from relaytrack.store import Store, vectors

    store = Store(store_db)
    _fill_store(store)
    rep = train.train(store)
    assert rep.tracklets == 24 and rep.co_occurring_pairs > 0
    model = train.default_model_path(store)
    assert model.is_file()
    # A kill after the first chunk: the second apply goes on where the first stopped.
    monkeypatch.setattr(train, "APPLY_CHUNK", 5)
    calls = {"n": 0}
    real_add = vectors.add_many

    def dying_add(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_add(*a, **k)

    monkeypatch.setattr(vectors, "add_many", dying_add)
    with pytest.raises(KeyboardInterrupt):
        train.apply(store)
    monkeypatch.setattr(vectors, "add_many", real_add)
    res = train.apply(store)
    assert res["embedded"] == 19 and res["skipped"] == 0  # 5 done before the kill, 19 after
    with store.tx() as conn:
        assert vectors.count(conn) == 24
        assert vectors.dim(conn) == res["dim"]
        n_null = conn.execute("SELECT count(*) FROM sightings WHERE embedding IS NULL").fetchone()[0]
        assert n_null == 0
        ident, path = vectors.embedder(conn)
        assert path == str(model.resolve())
        with pytest.raises(StoreError, match="re-embed"):
            vectors.bind_embedder(conn, "someone-else")
    assert train.apply(store)["already"] is True
    store.close()


def test_train_on_too_few_tracklets_keeps_the_embedder(store_db):
    from relaytrack.reid import train
    from relaytrack.store import Store

    store = Store(store_db)
    _fill_store(store, n_people=2)
    with pytest.raises(InputError, match="current embedder stays"):
        train.train(store)
    assert not train.default_model_path(store).exists()
    store.close()


def test_corrupt_model_is_refused_by_name(tmp_path):
    from relaytrack.reid import train
    from relaytrack.store import Store

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model at all")
    store = Store(tmp_path / "s.db")
    with pytest.raises(ModelError, match="bad.onnx"):
        train.apply(store, bad)
    store.close()


def test_cross_camera_association_joins_the_same_person_and_helps():
    from relaytrack.reid.learn import cross_camera_pairs, fit_associated

    feats, cams, ids = _synthetic_features(seed=3)
    proj = fit(feats, cams, [], dim=12)
    pairs = cross_camera_pairs(proj, feats, cams, min_sim=0.5)
    assert pairs and all(cams[a] != cams[b] for a, b in pairs)
    assert sum(ids[a] == ids[b] for a, b in pairs) / len(pairs) >= 0.8  # mostly one person twice
    joined = fit_associated(feats, cams, [], dim=12)
    means = np.stack([f.mean(0) for f in feats])
    assert joined.info["associated_pairs"] == len(pairs)
    assert (
        cross_camera(joined.apply(means), ids, cams).rank1 >= cross_camera(proj.apply(means), ids, cams).rank1
    )
    # Two tracklets known to be different people are never joined.
    a, b = pairs[0]
    kept = fit_associated(feats, cams, [(a, b)], dim=12)
    assert kept.info["associated_pairs"] == len(pairs) - 1


def test_store_learns_its_model_when_due_and_again_only_after_growing(store_db):
    """`reid.auto`: nothing below the floor; at the floor train + apply; not again until the store has grown
    `auto_growth`-fold; never when the configuration names the embedder."""
    from relaytrack.config import load_config
    from relaytrack.reid import auto, train
    from relaytrack.store import Store, vectors

    store = Store(store_db)
    _fill_store(store, n_people=6)  # 12 tracklets on 2 cameras
    cfg = load_config(None, {"reid": {"auto_min_tracklets": 16, "auto_growth": 1.5}})
    ready = auto.readiness(store, cfg)
    assert (ready.due, ready.tracklets, ready.cameras) == (False, 12, 2) and "starts at 16" in ready.reason
    assert auto.maybe_learn(store, cfg) is None
    assert not train.default_model_path(store).exists()
    _fill_store(store, n_people=6, seed=1)  # 24
    named = load_config(None, {"reid": {"auto_min_tracklets": 16}, "describe": {"embedder": "parts"}})
    assert not auto.readiness(store, named).due
    res = auto.maybe_learn(store, cfg)
    assert res is not None and res["learned"] and res["tracklets"] == 24 and res["embedded"] == 24
    with store.tx() as conn:
        assert vectors.embedder(conn)[1] == str(train.default_model_path(store).resolve())
        assert vectors.count(conn) == 24
    after = auto.readiness(store, cfg)
    assert not after.due and after.learned_from == 24 and "again at 36" in after.reason
    _fill_store(store, n_people=6, seed=2)  # 36 = 1.5 x 24
    assert auto.readiness(store, cfg).due
    store.close()


def test_train_samples_a_large_store(store_db):
    from relaytrack.reid import train
    from relaytrack.store import Store

    store = Store(store_db)
    _fill_store(store, n_people=12)
    with store.tx() as conn:
        every = train.store_tracklets(conn)
        some = train.store_tracklets(conn, limit=10)
    assert len(every) == 24 and len(some) == 10
    keys = [t.key for t in some]
    assert keys == sorted(keys, key=int) and set(keys) < {t.key for t in every}
    store.close()


def test_usable_tracklets_are_counted_incrementally(store_db):
    """After every ingest only the crops stored since the last count are read (meta reid_usable): a count
    that read every crop of a city store after every ingest would not scale."""
    import json

    from relaytrack.reid import train
    from relaytrack.store import Store

    store = Store(store_db)
    _fill_store(store, n_people=4)  # 8 tracklets with 3 crops on 2 cameras
    with store.tx() as conn:
        assert train.usable_tracklets(conn) == (8, 2)
        upto = json.loads(conn.execute("SELECT value FROM meta WHERE key='reid_usable'").fetchone()[0])[
            "upto"
        ]
        assert upto == conn.execute("SELECT max(id) FROM sightings").fetchone()[0]
        # What was counted is not read again (a purge of old crops leaves the trigger's figure alone).
        conn.execute("DELETE FROM crops WHERE sighting_id <= ?", (upto,))
        assert train.usable_tracklets(conn) == (8, 2)
    _fill_store(store, n_people=2, seed=3)
    with store.tx() as conn:
        assert train.usable_tracklets(conn) == (12, 2)
    store.close()
