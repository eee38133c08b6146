"""The transitions a rendered town's people really made, read from its ground truth: what the learned-links
comparison restricts itself to (a link nobody walked cannot be learned from traffic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaytrack.bench.truth import footage_transitions


def _town(root: Path) -> Path:
    # Two cameras whose clocks start 5 s apart; frames at 10 fps.
    (root / "cameras.yaml").write_text(
        "cameras:\n"
        "  - {id: C01, start_time: '2026-11-17T14:00:00+09:00'}\n"
        "  - {id: C02, start_time: '2026-11-17T14:00:05+09:00'}\n",
        encoding="utf-8",
    )
    rows = {
        # person 7: C01 frames 1-20 (0.0-1.9 s), then C02 frames 31-40 (8.0-8.9 s wall), then C01 again at
        # frames 201-210 (20.0-20.9 s); person 8 is seen on C01 twice with a 3 s gap and never elsewhere.
        "C01": [(f, 7) for f in range(1, 21)] + [(f, 7) for f in range(201, 211)]
        + [(f, 8) for f in range(50, 60)] + [(f, 8) for f in range(90, 100)],
        "C02": [(f, 7) for f in range(31, 41)],
    }  # fmt: skip
    for cam, rs in rows.items():
        gt = root / "mot" / cam / "gt"
        gt.mkdir(parents=True)
        (gt / "gt.txt").write_text("".join(f"{f},{i},10,10,20,40,1,1,1\n" for f, i in rs), encoding="utf-8")
        (root / "mot" / cam / "seqinfo.ini").write_text("[Sequence]\nframeRate=10\n", encoding="utf-8")
    return root


def test_each_change_of_camera_is_one_transition_with_its_gap(tmp_path: Path) -> None:
    got = footage_transitions(_town(tmp_path))
    assert set(got) == {("C01", "C02"), ("C02", "C01")}
    # Left C01 at 1.9 s, entered C02 at 5 + 3.0 = 8.0 s; left C02 at 8.9 s, back on C01 at 20.0 s.
    assert got[("C01", "C02")] == [pytest.approx(6.1)]
    assert got[("C02", "C01")] == [pytest.approx(11.1)]


def test_a_camera_without_ground_truth_is_skipped(tmp_path: Path) -> None:
    town = _town(tmp_path)
    (town / "mot" / "C02" / "gt" / "gt.txt").unlink()
    assert footage_transitions(town) == {}
