"""Route and retrieval metrics. Cross-camera retrieval excludes same-camera gallery items (as torchreid does).

Two ways to score a route against a town's truth:
- route_accuracy: by camera and time alone (a hop on the right camera at the right time counts, whoever it
  shows); kept for comparison with earlier figures.
- route_scores: by identity. A hop counts only if its sighting IS the suspect, which a look-alike decoy on the
  right camera at the right time is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
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


@dataclass(frozen=True, slots=True)
class RouteScore:
    """A route scored by identity (see route_scores)."""

    precision: float  # correct / hops
    recall: float  # covered / visits
    f1: float
    hops: int  # hops of the route, the origin excluded
    correct: int  # of those, sightings of the suspect
    visits: int  # the suspect's true camera visits, the origin's excluded
    covered: int  # of those, overlapped by a correct hop
    duplicates: int  # correct hops that only re-cover visits an earlier hop (or the origin) already covered
    origin_is_suspect: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _overlaps(a0: float, a1: float, b0: float, b1: float, tolerance_s: float) -> bool:
    return min(a1, b1) - max(a0, b0) >= -tolerance_s


def route_scores(
    route: Route,
    truth_route: list[dict[str, Any]],
    identities: Mapping[int, int | None],
    suspect: int,
    *,
    tolerance_s: float = 2.0,
) -> RouteScore:
    """Score a route by who each hop really is.

    identities: {sighting id: true person id or None}, judged from the ground-truth boxes (for a rendered
    town: relaytrack.bench.truth.route_identities, i.e. a sighting is the person whose MOT gt boxes it
    overlaps at IoU >= 0.5 on the same frames for the largest share of its boxes, at least 30 % of them).
    A sighting missing from identities is nobody. truth_route: truth.json's suspect["route"], visits
    {"camera", "start", "end"} in seconds from the source start, as sightings' start/end are.

    - A hop (the origin excluded) is correct when its sighting is the suspect: precision = correct / hops.
    - A true visit is covered when a correct hop on its camera overlaps it in time (within tolerance_s; one
      hop may cover a visit split by a short gap, and several hops on one visit cover it once):
      recall = covered / visits. The origin's visit (the suspect's visits on the origin's camera that the
      origin overlaps, when the origin is the suspect) is given, not found, and leaves the count.
    - With no hops, precision is 1 when there was nothing to find and 0 otherwise; with nothing to find,
      recall is 1. F1 is the harmonic mean (0 when both are 0).
    """
    by_id = {h.sighting.id: h.sighting for h in route.hops}
    origin = by_id.get(route.origin)
    origin_is_suspect = origin is not None and identities.get(origin.id) == suspect
    true = [(str(t["camera"]), float(t["start"]), float(t["end"])) for t in truth_route]
    given: set[int] = set()
    if origin_is_suspect:
        given = {
            i
            for i, (cam, t0, t1) in enumerate(true)
            if cam == origin.camera and _overlaps(t0, t1, origin.start, origin.end, tolerance_s)
        }
    hops = sorted((h.sighting for h in route.hops if h.sighting.id != route.origin), key=lambda s: s.start)
    correct = duplicates = 0
    covered: set[int] = set()
    for s in hops:
        if identities.get(s.id) != suspect:
            continue
        correct += 1
        mine = {
            i
            for i, (cam, t0, t1) in enumerate(true)
            if cam == s.camera and _overlaps(t0, t1, s.start, s.end, tolerance_s)
        }
        if mine and mine <= covered | given:
            duplicates += 1
        covered |= mine - given
    n_visits = len(true) - len(given)
    precision = correct / len(hops) if hops else (1.0 if n_visits == 0 else 0.0)
    recall = len(covered) / n_visits if n_visits else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return RouteScore(
        precision=precision,
        recall=recall,
        f1=f1,
        hops=len(hops),
        correct=correct,
        visits=n_visits,
        covered=len(covered),
        duplicates=duplicates,
        origin_is_suspect=origin_is_suspect,
    )


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
