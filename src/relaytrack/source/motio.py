"""Reading MOTChallenge files: detections per frame, ground truth, sequence folders."""

from __future__ import annotations

import configparser
from pathlib import Path

import numpy as np

from relaytrack.errors import InputError
from relaytrack.records import PERSON, Detections


def read_mot(path: Path) -> np.ndarray:
    """All rows of a MOT text file as an (N, >=7) float array (empty file -> (0, 10))."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from err
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rows.append([float(v) for v in line.replace(" ", "").split(",")])
        except ValueError as err:
            raise InputError(f"{path}:{n}: not a MOTChallenge line ({line[:60]!r})") from err
    if not rows:
        return np.zeros((0, 10))
    width = max(len(r) for r in rows)
    return np.array([r + [-1] * (width - len(r)) for r in rows], dtype=np.float64)


def load_detections(path: Path) -> dict[int, Detections]:
    """MOT detection file -> {frame: Detections of persons}."""
    arr = read_mot(path)
    out: dict[int, Detections] = {}
    for f in np.unique(arr[:, 0]).astype(int) if len(arr) else []:
        rows = arr[arr[:, 0] == f]
        xyxy = rows[:, 2:6].copy()
        xyxy[:, 2:] += xyxy[:, :2]
        out[int(f)] = Detections(xyxy, rows[:, 6], np.full(len(rows), PERSON))
    return out


def seqinfo(seq_dir: Path) -> dict[str, str]:
    cp = configparser.ConfigParser()
    cp.optionxform = str
    cp.read(seq_dir / "seqinfo.ini")
    return dict(cp["Sequence"]) if "Sequence" in cp else {}


def sequences(folder: Path) -> list[Path]:
    """MOTChallenge sequence folders (with img1/ or seqinfo.ini and gt/gt.txt) under folder, sorted."""
    folder = Path(folder)
    if (folder / "gt" / "gt.txt").is_file():
        return [folder]
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and (p / "gt" / "gt.txt").is_file() and (p / "img1").is_dir()
    )
