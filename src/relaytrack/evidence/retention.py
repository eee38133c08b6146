"""Retention: footage-derived data older than the configured period is purged unless a case holds it.

"Footage-derived" = sightings with their boxes, thumbnails (crops) and embeddings (the row's blob and the
sqlite-vec index), and rows of other stages' tables that point at those sightings. Age is the recording time
(`sightings.wall_end`), not the ingest time: the law counts from when the camera filmed. A sighting is held
while an open case with legal_hold lists it in case_sightings. Every purge, including a dry run, is written to
the audit chain with the counts and the cut-off.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from relaytrack.errors import InputError
from relaytrack.evidence import audit
from relaytrack.store import vectors

DEFAULT_DAYS = 30.0  # the usual retention of Seoul's public CCTV footage
SYSTEM_USER = "system:retention"


def configured_days(conn) -> float:
    """The retention period: RELAYTRACK_RETENTION_DAYS, else meta 'retention_days', else 30 days."""
    env = os.environ.get("RELAYTRACK_RETENTION_DAYS")
    if env:
        return float(env)
    row = conn.execute("SELECT value FROM meta WHERE key='retention_days'").fetchone()
    return float(row[0]) if row else DEFAULT_DAYS


@dataclass
class PurgeResult:
    cutoff: float
    days: float
    dry_run: bool
    sightings: int = 0
    boxes: int = 0
    thumbnails: int = 0
    embeddings: int = 0
    held: int = 0
    other_rows: dict[str, int] = field(default_factory=dict)
    audit_seq: int | None = None

    def as_dict(self) -> dict:
        return {
            "cutoff": self.cutoff,
            "days": self.days,
            "dry_run": self.dry_run,
            "sightings": self.sightings,
            "boxes": self.boxes,
            "thumbnails": self.thumbnails,
            "embeddings": self.embeddings,
            "held": self.held,
            "other_rows": self.other_rows,
            "audit_seq": self.audit_seq,
        }


def vector_tables(conn) -> list[str]:
    # The index table by name (a plain table on PostgreSQL, where the catalog keeps no CREATE text), and on
    # SQLite any vec0 virtual table of the family, but not the shadow tables vec0 keeps beside it.
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE (type='table' AND name=?)"
            " OR ((name LIKE 'vec_sightings%' OR name LIKE 'sighting_vec%') AND sql LIKE 'CREATE VIRTUAL TABLE%')",
            (vectors.TABLE,),
        )
    ]


def _referencing_tables(conn) -> list[tuple[str, str, str]]:
    """(table, column, on_delete) for every foreign key onto sightings outside the core cascade tables."""
    out = []
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        if name in ("boxes", "thumbnails", "case_sightings") or name.startswith(("sqlite_", "vec_")):
            continue
        for fk in conn.execute(f'PRAGMA foreign_key_list("{name}")'):
            if fk[2] == "sightings":
                out.append((name, fk[3], str(fk[6]).upper()))
    return out


def purge(
    conn,
    db_path: Path | None,
    *,
    days: float | None = None,
    dry_run: bool = False,
    user: str | None = None,
    now: float | None = None,
) -> PurgeResult:
    """Delete (or with dry_run count) unheld footage-derived data older than `days`; returns the counts."""
    days = configured_days(conn) if days is None else float(days)
    if not 0 <= days <= 3650:
        raise InputError(f"retention period {days} days refused: 0..3650")
    cutoff = (time.time() if now is None else now) - days * 86400.0
    res = PurgeResult(cutoff, days, dry_run)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _purge(id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM _purge")
        held_sql = (
            "SELECT cs.sighting_id FROM case_sightings cs JOIN cases c ON c.case_no = cs.case_no"
            " WHERE c.status='open' AND c.legal_hold=1"
        )
        conn.execute(
            f"INSERT INTO _purge SELECT id FROM sightings WHERE wall_end < ? AND id NOT IN ({held_sql})",
            (cutoff,),
        )
        res.held = conn.execute(
            f"SELECT COUNT(*) FROM sightings WHERE wall_end < ? AND id IN ({held_sql})", (cutoff,)
        ).fetchone()[0]
        res.sightings = conn.execute("SELECT COUNT(*) FROM _purge").fetchone()[0]
        res.boxes = conn.execute(
            "SELECT COUNT(*) FROM boxes WHERE sighting_id IN (SELECT id FROM _purge)"
        ).fetchone()[0]
        res.thumbnails = conn.execute(
            "SELECT COUNT(*) FROM thumbnails WHERE sighting_id IN (SELECT id FROM _purge)"
        ).fetchone()[0]
        res.embeddings = conn.execute(
            "SELECT COUNT(*) FROM sightings WHERE embedding IS NOT NULL AND id IN (SELECT id FROM _purge)"
        ).fetchone()[0]
        vec_cols = {}
        for t in vector_tables(conn):
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
            col = "sighting_id" if "sighting_id" in cols else "rowid"
            vec_cols[t] = col
            n = conn.execute(f'SELECT COUNT(*) FROM "{t}" WHERE {col} IN (SELECT id FROM _purge)').fetchone()[
                0
            ]
            res.other_rows[t] = n
        refs = _referencing_tables(conn)
        for table, col, on_delete in refs:
            n = conn.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{col}" IN (SELECT id FROM _purge)'
            ).fetchone()[0]
            if n:
                res.other_rows[f"{table}.{col}"] = n
        if not dry_run:
            for t, col in vec_cols.items():
                conn.execute(f'DELETE FROM "{t}" WHERE {col} IN (SELECT id FROM _purge)')
            for table, col, on_delete in refs:
                if on_delete == "SET NULL":
                    conn.execute(
                        f'UPDATE "{table}" SET "{col}"=NULL WHERE "{col}" IN (SELECT id FROM _purge)'
                    )
                elif on_delete != "CASCADE":
                    conn.execute(f'DELETE FROM "{table}" WHERE "{col}" IN (SELECT id FROM _purge)')
            # Boxes and thumbnails go with their sighting (ON DELETE CASCADE); deleted explicitly as well in case
            # a connection runs with foreign keys off.
            conn.execute("DELETE FROM boxes WHERE sighting_id IN (SELECT id FROM _purge)")
            conn.execute("DELETE FROM thumbnails WHERE sighting_id IN (SELECT id FROM _purge)")
            conn.execute("DELETE FROM sightings WHERE id IN (SELECT id FROM _purge)")
        conn.execute("DELETE FROM _purge")
        res.audit_seq = audit.append(
            conn,
            db_path,
            user=user or SYSTEM_USER,
            case=None,
            action="purge",
            detail={k: v for k, v in res.as_dict().items() if k != "audit_seq"},
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if db_path is not None:
        audit.sync_anchor(conn, db_path)
    return res
