"""Camera links against a town's true links (links-truth.yaml): which learned camera pairs are real, and how
close their travel times come. The true time of a camera pair is the walk-weighted mean of its edge variants
(`samples`, the walks behind each; a file without them weighs them evenly)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from relaytrack.errors import InputError
from relaytrack.relay.learn_links import rounded


class _PairLink(Protocol):
    """What a comparison reads of a link: a stored `Link` or a `LearnedLink` alike."""

    src: str
    dst: str
    exit_edge: str | None
    entry_edge: str | None
    mean_s: float


@dataclass(frozen=True, slots=True)
class LinkComparison:
    """Learned links against a town's links-truth.yaml, by camera pair (src -> dst)."""

    learned: int
    true: int
    correct: int  # learned pairs that are true pairs
    precision: float
    recall: float
    within_20pct: int  # true pairs found with |travel-time error| <= 20 %
    recall_within_20pct: float
    median_time_error: float | None  # relative |learned - true| / true, over correct pairs
    edge_agreement: float | None  # share of correct pairs whose known exit and entry edges match the truth's

    def to_dict(self) -> dict[str, Any]:
        return rounded(asdict(self))


def read_truth_links(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such links file")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    links = doc.get("links") if isinstance(doc, dict) else None
    if not isinstance(links, list):
        raise InputError(f"{path}: expected a mapping with 'links'")
    return links


def compare_links(learned: Sequence[_PairLink], truth: list[dict[str, Any]]) -> LinkComparison:
    """Precision/recall of learned camera pairs against true ones; travel-time error of the pairs found (a
    true pair's time: the sample-weighted mean over its edge variants)."""
    tp: dict[tuple[str, str], list[tuple[float, int, str | None, str | None]]] = {}
    for t in truth:
        tp.setdefault((str(t["src"]), str(t["dst"])), []).append(
            (float(t["mean_s"]), int(t.get("samples") or 1), t.get("exit_edge"), t.get("entry_edge"))
        )
    mine: dict[tuple[str, str], list] = {}
    for ln in learned:
        mine.setdefault((ln.src, ln.dst), []).append(ln)
    correct = [k for k in mine if k in tp]
    errs, edge_ok, edge_n = [], 0, 0
    within = 0
    for k in correct:
        rows = tp[k]
        w = sum(r[1] for r in rows)
        t_true = sum(r[0] * r[1] for r in rows) / w
        ln = mine[k][0]
        err = abs(ln.mean_s - t_true) / max(abs(t_true), 1.0)
        errs.append(err)
        within += int(err <= 0.2)
        if ln.exit_edge or ln.entry_edge:
            edge_n += 1
            edge_ok += int(
                any(
                    (ln.exit_edge in (None, r[2])) and (ln.entry_edge in (None, r[3]))
                    for r in rows
                )
            )
    n_true = len(tp)
    return LinkComparison(
        learned=len(mine),
        true=n_true,
        correct=len(correct),
        precision=len(correct) / len(mine) if mine else 0.0,
        recall=len(correct) / n_true if n_true else 0.0,
        within_20pct=within,
        recall_within_20pct=within / n_true if n_true else 0.0,
        median_time_error=float(np.median(errs)) if errs else None,
        edge_agreement=edge_ok / edge_n if edge_n else None,
    )
