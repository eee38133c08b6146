"""The masking benchmark's protocol: the target-match rule is tuned on frames never scored, and the target is
the pipeline's tracking of it (a click picks a tracklet; continuations are chained), not its GT boxes."""

from relaytrack.bench.masking_target import (
    DEFAULT_RULE,
    SCORED_SETS,
    TUNE_SET,
    TargetRule,
    Tracklet,
    first_click,
    select_target,
    target_agreement,
    tune_rule,
)


def test_tuning_and_scored_frames_are_disjoint():
    rel, t0, t1 = TUNE_SET
    tuned = set(range(t0, t1 + 1))
    for srel, s0, s1 in SCORED_SETS:
        if srel == rel:
            assert not tuned & set(range(s0, (s1 or 10**6) + 1))
    assert ("mot15/PETS09-S2L1", 101, 300) in SCORED_SETS


def _walk(sid, f0, f1, x0, dx=2.0):
    return Tracklet(sid, [(f, x0 + dx * (f - f0), 100.0, 20.0, 60.0) for f in range(f0, f1 + 1)])


def test_click_picks_tracklet_and_chain_follows_continuation():
    target_a = _walk(1, 1, 10, 0.0)
    target_b = _walk(2, 14, 30, 28.0)  # the same walker after a 3-frame occlusion
    other = _walk(3, 1, 30, 300.0)
    far = _walk(4, 12, 30, 200.0)  # starts soon after, but far away
    chaining = TargetRule(0.3, 20, 1.0)
    chosen = select_target([target_a, target_b, other, far], (1, 0.0, 100.0, 20.0, 60.0), chaining)
    assert {r[0] for r in chosen} == set(range(1, 11)) | set(range(14, 31))
    assert all(r[1] < 100 for r in chosen)
    # No tracklet under the click: no target (everything gets masked), never a GT box.
    assert select_target([other], (1, 0.0, 100.0, 20.0, 60.0), DEFAULT_RULE) == []
    strict = TargetRule(0.3, 2, 1.0)
    assert {r[0] for r in select_target([target_a, target_b], (1, 0.0, 100.0, 20.0, 60.0), strict)} == set(
        range(1, 11)
    )


def test_agreement_and_tuning_on_a_window():
    a, b = _walk(1, 1, 10, 0.0), _walk(2, 14, 30, 28.0)
    gt = {f: (f, 2.0 * (f - 1), 100.0, 20.0, 60.0) for f in range(1, 31)}
    fig = target_agreement(a.rows + b.rows, gt)
    assert fig["wrong_person"] == 0.0 and fig["target_found"] > 0.9
    rule, best = tune_rule([a, b], gt[1], gt)
    assert rule.max_gap >= 4 and best["target_found"] > 0.9


def test_click_lands_on_the_first_frame_the_system_outlines_the_target():
    """The investigator can click only an outlined person: the first GT box of the target that a tracklet box
    overlaps, not the GT's first box when the tracker has not confirmed the person yet."""
    gt = {f: (f, 2.0 * (f - 1), 100.0, 20.0, 60.0) for f in range(1, 31)}
    late = _walk(1, 8, 30, 14.0)  # the tracker confirms the target from frame 8
    other = _walk(2, 1, 30, 300.0)
    assert first_click([late, other], gt, DEFAULT_RULE.click_iou) == gt[8]
    assert {r[0] for r in select_target([late, other], gt[8], DEFAULT_RULE)} == set(range(8, 31))
    # Never outlined: the GT's first box (nothing under it, so no target and everybody masked).
    assert first_click([other], gt, DEFAULT_RULE.click_iou) == gt[1]
