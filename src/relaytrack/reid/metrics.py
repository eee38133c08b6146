"""Cross-camera retrieval scores, the way the re-identification community counts them.

Every tracklet with a known identity queries all tracklets of the *other* cameras (same-camera matches are
left out, as torchreid's evaluation does); a query whose identity appears on no other camera is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Retrieval:
    rank1: float
    rank5: float
    mAP: float
    queries: int
    gallery: int
    chance_rank1: float  # expected rank-1 of a random ranking over the same queries

    def to_dict(self) -> dict[str, float | int]:
        return {"rank1": round(self.rank1, 4), "rank5": round(self.rank5, 4), "mAP": round(self.mAP, 4),
                "queries": self.queries, "gallery": self.gallery, "chance_rank1": round(self.chance_rank1, 4)}


def cross_camera(emb: np.ndarray, identities: list[str | None], cameras: list[str]) -> Retrieval:
    """Scores of cosine ranking of `emb` rows (one per tracklet)."""
    emb = np.asarray(emb, np.float32)
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    ids = np.array([i if i is not None else "" for i in identities], dtype=object)
    cams = np.array(cameras, dtype=object)
    sim = emb @ emb.T
    r1 = r5 = ap_sum = chance = 0.0
    n = 0
    for q in range(len(emb)):
        if not ids[q]:
            continue
        gal = np.nonzero(cams != cams[q])[0]
        if not len(gal):
            continue
        match = ids[gal] == ids[q]
        if not match.any():
            continue
        order = np.argsort(-sim[q, gal], kind="stable")
        hits = match[order]
        n += 1
        r1 += float(hits[0])
        r5 += float(hits[:5].any())
        pos = np.nonzero(hits)[0]
        ap_sum += float(np.mean((np.arange(len(pos)) + 1) / (pos + 1)))
        chance += float(match.mean())
    if n == 0:
        return Retrieval(0.0, 0.0, 0.0, 0, len(emb), 0.0)
    return Retrieval(r1 / n, r5 / n, ap_sum / n, n, len(emb), chance / n)
