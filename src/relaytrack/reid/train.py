"""`reid train` and `reid apply`: learn the store's own appearance metric, then re-embed the store with it.

Training reads only the store: every person sighting's stored best crops (tracklet = one person), the
cameras and frames (co-occurring tracklets = different people). Nothing leaves the store but the model file.
Applying is resumable: sightings are re-embedded in id order in small transactions and the position is kept
in meta, so a killed `apply` goes on where it stopped; the index is emptied first when the model changes, so
vectors of two models never share it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.config import DescribeConfig
from relaytrack.describe.embed import Embedder
from relaytrack.errors import InputError
from relaytrack.reid import model as reid_model
from relaytrack.reid.crops import TrackletCrops, co_occurring
from relaytrack.reid.learn import augment, fit_associated
from relaytrack.store import Store, vectors
from relaytrack.store.sightings import crops_of

MIN_TRACKLETS = 8
# A sample this size learns the metric; more only costs memory: its features (10 crops x 3 views x 1,550
# float32 each since session 23) hold about 0.56 GB.
MAX_TRACKLETS = 3000
APPLY_CHUNK = 200
Progress = Callable[[int, int, str], None]


def _decode(jpeg: bytes) -> np.ndarray | None:
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return img if img is not None and img.shape[0] >= 8 and img.shape[1] >= 4 else None


def store_tracklets(
    conn, *, kind: str = "person", limit: int | None = None, seed: int = 0
) -> list[TrackletCrops]:
    """Person sightings with their stored crops (the thumbnail alone where a store predates crops). With
    `limit`, an even sample of at most that many (a city store holds millions; a metric needs thousands)."""
    rows = conn.execute(
        "SELECT id, camera_id, wall_start, wall_end FROM sightings WHERE kind=? ORDER BY id", (kind,)
    ).fetchall()
    if limit is not None and len(rows) > limit:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), limit, replace=False))
        rows = [rows[i] for i in pick]
    out = []
    for sid, cam, w0, w1 in rows:
        images = tuple(im for im in (_decode(j) for j in crops_of(conn, sid)) if im is not None)
        if images:
            # Frames on the wall clock: co-occurrence is judged across sources of one camera too.
            out.append(TrackletCrops(str(sid), cam, (int(w0 * 1000), int(w1 * 1000)), (w0, w1), images))
    return out


@dataclass
class TrainReport:
    model: str
    dim: int
    tracklets: int
    crops: int
    negative_pairs: int
    co_occurring_pairs: int
    seconds: float
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "dim": self.dim,
            "tracklets": self.tracklets,
            "crops": self.crops,
            "negative_pairs": self.negative_pairs,
            "co_occurring_pairs": self.co_occurring_pairs,
            "seconds": round(self.seconds, 1),
            **self.info,
        }


def default_model_path(store: Store) -> Path:
    return Path(store.path).with_suffix(".reid.onnx")


def train_tracklets(
    tracklets: list[TrackletCrops],
    *,
    views: int = 2,
    dim: int = 96,
    seed: int = 0,
    progress: Progress | None = None,
    threads: int = 2,
):
    """Fit a projection on tracklets (identities never read); returns (onnx model, info)."""
    usable = [t for t in tracklets if len(t.crops) >= 2]
    if len(usable) < MIN_TRACKLETS:
        raise InputError(
            f"only {len(usable)} person tracklets with two or more crops; at least {MIN_TRACKLETS} are needed "
            "to learn an appearance model (the current embedder stays in place)"
        )
    parts = Embedder(DescribeConfig(threads=threads), model="parts")
    rng = np.random.default_rng(seed)
    feats = []
    for i, t in enumerate(usable):
        views_of = list(t.crops) + [augment(c, rng) for c in t.crops for _ in range(views)]
        feats.append(parts.features(views_of))
        if progress:
            progress(i + 1, len(usable), "features")
    proj = fit_associated(feats, [t.camera for t in usable], co_occurring(usable), dim=dim, seed=seed)
    return reid_model.build(projection=proj, info={"trained_on": "store tracklets"}), proj.info


def train(
    store: Store,
    out: Path | None = None,
    *,
    progress: Progress | None = None,
    seed: int = 0,
    max_tracklets: int = MAX_TRACKLETS,
) -> TrainReport:
    t0 = time.perf_counter()
    with store.tx() as conn:
        tracklets = store_tracklets(conn, limit=max_tracklets, seed=seed)
    model, info = train_tracklets(tracklets, progress=progress, seed=seed)
    path = reid_model.write(model, out or default_model_path(store)).resolve()
    return TrainReport(
        str(path),
        int(info["dim"]),
        int(info["tracklets"]),
        int(info["crops"]),
        int(info["negative_pairs"]),
        int(info["co_occurring_pairs"]),
        time.perf_counter() - t0,
        {"separation_top": info["separation_top"], "associated_pairs": int(info.get("associated_pairs", 0))},
    )


MAX_COUNTED_CAMERAS = 1000  # `reid.auto_min_cameras` is bounded by it


def usable_tracklets(conn) -> tuple[int, int]:
    """(person tracklets with two or more stored crops, cameras they come from, counted up to
    MAX_COUNTED_CAMERAS): what a model learns from.

    Counted incrementally (meta `reid_usable`): only the crops of sightings stored since the last count are
    read, so the check after every ingest does not read every crop of a city store. Sightings deleted since
    (retention) stay counted: the figure only decides when to learn again."""
    row = conn.execute("SELECT value FROM meta WHERE key='reid_usable'").fetchone()
    state = json.loads(row[0]) if row else {"upto": 0, "tracklets": 0, "cameras": []}
    top = int(conn.execute("SELECT max(id) FROM sightings").fetchone()[0] or 0)
    if top > state["upto"]:
        # k=1 exists exactly when a sighting has two or more crops (k counts from 0).
        where = "FROM crops c JOIN sightings s ON s.id=c.sighting_id WHERE c.sighting_id > ? AND c.k=1 AND s.kind='person'"
        n = conn.execute(f"SELECT count(*) {where}", (state["upto"],)).fetchone()[0]
        cams = set(state["cameras"])
        if len(cams) < MAX_COUNTED_CAMERAS:
            rows = conn.execute(
                f"SELECT DISTINCT s.camera_id {where} LIMIT {MAX_COUNTED_CAMERAS}", (state["upto"],)
            ).fetchall()
            cams |= {r[0] for r in rows}
        state = {
            "upto": top,
            "tracklets": state["tracklets"] + int(n or 0),
            "cameras": sorted(cams)[:MAX_COUNTED_CAMERAS],
        }
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('reid_usable', ?)", (json.dumps(state),)
        )
    return int(state["tracklets"]), len(state["cameras"])


def record_learned(conn, tracklets: int, model: str | None, error: str | None = None) -> None:
    """What the store had when its model was last learned (or learning failed): `reid.auto` learns again only
    once the store has grown from there."""
    doc = {"tracklets": tracklets, "model": model} | ({"error": error} if error else {})
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('reid_learned', ?)", (json.dumps(doc),))


def learned_from(conn) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='reid_learned'").fetchone()
    return int(json.loads(row[0]).get("tracklets", 0)) if row else 0


def _apply_state(conn) -> dict:
    row = conn.execute("SELECT value FROM meta WHERE key='reid_apply'").fetchone()
    return json.loads(row[0]) if row else {}


def apply(store: Store, model: Path | None = None, *, progress: Progress | None = None) -> dict:
    """Re-embed every sighting that has crops with `model` (default: the store's trained model)."""
    path = Path(model) if model else default_model_path(store)
    reid_model.read_meta(path)  # refuses a missing or corrupt file by name before anything changes
    emb = Embedder(DescribeConfig(), model=str(path.resolve()))
    with store.tx() as conn:
        state = _apply_state(conn)
        have_id, _ = vectors.embedder(conn)
        resuming = state.get("model") == emb.identity
        if not resuming and have_id == emb.identity and not state:
            return {"model": str(path), "embedded": 0, "skipped": 0, "already": True}
        if not resuming:
            # A new model: its vectors must not meet the old ones, whatever their width.
            vectors.reset(conn)
            conn.execute("UPDATE sightings SET embedding=NULL")
            state = {"model": emb.identity, "after": 0}
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('reid_apply', ?)", (json.dumps(state),)
            )
            vectors.bind_embedder(conn, emb.identity, str(path.resolve()))
        total = conn.execute("SELECT count(*) FROM sightings").fetchone()[0]
        done = conn.execute("SELECT count(*) FROM sightings WHERE id<=?", (state["after"],)).fetchone()[0]
    embedded = skipped = 0
    while True:
        with store.tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM sightings WHERE id>? ORDER BY id LIMIT ?", (state["after"], APPLY_CHUNK)
                )
            ]
            if not ids:
                conn.execute("DELETE FROM meta WHERE key='reid_apply'")
                record_learned(conn, usable_tracklets(conn)[0], str(path))
                break
            new_ids, new_vecs = [], []
            for sid in ids:
                images = [im for im in (_decode(j) for j in crops_of(conn, sid)) if im is not None]
                if not images:
                    skipped += 1
                    continue
                new_ids.append(sid)
                new_vecs.append(emb.embed_tracklet(images))
            if new_ids:
                arr = np.stack(new_vecs)
                conn.executemany(
                    "UPDATE sightings SET embedding=? WHERE id=?",
                    [(v.tobytes(), i) for v, i in zip(arr, new_ids, strict=True)],
                )
                vectors.add_many(conn, new_ids, arr)
            embedded += len(new_ids)
            state["after"] = ids[-1]
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('reid_apply', ?)", (json.dumps(state),)
            )
        done += len(ids)
        if progress:
            progress(done, total, "re-embed")
    return {"model": str(path), "embedded": embedded, "skipped": skipped, "dim": emb.dim, "already": False}
