"""Merge shard stores into a main store (the multi-machine ingest writes one shard per source and node).

What is copied: cameras (the main store's row wins; missing width/height are filled in), sources (matched by
(camera, fingerprint)), sightings with their boxes, thumbnails and vectors. Sighting ids are remapped: a
shard's ids start at 1 like every store's, so they would collide. A sighting is identified across stores by
(source fingerprint, track id), the same key that makes a re-ingest idempotent, so merging a shard twice (or
merging a shard of a source the main store already ingested itself) adds nothing.

Each source's sightings are copied in short transactions of at most `batch` sightings, and the source is
marked complete only after its last batch: a merge killed half-way leaves the main store consistent (the
source "running"), and running the merge again completes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relaytrack.errors import StoreError
from relaytrack.store import vectors
from relaytrack.store.db import Error, Store, connect

_STATUS_RANK = {"failed": 0, "running": 1, "complete": 2}


@dataclass
class MergeReport:
    shard: str
    cameras: int = 0  # cameras new to the main store
    sources: int = 0  # sources new to the main store
    sightings: int = 0  # sightings copied
    skipped: int = 0  # sightings the main store already had
    boxes: int = 0
    thumbnails: int = 0
    vectors: int = 0
    source_ids: dict[int, int] = field(default_factory=dict)  # shard source id -> main source id

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "source_ids"}


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _open_shard(path: Path):
    if not path.is_file():
        raise StoreError(f"{path}: no such shard store")
    try:
        conn = connect(path, readonly=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except Error as err:
        raise StoreError(f"{path}: not a relaytrack store ({err})") from err
    missing = {"cameras", "sources", "sightings", "boxes", "thumbnails"} - tables
    if missing:
        conn.close()
        raise StoreError(f"{path}: not a relaytrack store (no table {', '.join(sorted(missing))})")
    return conn


def merge_shard(main: Store, shard_path: str | Path, *, batch: int = 500) -> MergeReport:
    """Copy one shard store into `main`; returns what was added. Idempotent."""
    shard_path = Path(shard_path)
    if shard_path.resolve() == Path(main.path).resolve():
        raise StoreError(f"{shard_path}: cannot merge a store into itself")
    rep = MergeReport(shard=str(shard_path))
    src = _open_shard(shard_path)
    try:
        width = vectors.dim(src)
        have = vectors.dim(main.conn)
        if width is not None and have is not None and width != have:
            raise StoreError(
                f"{shard_path}: embedding width {width} does not match the main store's ({have}); "
                "shards must come from the same embedder"
            )
        _merge_cameras(main, src, rep)
        for srow in src.execute("SELECT * FROM sources ORDER BY id").fetchall():
            _merge_source(main, src, srow, rep, batch)
        _merge_loose_sightings(main, src, rep, batch)
    finally:
        src.close()
    return rep


def merge_shards(main: Store, shard_paths, *, batch: int = 500) -> list[MergeReport]:
    return [merge_shard(main, p, batch=batch) for p in shard_paths]


def _merge_cameras(main: Store, src, rep: MergeReport) -> None:
    cols = [c for c in _columns(src, "cameras") if c in set(_columns(main.conn, "cameras"))]
    with main.tx() as conn:
        for row in src.execute(f"SELECT {', '.join(cols)} FROM cameras"):
            cur = conn.execute(
                f"INSERT OR IGNORE INTO cameras({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                tuple(row),
            )
            if cur.rowcount:
                rep.cameras += 1
            elif "width" in cols and "height" in cols:
                conn.execute(
                    "UPDATE cameras SET width=COALESCE(width, ?), height=COALESCE(height, ?) WHERE id=?",
                    (row["width"], row["height"], row["id"]),
                )


def _merge_source(main: Store, src, srow, rep: MergeReport, batch: int) -> None:
    main_cols = set(_columns(main.conn, "sources"))
    # Checkpoint state stays with its own store's sightings; it is carried over below only with them.
    cols = [
        c
        for c in _columns(src, "sources")
        if c in main_cols and c not in ("id", "status", "checkpoint_frame", "checkpoint_state", "error")
    ]
    with main.tx() as conn:
        row = conn.execute(
            "SELECT id FROM sources WHERE camera_id=? AND fingerprint=?",
            (srow["camera_id"], srow["fingerprint"]),
        ).fetchone()
        if row is None:
            cur = conn.execute(
                f"INSERT INTO sources({', '.join(cols)}, status) VALUES ({','.join('?' * (len(cols) + 1))})",
                (*[srow[c] for c in cols], "running"),
            )
            main_id = int(cur.lastrowid)
            rep.sources += 1
        else:
            main_id = int(row[0])
    rep.source_ids[int(srow["id"])] = main_id

    last = 0
    while True:
        rows = src.execute(
            "SELECT * FROM sightings WHERE source_id=? AND id>? ORDER BY id LIMIT ?",
            (srow["id"], last, batch),
        ).fetchall()
        if not rows:
            break
        last = int(rows[-1]["id"])
        with main.tx() as conn:
            for r in rows:
                exists = conn.execute(
                    "SELECT 1 FROM sightings WHERE source_id=? AND track_id=?", (main_id, r["track_id"])
                ).fetchone()
                if exists:
                    rep.skipped += 1
                    continue
                _copy_sighting(conn, src, r, main_id, rep)

    # The source's progress: complete wins; otherwise the furthest checkpoint (its sightings are now here).
    with main.tx() as conn:
        m = conn.execute("SELECT status, checkpoint_frame FROM sources WHERE id=?", (main_id,)).fetchone()
        s_rank, m_rank = _STATUS_RANK.get(srow["status"], 1), _STATUS_RANK.get(m["status"], 1)
        if s_rank > m_rank or (s_rank == m_rank == 1 and srow["checkpoint_frame"] > m["checkpoint_frame"]):
            conn.execute(
                "UPDATE sources SET status=?, checkpoint_frame=?, checkpoint_state=?, error=? WHERE id=?",
                (srow["status"], srow["checkpoint_frame"], srow["checkpoint_state"], srow["error"], main_id),
            )


def _merge_loose_sightings(main: Store, src, rep: MergeReport, batch: int) -> None:
    """Sightings without a source (not written by ingest, e.g. imported): identified by camera, track and
    start time."""
    last = 0
    while True:
        rows = src.execute(
            "SELECT * FROM sightings WHERE source_id IS NULL AND id>? ORDER BY id LIMIT ?", (last, batch)
        ).fetchall()
        if not rows:
            break
        last = int(rows[-1]["id"])
        with main.tx() as conn:
            for r in rows:
                exists = conn.execute(
                    "SELECT 1 FROM sightings WHERE source_id IS NULL AND camera_id=? AND track_id=?"
                    " AND wall_start=? AND first_frame=?",
                    (r["camera_id"], r["track_id"], r["wall_start"], r["first_frame"]),
                ).fetchone()
                if exists:
                    rep.skipped += 1
                    continue
                _copy_sighting(conn, src, r, None, rep)


def _copy_sighting(conn, src, r, main_source_id: int | None, rep: MergeReport) -> int:
    main_cols = set(_columns(conn, "sightings"))
    cols = [c for c in r.keys() if c in main_cols and c not in ("id", "source_id")]
    cur = conn.execute(
        f"INSERT INTO sightings(source_id, {', '.join(cols)}) VALUES ({','.join('?' * (len(cols) + 1))})",
        (main_source_id, *[r[c] for c in cols]),
    )
    new_id = int(cur.lastrowid)
    boxes = src.execute(
        "SELECT frame, t, x, y, w, h, conf FROM boxes WHERE sighting_id=?", (r["id"],)
    ).fetchall()
    conn.executemany(
        "INSERT OR REPLACE INTO boxes(sighting_id, frame, t, x, y, w, h, conf) VALUES (?,?,?,?,?,?,?,?)",
        [(new_id, *tuple(b)) for b in boxes],
    )
    rep.boxes += len(boxes)
    thumb = src.execute("SELECT jpeg FROM thumbnails WHERE sighting_id=?", (r["id"],)).fetchone()
    if thumb is not None:
        conn.execute("INSERT OR REPLACE INTO thumbnails(sighting_id, jpeg) VALUES (?, ?)", (new_id, thumb[0]))
        rep.thumbnails += 1
    vec = _shard_vector(src, r)
    if vec is not None:
        vectors.add(conn, new_id, vec)  # cell assignment follows the main store's IVF, if it has one
        rep.vectors += 1
    rep.sightings += 1
    return new_id


def _shard_vector(src, r) -> np.ndarray | None:
    # The vec0 row is the indexed copy; the sightings column is the same vector (kept for re-indexing).
    if vectors.dim(src) is not None:
        row = src.execute(f"SELECT embedding FROM {vectors.TABLE} WHERE sighting_id=?", (r["id"],)).fetchone()
        if row is not None:
            return np.frombuffer(row[0], dtype=np.float32)
    if r["embedding"] is not None:
        return np.frombuffer(r["embedding"], dtype=np.float32)
    return None
