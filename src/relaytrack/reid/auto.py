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

from dataclasses import dataclass

from relaytrack.config import Config
from relaytrack.errors import InputError
from relaytrack.reid import train as reid_train
from relaytrack.store import Store


@dataclass(frozen=True)
class Readiness:
    """Whether the store is due for (re-)learning its model, and why (or why not)."""

    due: bool
    tracklets: int  # 0 with cameras when the configuration turns learning off (nothing is counted then)
    cameras: int
    learned_from: int  # tracklets the current automatic model learned from (0: none yet)
    reason: str


def readiness(store: Store, cfg: Config) -> Readiness:
    r = cfg.reid
    # The configuration first: the count below reads every crop row of the store, after every ingest.
    if not r.auto_learn:
        return Readiness(False, 0, 0, 0, "reid.auto_learn is off")
    if cfg.describe.embedder is not None:
        return Readiness(False, 0, 0, 0, "describe.embedder names the embedder")
    with store.tx() as conn:
        n, cams = reid_train.usable_tracklets(conn)
        learned_from = reid_train.learned_from(conn)
    if n < r.auto_min_tracklets or cams < r.auto_min_cameras:
        return Readiness(False, n, cams, learned_from,
                         f"{n} tracklets on {cams} cameras; learning starts at {r.auto_min_tracklets} "
                         f"on {r.auto_min_cameras}")
    if learned_from and n < r.auto_growth * learned_from:
        return Readiness(False, n, cams, learned_from,
                         f"learned from {learned_from} tracklets; again at {int(r.auto_growth * learned_from)}")
    return Readiness(True, n, cams, learned_from, f"{n} tracklets on {cams} cameras")


def maybe_learn(
    store: Store, cfg: Config, progress: reid_train.Progress | None = None, ready: Readiness | None = None
) -> dict | None:
    """Learn and apply the store's model when it is due (`ready`: a `readiness` the caller already has);
    None when it is not. Too little to learn from (tracklets with one crop only, one camera's co-occurrences)
    is not an error here: the embedder stays."""
    ready = ready or readiness(store, cfg)
    if not ready.due:
        return None
    try:
        rep = reid_train.train(store, progress=progress)
    except InputError as err:
        # Remembered like a model, so that the next ingests do not try again until the store has grown.
        with store.tx() as conn:
            reid_train.record_learned(conn, ready.tracklets, None, str(err))
        return {"learned": False, "reason": str(err), "tracklets": ready.tracklets, "cameras": ready.cameras}
    applied = reid_train.apply(store, progress=progress)
    return {"learned": True, "tracklets": ready.tracklets, "cameras": ready.cameras, "model": rep.model,
            "dim": rep.dim, "train_s": round(rep.seconds, 1), "embedded": applied.get("embedded", 0)}
