"""The protocol of `bench mot`: tuning and scored frames are disjoint, a held-out sequence never reaches the
tuning function, and the in-memory TrackEval scoring agrees with the file-based run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relaytrack.bench import mot, mot_eval
from relaytrack.bench.mot_data import SeqData
from relaytrack.bench.mot_protocol import Fold, Span, leave_one_out, sample, tune, tune_on, view
from relaytrack.config import Config
from relaytrack.records import PERSON, Detections


def _seq(name: str, n: int, people: int = 3, seed: int = 0) -> SeqData:
    """A small scene: people walking across, detected every frame with a little jitter."""
    rng = np.random.default_rng(seed)
    gt_rows, dets = [], {}
    for f in range(1, n + 1):
        boxes = []
        for p in range(people):
            x, y = 20 + 6 * f + 90 * p, 40 + 30 * p
            gt_rows.append([f, p + 1, x, y, 30, 80, 1, -1, -1, -1])
            j = rng.normal(0, 1.5, 4)
            boxes.append([x + j[0], y + j[1], x + 30 + j[2], y + 80 + j[3]])
        dets[f] = Detections(np.array(boxes), np.full(people, 0.9), np.full(people, PERSON))
    seq = SeqData(name, Path(name), [Path(f"{f:06d}.jpg") for f in range(1, n + 1)], 10.0, (640, 480),
                  np.array(gt_rows, dtype=np.float64), dets)
    return seq


def test_leave_one_out_tunes_and_scores_disjoint_frames() -> None:
    seqs = [_seq("A", 20), _seq("B", 15), _seq("C", 12)]
    folds = leave_one_out(seqs)
    scored = [s.seq for f in folds for s in f.score]
    assert sorted(scored) == ["A", "B", "C"]  # every sequence scored exactly once
    for f in folds:
        tuned = set().union(*(s.frames() for s in f.tune))
        held = set().union(*(s.frames() for s in f.score))
        assert tuned and held and not tuned & held
        assert {s.seq for s in f.score}.isdisjoint({s.seq for s in f.tune})
    (one,) = tune_on(seqs, "A")
    assert [s.seq for s in one.tune] == ["A"] and sorted(s.seq for s in one.score) == ["B", "C"]


def test_overlapping_fold_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Fold("bad", (Span("A", 1, 10),), (Span("A", 10, 20),)).check()
    Fold("frames", (Span("A", 1, 9),), (Span("A", 10, 20),)).check()


def test_held_out_sequence_never_reaches_the_tuner() -> None:
    seqs = [_seq("A", 20, seed=1), _seq("B", 15, seed=2), _seq("C", 12, seed=3)]
    folds = leave_one_out(seqs)
    seen: list[tuple[str, set[str], set[str]]] = []

    def spy(cands, views, score):
        names = {v.span.seq for v in views}
        scored: set[str] = set()

        def spy_score(p, vs):
            scored.update(v.span.seq for v in vs)
            return score(p, vs)

        out = tune(cands, views, spy_score)
        seen.append((fold_name(names), names, scored))
        return out

    def fold_name(names: set[str]) -> str:
        return next(f.name for f in folds if {s.seq for s in f.tune} == names)

    res = mot.run_folds(seqs, folds, ["relaytrack", "bytetrack"], Config(), n=2, seed=0, tuner=spy)
    assert len(seen) == 2 * len(folds) and len(res) == 2 * len(folds)
    for name, given, scored in seen:
        fold = next(f for f in folds if f.name == name)
        held = {s.seq for s in fold.score}
        assert given.isdisjoint(held) and scored <= given
    table = mot.summarise(res, ["relaytrack", "bytetrack"])
    assert table["relaytrack"]["MOTA"] > 80  # clean detections: both track nearly perfectly


def test_view_holds_only_its_span() -> None:
    seq = _seq("A", 20)
    v = view(seq, Span("A", 5, 9))
    assert sorted(v.dets) == [5, 6, 7, 8, 9]
    assert set(v.gt[:, 0].astype(int)) == {5, 6, 7, 8, 9}
    with pytest.raises(ValueError):
        view(seq, Span("A", 15, 25))


def test_sample_is_seeded_and_in_range() -> None:
    space = {"a": {"type": "uniform", "range": [0.1, 0.5]}, "b": {"type": "randint", "range": [1, 4]}}
    s1, s2 = sample(space, 10, 7), sample(space, 10, 7)
    assert s1 == s2
    assert all(0.1 <= p["a"] <= 0.5 and 1 <= p["b"] <= 4 for p in s1)


def test_in_memory_scores_match_trackeval_files(tmp_path: Path) -> None:
    seq = _seq("A", 25, people=4, seed=5)
    v = view(seq, Span("A", 1, 25))
    rows = mot.run_tracker("relaytrack", {"max_lost_s": 0.1}, v)
    rows = rows[rows[:, 0] != 7]  # a hole, so that FN and an id switch can happen
    rows[(rows[:, 0] > 15) & (rows[:, 1] == rows[0, 1]), 1] = 99
    mem = mot_eval.combine([mot_eval.evaluate(mot_eval.seq_data(v.gt, rows, 1, 25))])
    mot_eval.write_trackeval_files(tmp_path, "A", v.gt, rows, 25, "t")
    files = mot_eval.trackeval_scores(tmp_path, ["A"], ["t"])["t"]
    for k in ("HOTA", "IDF1", "MOTA"):
        assert mem[k] == pytest.approx(files[k], abs=0.05)
    for k in ("IDSW", "FP", "FN"):
        assert mem[k] == files[k]


def test_online_output_leaves_out_boxes_before_confirmation() -> None:
    seq = _seq("A", 10, people=1)
    v = view(seq, Span("A", 1, 10))
    online = mot.run_tracker("relaytrack", {"min_hits": 2}, v)
    offline = mot.run_tracker("relaytrack-offline", {"min_hits": 2}, v)
    assert 1 not in set(online[:, 0].astype(int))  # frame 1: not yet confirmed, not reported online
    assert 1 in set(offline[:, 0].astype(int))  # the finished tracklet keeps it


def test_detection_cache_key_follows_the_embedders_weights(tmp_path, monkeypatch) -> None:
    """A cache written with other weights under the same embedder name (the part features changed in
    sessions 24 and 25) is never read as the current one's."""
    from relaytrack.bench import mot_data
    from relaytrack.describe import embed

    frame = tmp_path / "000001.jpg"
    frame.write_bytes(b"x" * 100)
    seq = SeqData("S", tmp_path, [frame], 10.0, (64, 48), np.zeros((0, 10)))
    cfg = Config()
    now = mot_data.cache_key(cfg, seq, "parts")
    assert now == mot_data.cache_key(cfg, seq, "parts")  # stable for the same weights
    assert mot_data.cache_key(cfg, seq, None) != now

    class OtherWeights:
        def __init__(self, cfg=None, model=None) -> None:
            self.identity = "0123456789abcdef"

    monkeypatch.setattr(embed, "Embedder", OtherWeights)
    assert mot_data.cache_key(cfg, seq, "parts") != now
