"""Route and retrieval metrics. Cross-camera retrieval excludes same-camera gallery items (as torchreid does)."""

from __future__ import annotations

from typing import Any

import numpy as np

from relaytrack.relay.route import Route


def _collapse(seq: list[str]) -> list[str]:
    out: list[str] = []
    for x in seq:
        if not out or out[-1] != x:
            out.append(x)
    return out


def lcs_len(a: list[str], b: list[str]) -> int:
    dp = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, start=1):
            cur = dp[j]
            dp[j] = prev + 1 if x == y else max(dp[j], dp[j - 1])
            prev = cur
    return dp[-1]


def route_accuracy(
    route: Route, truth_route: list[dict[str, Any]], *, tolerance_s: float = 2.0
) -> dict[str, Any]:
    """Compare a route with a true route [{"camera", "start", "end", ...}] (seconds from the source start, as in
    the town's truth.json). A true entry is found when a hop on the same camera overlaps it in time (within
    tolerance_s), one hop per entry. Returns {"sequence_accuracy": share of the true camera sequence recovered
    in order, "exact_sequence", "hops_found", "hops_true", "hops_predicted", "precision", "recall"}."""
    pred = [(h.sighting.camera, h.sighting.start, h.sighting.end) for h in route.hops]
    true = [(str(t["camera"]), float(t["start"]), float(t["end"])) for t in truth_route]
    used: set[int] = set()
    found = 0
    for cam, t0, t1 in true:
        best, best_ov = None, -1e9
        for i, (pc, p0, p1) in enumerate(pred):
            if i in used or pc != cam:
                continue
            ov = min(t1, p1) - max(t0, p0)
            if ov >= -tolerance_s and ov > best_ov:
                best, best_ov = i, ov
        if best is not None:
            used.add(best)
            found += 1
    tseq, pseq = _collapse([t[0] for t in true]), _collapse([p[0] for p in pred])
    return {
        "sequence_accuracy": lcs_len(pseq, tseq) / len(tseq) if tseq else 0.0,
        "exact_sequence": pseq == tseq,
        "hops_found": found,
        "hops_true": len(true),
        "hops_predicted": len(pred),
        "precision": len(used) / len(pred) if pred else 0.0,
        "recall": found / len(true) if true else 0.0,
    }


def route_accuracy_ids(
    route: Route, true_ids: list[int], identity: dict[int, int], person: int, cameras_of: dict[int, str]
) -> dict[str, Any]:
    """Sighting-level version for stores whose truth maps sighting ids to identities. The origin hop is not
    counted: precision = correct predicted hops / predicted hops, recall = correct / true hops (origin excluded)."""
    pred = [h.sighting.id for h in route.hops if h.sighting.id != route.origin]
    truth = [i for i in true_ids if i != route.origin]
    correct = sum(1 for i in pred if identity.get(i) == person)
    tseq = _collapse([cameras_of[i] for i in true_ids])
    pseq = _collapse([h.sighting.camera for h in route.hops])
    return {
        "correct": correct,
        "predicted": len(pred),
        "true": len(truth),
        "sequence_accuracy": lcs_len(pseq, tseq) / len(tseq) if tseq else 0.0,
        "exact_sequence": pseq == tseq and correct == len(truth) == len(pred),
    }


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    if not relevant.any():
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    rel = relevant[order]
    hits = np.cumsum(rel)
    precision_at = hits / np.arange(1, len(rel) + 1)
    return float((precision_at * rel).sum() / rel.sum())


def retrieval_metrics(
    feats: np.ndarray, ids: np.ndarray, cams: np.ndarray, queries: np.ndarray
) -> dict[str, float]:
    """rank-1 and mAP of cosine retrieval, gallery = everything on other cameras (same-camera matches excluded)."""
    f = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
    r1, aps = [], []
    for q in queries:
        mask = cams != cams[q]
        if not mask.any():
            continue
        sims = f[mask] @ f[q]
        rel = ids[mask] == ids[q]
        if not rel.any():
            continue
        r1.append(float(rel[int(np.argmax(sims))]))
        aps.append(average_precision(sims, rel))
    return {
        "rank1": float(np.mean(r1)) if r1 else float("nan"),
        "mAP": float(np.mean(aps)) if aps else float("nan"),
        "queries": len(r1),
    }
