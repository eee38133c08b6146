"""The store learns its camera links from its own traffic as footage comes in, the way a deployment would.

A register gives positions, headings and fields of view, not links; the links inferred from it are guesses
(on held-out detection-level towns 0.43 of them are real). Once the store holds `links.auto_min_sightings`
person sightings, the links are learned from them (`relay.learn_links`, no labels) and stored
(`store_learned`: a learned link replaces its pair's map guess, a camera whose learned exits hold most of
its departures loses its other map guesses, file links stay), and again
each time the store has grown `links.auto_growth`-fold since. Stores with more than `links.auto_max_cameras`
cameras are left alone: every camera pair is tested, which a city needs district by district. What was done
is kept in meta (`links_learned`), so every ingest process agrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from relaytrack.config import Config
from relaytrack.relay.learn_links import learn_links, store_learned
from relaytrack.store import Store

META_KEY = "links_learned"


@dataclass(frozen=True)
class LinkReadiness:
    """Whether the store is due for (re-)learning its links, and why (or why not)."""

    due: bool
    sightings: int  # person sightings counted (0 when the configuration or the camera count ruled it out)
    cameras: int
    learned_from: int  # sightings the stored learned links came from (0: none yet)
    reason: str


def learned_from(conn) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
    return int(json.loads(row[0]).get("sightings", 0)) if row else 0


def readiness(store: Store, cfg: Config) -> LinkReadiness:
    c = cfg.links
    if not c.auto_learn:
        return LinkReadiness(False, 0, 0, 0, "links.auto_learn is off")
    conn = store.conn
    cams = int(conn.execute("SELECT COUNT(*) FROM cameras").fetchone()[0])
    done = learned_from(conn)
    # The camera count first: counting sightings reads an index of the whole store.
    if cams > c.auto_max_cameras:
        return LinkReadiness(False, 0, cams, done,
                             f"{cams} cameras: more than links.auto_max_cameras ({c.auto_max_cameras}); "
                             "learn per district with `cameras links --learn`")  # fmt: skip
    n = int(conn.execute("SELECT COUNT(*) FROM sightings WHERE kind='person'").fetchone()[0])
    if n < c.auto_min_sightings:
        return LinkReadiness(False, n, cams, done,
                             f"{n} person sightings; links are learned from {c.auto_min_sightings}")  # fmt: skip
    if done and n < c.auto_growth * done:
        return LinkReadiness(False, n, cams, done,
                             f"links learned from {done} sightings; again at {int(c.auto_growth * done)}")  # fmt: skip
    return LinkReadiness(True, n, cams, done, f"{n} person sightings on {cams} cameras")


def maybe_learn(store: Store, cfg: Config, ready: LinkReadiness | None = None) -> dict[str, Any] | None:
    """Learn and store the links when they are due (`ready`: a `readiness` the caller already has); None when
    they are not. Traffic that settles no link is not an error: the links stay as they were."""
    ready = ready or readiness(store, cfg)
    if not ready.due:
        return None
    with store.tx() as conn:
        res = learn_links(conn)
        stored = store_learned(conn, res) if res.links else {"stored": 0, "map_links_dropped": 0}
        doc = {"sightings": ready.sightings, "links": stored["stored"]}
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (META_KEY, json.dumps(doc)))
    return {
        "learned": bool(res.links),
        "sightings": ready.sightings,
        "cameras": ready.cameras,
        "links": stored["stored"],
        "map_links_dropped": stored["map_links_dropped"],
        "unestimated": len(res.unestimated),
    }
