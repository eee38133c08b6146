"""Reading open-data tables the way they come: UTF-8 with or without BOM, CP949, KOSIS multi-row headers.

Rows that cannot be used are never dropped silently: each is counted by reason in a `BadRows` ledger
that ends up in summary.json, with the first few messages naming file and row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.errors import InputError

MAX_EXAMPLES = 5


@dataclass
class BadRows:
    """Per-layer ledger of rows read, kept and skipped (by reason)."""

    layer: str
    path: str
    encoding: str = "utf-8"
    read: int = 0
    kept: int = 0
    filtered: int = 0  # rows left out on purpose by a `where` filter (e.g. closed bars): not bad
    bad: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def skip(self, row: int, reason: str, detail: str) -> None:
        self.bad[reason] = self.bad.get(reason, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{self.path}:{row}: {detail}")

    @property
    def bad_total(self) -> int:
        return sum(self.bad.values())

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "encoding": self.encoding,
            "read": self.read,
            "kept": self.kept,
            "filtered": self.filtered,
            "bad": dict(self.bad),
            "bad_total": self.bad_total,
            "examples": list(self.examples),
        }


def decode(path: Path) -> tuple[str, str]:
    """Text of a file and the encoding used. UTF-8 (BOM or not) first, then CP949 (Korean public data)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from err
    for enc in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    # Neither decodes cleanly: keep the one with fewer replacement marks; rows holding a mark are skipped
    # as `encoding` by the callers, so one broken byte costs one row, not the file.
    texts = [(raw.decode(enc, errors="replace"), f"{enc}-broken") for enc in ("utf-8", "cp949")]
    return min(texts, key=lambda t: t[0].count("\ufffd"))


def read_rows(path: Path) -> tuple[list[list[str]], str]:
    """All CSV rows (list of cells) and the encoding."""
    text, enc = decode(path)
    try:
        return list(csv.reader(io.StringIO(text))), enc
    except csv.Error as err:
        raise InputError(f"{path}: not a readable CSV: {err}") from err


def read_records(path: Path, required: list[str]) -> tuple[list[str], list[list[str]], str]:
    """Header, data rows and encoding of a one-header CSV; missing required columns raise InputError."""
    rows, enc = read_rows(path)
    if not rows:
        raise InputError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; the header has "
            f"{', '.join(h for h in header if h) or 'no names'}"
        )
    return header, rows[1:], enc


def number(text: str) -> float | None:
    """'1,066' -> 1066.0; '-' (KOSIS for zero) -> 0.0; blank or junk -> None."""
    t = text.strip().replace(",", "")
    if t in ("-", "−"):
        return 0.0
    if not t:
        return None
    try:
        return float(t)
    except ValueError:
        return None


@dataclass
class KosisTable:
    """A KOSIS-style table: several header rows (one per level) over one row per area."""

    path: Path
    columns: list[tuple[str, ...]]  # header levels per column, e.g. ('2019', '합계', '소계', '발생')
    rows: list[list[str]]
    encoding: str

    def find(self, *parts: str) -> list[int]:
        """Indices of columns whose header levels contain every part."""
        return [i for i, col in enumerate(self.columns) if all(p in col for p in parts)]


def read_kosis(path: Path) -> KosisTable:
    """Header rows are the leading rows that repeat the first row's first cell (자치구별(1), 동별(1) ...)."""
    rows, enc = read_rows(path)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: empty table")
    head = rows[0][0].strip()
    n = 1
    while n < len(rows) and rows[n] and rows[n][0].strip() == head:
        n += 1
    width = max(len(r) for r in rows[:n])
    cols = [tuple(r[i].strip() if i < len(r) else "" for r in rows[:n]) for i in range(width)]
    return KosisTable(path=path, columns=cols, rows=rows[n:], encoding=enc)
