"""The protocol of `relaytrack bench mot`: which frames tune each tracker and which frames are scored.

The community's way (and the only one a reviewer accepts): every tracker, relaytrack's own included, has its
thresholds chosen on footage that is then not scored. A `Fold` names the spans (sequence, first..last frame)
it tunes on and the spans it scores; `leave_one_out` makes one fold per sequence (tune on the others, score
it), `tune_on` tunes on one sequence and scores all the others, `halves` tunes on each sequence's first half
and scores its second half. The tuner (`tune`) only ever receives
`View`s of a fold's tuning spans: a held-out span's detections and ground truth are never in its reach
(`tests/bench/test_mot_protocol.py` pins both that and the disjointness of tuning and scored frames).

Search: a fixed-seed random sample of each tracker's search space (the peers' own ranges as the `trackers`
package ships them in `search_space`; relaytrack's declared here with the same kind of breadth), plus the
tracker's defaults as candidate 0. Objective: the mean of HOTA, IDF1 and MOTA over the fold's tuning spans
together (TrackEval's combined figures), fixed before any scoring.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relaytrack.bench.mot_data import SeqData
from relaytrack.records import Detections

# Every tracker is also tuned on a detection-score cut-off applied before it sees the boxes (NanoDet keeps
# persons from 0.1 for second-stage matching; a peer may do better without the weakest of them).
DET_MIN = {"det_min": {"type": "uniform", "range": [0.1, 0.5]}}

# relaytrack's ranges: as broad as ByteTrack's (its thresholds play the same roles), lost time in seconds
# (ByteTrack's 10..91 frames at 30 fps is 0.33..3 s).
RELAYTRACK_SPACE: dict[str, dict] = {
    "high_conf": {"type": "uniform", "range": [0.3, 0.8]},
    "new_track_conf": {"type": "uniform", "range": [0.3, 0.9]},
    "match_iou": {"type": "uniform", "range": [0.05, 0.7]},
    "second_iou": {"type": "uniform", "range": [0.1, 0.7]},
    "max_lost_s": {"type": "uniform", "range": [0.3, 4.0]},
    "min_hits": {"type": "randint", "range": [1, 4]},
}
# Appearance in association is not searched: with the part-colour embedding it helped one split and hurt
# the other (leave-one-out vs halves); the tracker keeps it as an option (TrackConfig.appearance), off.

OBJECTIVE = ("HOTA", "IDF1", "MOTA")


@dataclass(frozen=True)
class Span:
    """Frames first..last (1-based, inclusive) of one sequence."""

    seq: str
    first: int
    last: int

    def frames(self) -> set[tuple[str, int]]:
        return {(self.seq, f) for f in range(self.first, self.last + 1)}

    def __str__(self) -> str:
        return f"{self.seq}[{self.first}-{self.last}]"


@dataclass(frozen=True)
class Fold:
    name: str
    tune: tuple[Span, ...]
    score: tuple[Span, ...]

    def check(self) -> None:
        """A fold whose tuning and scored frames overlap is a protocol error, not a result."""
        tuned = set().union(*(s.frames() for s in self.tune))
        scored = set().union(*(s.frames() for s in self.score))
        if not self.tune or not self.score:
            raise ValueError(f"fold {self.name}: needs tuning and scored spans")
        if tuned & scored:
            raise ValueError(f"fold {self.name}: tuning and scored frames overlap")


def whole(seq: SeqData) -> Span:
    return Span(seq.name, 1, seq.n_frames)


def leave_one_out(seqs: list[SeqData]) -> list[Fold]:
    if len(seqs) < 2:
        raise ValueError("leave-one-sequence-out needs at least two sequences")
    folds = [
        Fold(f"held-out {s.name}", tuple(whole(o) for o in seqs if o is not s), (whole(s),)) for s in seqs
    ]
    for f in folds:
        f.check()
    return folds


def tune_on(seqs: list[SeqData], name: str) -> list[Fold]:
    tune = [s for s in seqs if s.name == name]
    if not tune:
        raise ValueError(f"no sequence {name!r}; have {', '.join(s.name for s in seqs)}")
    fold = Fold(f"tuned on {name}", (whole(tune[0]),), tuple(whole(s) for s in seqs if s.name != name))
    fold.check()
    return [fold]


def halves(seqs: list[SeqData]) -> list[Fold]:
    """One fold per sequence: tune on its first half, score its second half. This mirrors a site where
    thresholds are set on the first footage of each camera and used afterwards (the independent check tunes
    on PETS09-S2L1 frames 1-300 and scores 301-795)."""
    folds = []
    for s in seqs:
        mid = s.n_frames // 2
        fold = Fold(f"{s.name} 2nd half", (Span(s.name, 1, mid),), (Span(s.name, mid + 1, s.n_frames),))
        fold.check()
        folds.append(fold)
    return folds


def make_folds(seqs: list[SeqData], split: str) -> list[Fold]:
    """split: "loso" (leave one sequence out), "halves" (first half tunes, second half scored, per sequence)
    or a sequence name (tune on it, score the others)."""
    if split == "loso":
        return leave_one_out(seqs)
    if split == "halves":
        return halves(seqs)
    return tune_on(seqs, split)


@dataclass
class View:
    """What a tracker (and the tuner) may see of one span: its detections, appearance features and GT."""

    span: Span
    fps: float
    size: tuple[int, int]
    dets: dict[int, Detections]
    feats: dict[int, np.ndarray]
    gt: np.ndarray = field(repr=False)
    looks: dict[int, np.ndarray] = field(default_factory=dict)


def view(seq: SeqData, span: Span) -> View:
    if span.seq != seq.name or span.first < 1 or span.last > seq.n_frames:
        raise ValueError(f"span {span} does not fit sequence {seq.name} ({seq.n_frames} frames)")
    fr = range(span.first, span.last + 1)
    gt = seq.gt[(seq.gt[:, 0] >= span.first) & (seq.gt[:, 0] <= span.last)]
    return View(
        span,
        seq.fps,
        seq.size,
        {f: seq.dets.get(f, Detections.empty()) for f in fr},
        {f: seq.feats[f] for f in fr if f in seq.feats},
        gt,
        {f: seq.looks[f] for f in fr if f in seq.looks},
    )


# -- search ---------------------------------------------------------------------------------------------
def sample(space: dict[str, dict], n: int, seed: int) -> list[dict[str, Any]]:
    """n random configurations from a `trackers`-style search space (randint bounds inclusive)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        p: dict[str, Any] = {}
        for name, spec in sorted(space.items()):
            lo, hi = spec["range"] if "range" in spec else (None, None)
            if spec["type"] == "randint":
                p[name] = rng.randint(int(lo), int(hi))
            elif spec["type"] == "uniform":
                p[name] = round(rng.uniform(float(lo), float(hi)), 3)
            elif spec["type"] == "choice":
                p[name] = rng.choice(spec["options"])
            else:
                raise ValueError(f"unknown search-space type {spec['type']!r}")
        out.append(p)
    return out


def params_key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def objective(scores: dict[str, float]) -> float:
    return float(np.mean([scores[k] for k in OBJECTIVE]))


@dataclass(frozen=True)
class Tuned:
    params: dict[str, Any]
    objective: float
    tried: int
    trials: tuple[tuple[str, float], ...] = ()


def tune(
    candidates: list[dict[str, Any]],
    views: list[View],
    score: Callable[[dict[str, Any], list[View]], dict[str, float]],
) -> Tuned:
    """The best candidate on `views` (the fold's tuning spans, and nothing else) by `objective`; ties go to
    the earlier candidate, so the defaults (candidate 0) win unless something beats them."""
    best: tuple[float, int] | None = None
    trials = []
    for i, p in enumerate(candidates):
        obj = objective(score(p, views))
        trials.append((params_key(p), obj))
        if best is None or obj > best[0] + 1e-9:
            best = (obj, i)
    assert best is not None
    return Tuned(candidates[best[1]], best[0], len(candidates), tuple(trials))
