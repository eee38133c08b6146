"""The store learns its own appearance model as footage comes in, the way a deployment would.

An operator should not have to know that `reid train` exists for search by example to work: after an ingest,
once the store holds `reid.auto_min_tracklets` person tracklets (two or more stored crops each) on at least
`reid.auto_min_cameras` cameras, the model is learned from them and the store re-embedded (`reid.train`,
`reid.apply`: resumable, the index never mixes two models); it is learned again each time the store has
grown `reid.auto_growth`-fold since, so the number of re-learnings grows with the log of the store's size.
A store whose embedder was chosen by the configuration (`describe.embedder`) is left alone. What was decided
is kept in meta (`reid_learned`, written by `reid apply`, whoever ran it), so every ingest process agrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from relaytrack.config import Config
from relaytrack.errors import InputError
from relaytrack.reid import train as reid_train
from relaytrack.store import Store


@dataclass(frozen=True)
class Readiness:
    """Whether the store is due for (re-)learning its model, and why (or why not)."""

    due: bool
    tracklets: int
    cameras: int
    learned_from: int  # tracklets the current automatic model learned from (0: none yet)
    reason: str


def _learned_from(conn) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key='reid_learned'").fetchone()
    return int(json.loads(row[0]).get("tracklets", 0)) if row else 0


def readiness(store: Store, cfg: Config) -> Readiness:
    r = cfg.reid
    with store.tx() as conn:
        n, cams = reid_train.usable_tracklets(conn)
        learned_from = _learned_from(conn)
    if not r.auto_learn:
        return Readiness(False, n, cams, learned_from, "reid.auto_learn is off")
    if cfg.describe.embedder is not None:
        return Readiness(False, n, cams, learned_from, "describe.embedder names the embedder")
    if n < r.auto_min_tracklets or cams < r.auto_min_cameras:
        return Readiness(False, n, cams, learned_from,
                         f"{n} tracklets on {cams} cameras; learning starts at {r.auto_min_tracklets} "
                         f"on {r.auto_min_cameras}")
    if learned_from and n < r.auto_growth * learned_from:
        return Readiness(False, n, cams, learned_from,
                         f"learned from {learned_from} tracklets; again at {int(r.auto_growth * learned_from)}")
    return Readiness(True, n, cams, learned_from, f"{n} tracklets on {cams} cameras")


def maybe_learn(store: Store, cfg: Config, progress: reid_train.Progress | None = None) -> dict | None:
    """Learn and apply the store's model when it is due; None when it is not. Too little to learn from
    (tracklets with one crop only, one camera's co-occurrences) is not an error here: the embedder stays."""
    ready = readiness(store, cfg)
    if not ready.due:
        return None
    try:
        rep = reid_train.train(store, progress=progress)
    except InputError as err:
        # Remembered like a model, so that the next ingests do not try again until the store has grown.
        with store.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('reid_learned', ?)",
                         (json.dumps({"tracklets": ready.tracklets, "model": None, "error": str(err)}),))
        return {"learned": False, "reason": str(err), "tracklets": ready.tracklets, "cameras": ready.cameras}
    applied = reid_train.apply(store, progress=progress)
    return {"learned": True, "tracklets": ready.tracklets, "cameras": ready.cameras, "model": rep.model,
            "dim": rep.dim, "train_s": round(rep.seconds, 1), "embedded": applied.get("embedded", 0)}
