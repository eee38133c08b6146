"""Search by a partial plate, measured through the search engine (issue 21: the right vehicle at rank 1 >= 0.95
when its plate was read).

The store holds what ingest would have stored: one vehicle sighting per tracklet (vehicle x camera) whose reads
voted a plate, with the vote's confidence and alternative readings. Every vehicle with at least one such
tracklet is looked for with three patterns made from its true plate, as an investigator types them: the four
serial digits anywhere (`3456`), the head and a wildcard (`12가*`, a regional or motorbike plate's province
included), the head's digits unknown (`??가3456`; motorbike plates have none, so they get `*가3456`). Rank 1
is right when the best hit (search order: score, then read confidence) is a tracklet of that vehicle; a tie
with another vehicle's plate is a miss. Nothing is tuned on it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from relaytrack.describe.plate_grammar import PlateVote, parse_plate

TARGET_RANK1 = 0.95
KINDS = ("serial", "head", "masked")


def patterns(plate: str) -> dict[str, str]:
    """The three partial patterns of a true plate (see the module docstring)."""
    p = parse_plate(plate)
    head = plate[: len(plate) - len(p.serial)]  # everything before the serial: province, type digits, class
    masked = "?" * len(p.type_digits) + p.cls + p.serial if p.type_digits else "*" + p.cls + p.serial
    return {"serial": p.serial, "head": head + "*", "masked": masked}


def score(tracklets: list[tuple[Any, PlateVote | None]]) -> dict[str, Any]:
    """`tracklets`: (vehicle key, the tracklet's vote or None), the key standing for one vehicle of one town
    (its true plate is `key[-1]`). Returns rank-1 per pattern kind and overall, with the queries counted."""
    import json

    from relaytrack.records import Sighting
    from relaytrack.search.plate import search_plate
    from relaytrack.store import Store
    from relaytrack.store.sightings import insert_sighting

    read = [(k, v) for k, v in tracklets if v is not None]
    owner: dict[int, Any] = {}
    hits: dict[str, list[bool]] = {k: [] for k in KINDS}
    with (
        tempfile.TemporaryDirectory(prefix="relaytrack-plate-search-") as tmp,
        Store(Path(tmp) / "s.db") as st,
    ):
        with st.tx() as conn:
            conn.execute("INSERT INTO cameras(id, name) VALUES ('P', 'plate bench')")
            for n, (key, v) in enumerate(read):
                s = Sighting(
                    id=0, camera="P", source_id=None, track_id=n + 1, kind="vehicle", class_name="car",
                    start=float(n), end=float(n) + 1.0, first_frame=n, last_frame=n + 1, wall_start=float(n),
                    wall_end=float(n) + 1.0, box=(0.0, 0.0, 10.0, 10.0), vehicle_type="car", plate=v.text,
                )  # fmt: skip
                sid = insert_sighting(conn, s)
                conn.execute(
                    "UPDATE sightings SET plate_conf=?, plate_alts=? WHERE id=?",
                    (v.confidence, json.dumps(v.alternatives, ensure_ascii=False), sid),
                )
                owner[sid] = key
        for key in sorted({k for k, _ in read}, key=str):
            for kind, pat in patterns(key[-1]).items():
                got = search_plate(st.conn, pat, top=3).hits
                hits[kind].append(bool(got) and owner.get(got[0].sighting.id) == key)
    queries = sum(len(v) for v in hits.values())
    right = sum(sum(v) for v in hits.values())
    rank1 = round(right / queries, 4) if queries else None
    return {
        "vehicles": len({k for k, _ in tracklets}),
        "vehicles_read": len({k for k, _ in read}),
        "queries": queries,
        "rank1": rank1,
        "by_pattern": {k: round(sum(v) / len(v), 4) if v else None for k, v in hits.items()},
        "target_rank1": TARGET_RANK1,
        "met": rank1 is not None and rank1 >= TARGET_RANK1,
    }
