"""Learning an appearance metric from labels a tracker gives for free (XQDA-style, closed form).

Positives: two crops of one tracklet are one person. To make "one person" also cover what changes between
cameras (gain, white balance, blur, framing, left/right), each crop is also seen through random camera-like
distortions. Negatives: tracklets seen at the same time on the same camera are two people; tracklets of
different cameras are different people far more often than not, and add the variety one camera lacks.

The projection maximises the spread of different-people differences against same-person differences (a
generalised eigenproblem, as XQDA and KISSME do), keeps the directions where different people differ most,
and weights them by how much more they separate people than they vary within one (XQDA's metric 1 - 1/λ).
Closed form, seconds on a CPU, no network weights to train.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from relaytrack.errors import InputError


@dataclass(frozen=True)
class Projection:
    mean: np.ndarray  # (D,)
    weights: np.ndarray  # (D, d)
    info: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def apply(self, feats: np.ndarray) -> np.ndarray:
        y = (np.asarray(feats, np.float32) - self.mean) @ self.weights
        return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)


def augment(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One camera-like distortion of a crop: gain and gamma, white balance, resolution, framing, mirror."""
    import cv2

    img = crop.astype(np.float32) / 255.0
    img = np.clip(img * rng.uniform(0.6, 1.4), 0, 1) ** rng.uniform(0.7, 1.4)
    img = np.clip(img * rng.uniform(0.88, 1.12, size=3).astype(np.float32), 0, 1)
    h, w = img.shape[:2]
    if rng.random() < 0.5:
        s = rng.uniform(0.35, 0.8)
        small = cv2.resize(img, (max(4, int(w * s)), max(8, int(h * s))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    dx, dy = (rng.uniform(-0.08, 0.08, 2) * (w, h)).astype(int)
    dh = int(rng.uniform(-0.06, 0.06) * h)
    x1, y1 = max(0, dx), max(0, dy)
    x2, y2 = min(w, w + dx), min(h, h + dy + dh)
    if x2 - x1 >= 4 and y2 - y1 >= 8:
        img = img[y1:y2, x1:x2]
    if rng.random() < 0.5:
        img = img[:, ::-1]
    return np.ascontiguousarray((img * 255).astype(np.uint8))


def fit(
    feats: Sequence[np.ndarray],
    cameras: Sequence[str],
    negatives: Sequence[tuple[int, int]],
    *,
    dim: int = 96,
    pca: int = 320,
    reg: float = 0.02,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Projection:
    """`feats[i]` is tracklet i's (k_i, D) crop features (augmented views included), `negatives` pairs of
    tracklets known to be different people. Needs at least 8 tracklets with two or more crops."""
    usable = [i for i, f in enumerate(feats) if len(f) >= 2]
    if len(usable) < 8:
        raise InputError(f"{len(usable)} tracklets with two or more crops; at least 8 are needed to learn from")
    rng = np.random.default_rng(seed)
    from scipy.linalg import eigh

    # PCA first: there are far fewer tracklets than feature dimensions. From the D x D scatter, summed a
    # tracklet at a time, not an SVD of every crop's features at once (3,000 tracklets x 30 views x 1,550
    # features would hold gigabytes).
    n_all = sum(len(feats[i]) for i in usable)
    mean = sum(np.asarray(feats[i], np.float64).sum(axis=0) for i in usable) / n_all
    scatter = np.zeros((len(mean), len(mean)))
    for i in usable:
        xc = np.asarray(feats[i], np.float64) - mean
        scatter += xc.T @ xc
    p = int(min(pca, n_all - 1, len(mean)))
    _ev, evec = eigh(scatter)
    basis = evec[:, ::-1][:, :p]  # (D, p), largest variance first
    z = [(np.asarray(feats[i], np.float64) - mean) @ basis for i in usable]
    within = np.zeros((p, p))
    n_within = 0
    for zi in z:
        d = zi - zi.mean(axis=0)
        within += d.T @ d
        n_within += len(zi) - 1
    sigma_s = 2.0 * within / max(n_within, 1)  # covariance of the difference of two views of one person
    means = np.stack([zi.mean(axis=0) for zi in z])
    pos = {u: k for k, u in enumerate(usable)}
    pairs = [(pos[a], pos[b]) for a, b in negatives if a in pos and b in pos]
    cams = np.array([cameras[i] for i in usable], dtype=object)
    n_extra = max(4 * len(usable), 2 * len(pairs))
    a = rng.integers(0, len(usable), n_extra)
    b = rng.integers(0, len(usable), n_extra)
    keep = cams[a] != cams[b]
    pairs += list(zip(a[keep].tolist(), b[keep].tolist(), strict=True))
    if len(pairs) < 8:
        raise InputError(f"{len(pairs)} different-people pairs; at least 8 are needed (one camera only?)")
    diffs = np.stack([means[i] - means[j] for i, j in pairs])
    sigma_d = diffs.T @ diffs / len(diffs)
    ridge = reg * np.trace(sigma_s) / p
    lam, vec = eigh(sigma_d, sigma_s + ridge * np.eye(p))
    order = np.argsort(-lam)[: min(dim, p)]
    lam, vec = lam[order], vec[:, order]
    scale = np.sqrt(np.clip(1.0 - 1.0 / np.maximum(lam, 1e-9), 0.0, None))
    weights = basis @ (vec * scale)
    info = {
        "tracklets": len(usable),
        "crops": int(n_all),
        "negative_pairs": len(pairs),
        "co_occurring_pairs": len(negatives),
        "pca": p,
        "dim": int(weights.shape[1]),
        "separation_top": [round(float(v), 2) for v in lam[:5]],
    }
    if progress:
        progress(f"fitted projection {weights.shape[0]} -> {weights.shape[1]} on {len(usable)} tracklets")
    return Projection(mean.astype(np.float32), weights.astype(np.float32), info)


def cross_camera_pairs(proj: Projection, feats: Sequence[np.ndarray], cameras: Sequence[str],
                       min_sim: float = 0.5) -> list[tuple[int, int]]:
    """Tracklets of different cameras that are each other's nearest neighbour under `proj` and similar
    enough: most likely one person seen twice (the cross-camera association of unsupervised re-id)."""
    emb = np.stack([proj.apply(f).mean(axis=0) for f in feats])
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sim = emb @ emb.T
    cams = np.asarray(cameras, dtype=object)
    sim[cams[:, None] == cams[None, :]] = -1.0
    nn = sim.argmax(axis=1)
    return [(i, int(nn[i])) for i in range(len(feats))
            if int(nn[nn[i]]) == i and i < nn[i] and sim[i, nn[i]] > min_sim]


def fit_associated(
    feats: Sequence[np.ndarray],
    cameras: Sequence[str],
    negatives: Sequence[tuple[int, int]],
    *,
    rounds: int = 1,
    min_sim: float = 0.5,
    **kw,
) -> Projection:
    """`fit`, then `rounds` times: join mutual nearest tracklets across cameras into one person (never two
    tracklets known to be different people) and fit again, so that what differs between cameras counts as
    the same person. Measured on the tuning towns: cross-camera rank-1 0.77 -> 0.82 with one round."""
    proj = fit(feats, cameras, negatives, **kw)
    first = {k: proj.info[k] for k in ("tracklets", "crops", "co_occurring_pairs")}
    different = {frozenset(p) for p in negatives}
    for _ in range(rounds):
        pairs = [p for p in cross_camera_pairs(proj, feats, cameras, min_sim) if frozenset(p) not in different]
        if not pairs:
            break
        group = list(range(len(feats)))
        for a, b in pairs:
            group[b] = a
        ids = sorted(set(group))
        index = {g: k for k, g in enumerate(ids)}
        joined = [np.concatenate([feats[i] for i in range(len(feats)) if group[i] == g]) for g in ids]
        cams = [cameras[g] for g in ids]
        negs = sorted({(min(index[group[a]], index[group[b]]), max(index[group[a]], index[group[b]]))
                       for a, b in negatives if group[a] != group[b]})
        try:
            refit = fit(joined, cams, negs, **kw)
        except InputError:
            break  # joined into too few people to learn from again: the first fit stands
        proj = refit
        proj.info.update(first, associated_pairs=len(pairs))
    return proj
