"""`relaytrack bench plates`: plate-read accuracy on the real photographs of ../shared/data/korean-plates-dev.

Protocol: the images are grouped by plate (frames of one car stay together) and each plate goes to the
"tune" or the "held-out" part by the parity of the SHA-1 of its text, a split that does not depend on file
order or on the reader. The reader's thresholds were chosen by looking at the tune part only; the figures
reported are on the held-out part. The dev set's own README asks that it not stand in for the project's
held-out test set: these are development figures on a plate-disjoint half of it.
"""

from __future__ import annotations

import csv
import hashlib
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.errors import InputError

PROTOCOL = (
    "korean-plates-dev, split by plate (SHA-1(plate text) even = tune, odd = held-out); reader tuned on the "
    "tune part only; figures on the held-out part (a dev-set half, not the project's held-out test set)"
)


@dataclass
class PlateCase:
    file: str
    plate: str
    kind: str  # crop | scene


@dataclass
class PlateBench:
    protocol: str
    part: str
    images: int
    plates: int
    exact: float  # share of images whose best read equals the label
    within_one: float  # share with at most one character wrong (same length)
    char_accuracy: float  # matching characters at the same position over label characters
    read_rate: float  # share of images with any valid plate read
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds_per_image: float = 0.0
    misses: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def part_of(plate: str) -> str:
    return "tune" if int(hashlib.sha1(plate.encode()).hexdigest(), 16) % 2 == 0 else "held-out"


def load_cases(root: Path, part: str) -> list[PlateCase]:
    labels = root / "labels.csv"
    if not labels.exists():
        raise InputError(f"{root}: no labels.csv (expected the korean-plates-dev layout)")
    with labels.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        PlateCase(str(root / r["file"]), r["plate"], r["kind"])
        for r in rows
        if part == "all" or part_of(r["plate"]) == part
    ]


def _char_hits(a: str, b: str) -> int:
    return sum(x == y for x, y in zip(a, b, strict=False))


def run(root: Path, *, part: str = "held-out", limit: int | None = None) -> PlateBench:
    import cv2

    from relaytrack.describe import plate as reader

    why = reader.status()
    if why:
        raise InputError(why)
    cases = load_cases(root, part)[:limit]
    if not cases:
        raise InputError(f"{root}: no images in part {part!r}")
    exact = within = chars = total_chars = read = 0
    kinds: dict[str, list[int]] = {}
    misses = []
    t0 = time.perf_counter()
    for c in cases:
        img = cv2.imread(c.file, cv2.IMREAD_COLOR)
        reads = reader.read_image(img) if img is not None else []
        got = reads[0].text if reads else ""
        ok = got == c.plate
        exact += ok
        within += len(got) == len(c.plate) and _char_hits(got, c.plate) >= len(c.plate) - 1
        chars += _char_hits(got, c.plate)
        total_chars += len(c.plate)
        read += bool(reads)
        k = kinds.setdefault(c.kind, [0, 0])
        k[0] += ok
        k[1] += 1
        if not ok:
            misses.append({"file": Path(c.file).name, "plate": c.plate, "read": got})
    n = len(cases)
    return PlateBench(
        protocol=PROTOCOL,
        part=part,
        images=n,
        plates=len({c.plate for c in cases}),
        exact=round(exact / n, 4),
        within_one=round(within / n, 4),
        char_accuracy=round(chars / max(total_chars, 1), 4),
        read_rate=round(read / n, 4),
        by_kind={k: {"images": v[1], "exact": round(v[0] / v[1], 4)} for k, v in sorted(kinds.items())},
        seconds_per_image=round((time.perf_counter() - t0) / n, 3),
        misses=misses,
    )


def tune_glyphs(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Glyph patches cut from the *tune* part's crops (never the held-out part), labelled from the plate text,
    for training the character classifier: each crop's split is the one under which the current model
    finds the label most likely (a forced alignment); crops no split fits the label's layout are skipped."""
    import cv2

    from relaytrack.describe import plate as reader
    from relaytrack.describe import plate_chars
    from relaytrack.describe.plate_segment import layouts

    model = plate_chars.load()
    xs, ys = [], []
    for c in load_cases(root, "tune"):
        assert part_of(c.plate) == "tune"
        img = cv2.imread(c.file, cv2.IMREAD_GRAYSCALE)
        if img is None or c.kind != "crop":
            continue
        gray = reader.scaled(img)
        shape = "".join("d" if ch.isdigit() else "H" for ch in c.plate)
        best, best_ll = None, -np.inf
        for lay in layouts(gray):
            if lay.kinds != shape:
                continue
            x = np.stack([plate_chars.patch(gray, b, lay.dark_text) for b in lay.boxes])
            p = model.probs(x)
            ll = float(
                sum(np.log(p[i, plate_chars.CLASSES.index(ch)] + 1e-6) for i, ch in enumerate(c.plate))
            )
            if ll > best_ll:
                best, best_ll = x, ll
        if best is not None:
            xs.extend(best)
            ys.extend(plate_chars.CLASSES.index(ch) for ch in c.plate)
    return np.asarray(xs, np.float32).reshape(-1, plate_chars.DIM), np.asarray(ys, np.int64)
