"""`relaytrack bench colours`: how often the stored clothing colours are right, on the relay bench's towns.

The description search ranks people by the upper and lower colours ingest stored for them, and the relay's
attribute term compares them hop to hop: a colour read wrong puts the suspect below the look-alikes (issue 15's
"clothing colour names taken from the right part"). Every person the town renders has its true upper and lower
colour and carried items (truth.json "people"); a stored person sighting is that person where its boxes match
the person's ground-truth boxes (`bench.truth.sighting_identities`). Read from the stores `bench relay` made,
never re-analysed: this is what the system searched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from relaytrack.errors import InputError

PARTS = ("upper", "lower")
BAGS = ("backpack", "handbag", "suitcase")


def _group(items: Iterable[str]) -> str:
    """What a person carries, as far as it can hide the torso: a backpack, another bag, or neither."""
    items = set(items)
    if "backpack" in items:
        return "backpack"
    return "other bag" if items & set(BAGS) else "no bag"


def _zero() -> Counter:
    """Counts of no sighting yet: {"sightings", "upper_right", "lower_right"} all 0."""
    return Counter({"sightings": 0, **{f"{p}_right": 0 for p in PARTS}})


def _summary(counts: Mapping[str, int]) -> dict[str, Any]:
    """Counts {"sightings", "upper_right", "lower_right"} with the accuracies they give (None for nothing)."""
    n = counts["sightings"]
    return {
        "sightings": n,
        **{f"{p}_right": counts[f"{p}_right"] for p in PARTS},
        **{f"{p}_accuracy": round(counts[f"{p}_right"] / n, 4) if n else None for p in PARTS},
    }


def _counted(groups: Mapping[str, Counter]) -> dict[str, Any]:
    """The whole and each group of what people carry, summarised from their counts."""
    whole = _zero()
    for c in groups.values():
        whole.update(c)
    return {**_summary(whole), "by_carried": {g: _summary(c) for g, c in sorted(groups.items())}}


def score_sightings(rows: Iterable[tuple[int, str | None, str | None]], identities: Mapping[int, Any],
                    people: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """rows: (sighting id, stored upper colour, stored lower colour) of person sightings; identities: sighting
    id -> true person id (None: nobody); people: truth.json "people". Sightings of nobody, or of a person the
    truth gives no colours for, are not scored. Returns counts, accuracies by part and by what the person
    carries, and the commonest confusions."""
    by_group: dict[str, Counter] = {}
    confusions = {p: Counter() for p in PARTS}
    for sid, upper, lower in rows:
        who = identities.get(sid)
        truth = people.get(str(who)) if who is not None else None
        if not truth or not all(truth.get(p) for p in PARTS):
            continue
        group = by_group.setdefault(_group(truth.get("items") or ()), _zero())
        group["sightings"] += 1
        for part, got in zip(PARTS, (upper, lower), strict=True):
            if got == truth[part]:
                group[f"{part}_right"] += 1
            else:
                confusions[part][f"{truth[part]} -> {got or 'none'}"] += 1
    return {**_counted(by_group), "confusions": {p: dict(confusions[p].most_common(6)) for p in PARTS}}


def score_town(tdir: Path, db: Path) -> dict[str, Any]:
    """One rendered town and the store `bench relay` ingested it into."""
    from relaytrack import town as town_mod
    from relaytrack.bench.truth import town_identities
    from relaytrack.store import Store

    if not db.is_file() or not (tdir / "truth.json").is_file():
        raise InputError(
            f"{db.name}: no ingested town there; `relaytrack bench relay` renders and ingests it first"
        )
    store = Store(db)
    try:
        net = yaml.safe_load((tdir / "cameras.yaml").read_text(encoding="utf-8"))
        identities = town_identities(store.conn, tdir, [c["id"] for c in net["cameras"]])
        rows = store.conn.execute(
            "SELECT id, upper_color, lower_color FROM sightings WHERE kind='person' AND superseded_by IS NULL"
        ).fetchall()
        return score_sightings([tuple(r) for r in rows], identities, town_mod.load_truth(tdir)["people"])
    finally:
        store.close()


def run(seeds: list[int], work: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every town of `seeds` in `work` (the relay bench's folder and town shape), and all pooled."""
    from relaytrack.bench.relay_heldout import TownOptions

    opts = TownOptions()
    towns = {}
    for seed in seeds:
        say(f"town {seed}")
        name = opts.name(seed)
        towns[seed] = score_town(work / name, work / f"{name}.db")
    groups: dict[str, Counter] = {}
    for t in towns.values():
        for g, c in t["by_carried"].items():
            groups.setdefault(g, Counter()).update(
                {k: c[k] for k in ("sightings", "upper_right", "lower_right")}
            )
    return {"seeds": seeds, "work": str(work), "towns": towns, "pooled": _counted(groups)}
