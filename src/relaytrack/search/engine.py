"""Ranked search over stored sightings: by description (attributes) and by example (embedding).

Description search is exact top-K under the score of relaytrack.search.score without a full scan: the
sightings are split into tiers by their stored attribute values (e.g. every (upper, lower) colour pair),
each tier's best possible score is known from its values, and tiers are read best-first through indexes,
page by page in falling confidence, until the K-th best score found beats every unread tier's bound.
When the time/camera filters leave few rows (<= SMALL_SET), those rows are simply all scored.

Example search asks the store's vector shards (relaytrack.store.shards, district x day, built by `relaytrack
city index`) when it has them, only those the filter's districts and time window touch, else the store's own
vector index (relaytrack.store.vectors, IVF on large stores), for the nearest sightings, filters them by
time/place/kind in SQL, widens the ask when too few survive, and blends appearance with attribute agreement
when the example has attributes (a stored sighting does).
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from relaytrack.clock import KST
from relaytrack.errors import InputError, NotFound
from relaytrack.records import Sighting
from relaytrack.search.query import COLOR_NAMES, Query
from relaytrack.search.score import ATTR_COLUMNS, bound, reasons, score_rows
from relaytrack.store import vectors
from relaytrack.store.sightings import get_sighting, get_sightings

SMALL_SET = 30_000  # filtered rows scored directly instead of walking tiers / the vector index
FIRST_PAGE = 256
MAX_PAGE = 16_384
APPEARANCE_WEIGHT = 0.75  # example search: share of appearance vs attribute agreement
_TZ_OFFSET = int(KST.utcoffset(None).total_seconds())


@dataclass
class Hit:
    sighting: Sighting
    score: float
    reasons: list[str]

    def public(self) -> dict[str, Any]:
        return {**self.sighting.public(), "score": round(float(self.score), 4), "reasons": self.reasons}


@dataclass
class SearchResult:
    hits: list[Hit]
    query: dict[str, Any]
    message: str | None = None  # why the list is empty, when it is
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class Filters:
    """Hard filters: a sighting must overlap [time_from, time_to], be within the time-of-day window, on one of
    the cameras / in one of the districts, and of the kind."""

    time_from: float | None = None
    time_to: float | None = None
    tod_from: int | None = None
    tod_to: int | None = None
    cameras: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    kind: str | None = None

    @classmethod
    def from_query(cls, q: Query) -> Filters:
        return cls(q.time_from, q.time_to, q.tod_from, q.tod_to, list(q.cameras), list(q.districts), q.kind)

    def merged(self, other: Filters) -> Filters:
        """Options given on the command line narrow what the text said."""
        tf = max((t for t in (self.time_from, other.time_from) if t is not None), default=None)
        tt = min((t for t in (self.time_to, other.time_to) if t is not None), default=None)
        cams = (
            [c for c in self.cameras if not other.cameras or c in other.cameras]
            if self.cameras
            else other.cameras
        )
        return Filters(
            tf,
            tt,
            self.tod_from if self.tod_from is not None else other.tod_from,
            self.tod_to if self.tod_to is not None else other.tod_to,
            cams,
            self.districts or other.districts,
            other.kind or self.kind,
        )

    def selective(self) -> bool:
        return bool(self.time_from is not None or self.time_to is not None or self.cameras or self.districts)

    def sql(self) -> tuple[str, list[Any]]:
        where, params = [], []
        if self.kind:
            where.append("kind = ?")
            params.append(self.kind)
        if self.time_from is not None:
            where.append("wall_end >= ?")
            params.append(self.time_from)
        if self.time_to is not None:
            where.append("wall_start <= ?")
            params.append(self.time_to)
        if self.tod_from is not None and self.tod_to is not None:
            tod = f"((CAST(wall_start AS INTEGER) + {_TZ_OFFSET}) % 86400)"
            if self.tod_from <= self.tod_to:
                where.append(f"{tod} BETWEEN ? AND ?")
            else:  # a window across midnight
                where.append(f"NOT ({tod} > ? AND {tod} < ?)")
                params.extend([self.tod_to, self.tod_from])
            if self.tod_from <= self.tod_to:
                params.extend([self.tod_from, self.tod_to])
        if self.cameras:
            where.append(f"camera_id IN ({','.join('?' * len(self.cameras))})")
            params.extend(self.cameras)
        if self.districts:
            where.append(
                f"camera_id IN (SELECT id FROM cameras WHERE district IN ({','.join('?' * len(self.districts))}))"
            )
            params.extend(self.districts)
        return (" AND ".join(where) or "1=1"), params


def check_store(conn, f: Filters) -> str | None:
    """Why nothing can match (empty store, window outside the recording, unknown cameras), or None."""
    if conn.execute("SELECT 1 FROM sightings LIMIT 1").fetchone() is None:
        return (
            "the store holds no sightings yet (run `relaytrack ingest` or `relaytrack city simulate` first)"
        )
    if f.time_from is not None and f.time_to is not None and f.time_from > f.time_to:
        raise InputError("time window ends before it starts (--from is after --to)")
    lo = conn.execute("SELECT MIN(wall_start) FROM sightings").fetchone()[0]
    hi = conn.execute("SELECT MAX(wall_end) FROM sightings").fetchone()[0]
    if (f.time_to is not None and f.time_to < lo) or (f.time_from is not None and f.time_from > hi):
        from relaytrack.clock import to_seoul_iso as iso

        return f"the time window does not overlap the recordings in this store ({iso(lo)} .. {iso(hi)})"
    if f.cameras:
        known = {
            r[0]
            for r in conn.execute(
                f"SELECT id FROM cameras WHERE id IN ({','.join('?' * len(f.cameras))})", f.cameras
            )
        }
        unknown = [c for c in f.cameras if c not in known]
        if unknown and not known:
            return f"unknown camera(s): {', '.join(unknown)}"
    return None


def _small_set(conn, where: str, params: list[Any], cols: str) -> list[Any] | None:
    rows = conn.execute(
        f"SELECT {cols} FROM sightings WHERE {where} LIMIT {SMALL_SET + 1}", params
    ).fetchall()
    return rows if len(rows) <= SMALL_SET else None


@dataclass(order=True)
class _Tier:
    neg_bound: float
    seq: int
    where: str = field(compare=False)
    params: list[Any] = field(compare=False)
    order_expr: str | None = field(default=None, compare=False)  # read best-first by this confidence
    bound_at: Any = field(default=None, compare=False)  # confidence last read -> bound of the unread rest
    last: tuple[Any, ...] | None = field(default=None, compare=False)  # keyset position
    page: int = field(default=FIRST_PAGE, compare=False)  # grows x4 per read: most tiers need one small page


def _item_expr(item: str) -> str:
    # Must match the expression of the indexes in relaytrack.search.schema to use them.
    return f"json_extract(items, '$.\"{item}\"')"


# Must match the expression of sightings_conf_sum (relaytrack.search.schema) for the index to serve it.
SUM_ORDER = "(upper_conf + lower_conf)"


def partial_sum_bound(full: float, a: float, b: float):
    """Bound of the rows not read yet when reading by s = upper_conf + lower_conf: the score falls short of
    `full` by a*(1 - upper_conf) + b*(1 - lower_conf); with u + l <= s (each <= 1) the least shortfall puts
    the confidence on the larger weight first."""
    hi, lo = max(a, b), min(a, b)

    def at(s: float) -> float:
        s = min(max(s, 0.0), 2.0)
        return full - (lo * (2.0 - s) if s >= 1.0 else hi * (1.0 - s) + lo)

    return at


# Items with an (kind, upper_color, upper_conf + item) index (relaytrack.search.schema 004_upper_item).
ITEM_INDEXED = ("backpack", "handbag", "suitcase", "umbrella", "cell phone")


def upper_item_bound(full: float, a: float, b: float, partial: float):
    """Bound of the unread rows when reading by s = upper_conf + item_conf: as `partial_sum_bound`, except
    that the item's credit is at least `partial` (a similar item held instead), so a row with a weak asked
    item may still earn `partial` with all of s on the upper colour."""
    both = partial_sum_bound(full, a, b)

    def at(s: float) -> float:
        return max(both(s), full - a * (1.0 - min(max(s, 0.0), 1.0)) - b * (1.0 - partial))

    return at


def _tiers(q: Query, plate_max: float) -> list[_Tier]:
    """Partition of the sightings (of q.kind) by stored attribute values, each with its score bound."""
    from relaytrack.search.score import ITEM_SIMILAR, color_sim, weights

    values = [*COLOR_NAMES, None]
    w = weights(q)
    wsum = sum(w.values()) or 1.0
    tiers: list[_Tier] = []

    def eq(col: str, v: Any) -> tuple[str, list[Any]]:
        return (f"{col} IS NULL", []) if v is None else (f"{col} = ?", [v])

    def add(bd: float, where: str, params: list[Any], order: str | None = None, at: Any = None) -> None:
        tiers.append(_Tier(-bd, len(tiers), where, params, order, at))

    if q.kind == "vehicle" and (q.vehicle_type or q.vehicle_color):
        from relaytrack.records import VEHICLE_CLASSES

        for vt in [*VEHICLE_CLASSES, None]:
            for vc in values:
                (a, pa), (b, pb) = eq("vehicle_type", vt), eq("vehicle_color", vc)
                add(bound(q, vehicle_type=vt, vehicle_color=vc, plate_max=plate_max), f"{a} AND {b}", pa + pb)
        # Vehicles with a type outside the list (a store from another detector).
        add(
            bound(q, vehicle_type="?", plate_max=plate_max),
            f"vehicle_type NOT IN ({','.join('?' * len(VEHICLE_CLASSES))})",
            list(VEHICLE_CLASSES),
        )
        return tiers
    if q.upper:
        # Split by (upper, lower) when lower is asked, else by upper alone: an index serves either order.
        for u in values:
            for lo in values if q.lower else [...]:
                (a, pa), (b, pb) = (
                    eq("upper_color", u),
                    (eq("lower_color", lo) if lo is not ... else ("1=1", [])),
                )
                full = bound(q, upper=u, lower=lo if q.lower else ..., plate_max=plate_max)
                step = w["upper"] * color_sim(q.upper, u) / wsum
                step_lo = w["lower"] * color_sim(q.lower, lo) / wsum if q.lower else 0.0
                order = "upper_conf"

                def at(conf: float, full: float = full, step: float = step) -> float:
                    return full - step * (1.0 - conf)  # upper credit is similarity x confidence

                if step > 0 and step_lo > 0:  # both colours count: read by the sum of their confidences
                    order = SUM_ORDER
                    at = partial_sum_bound(full, step, step_lo)

                if q.items:  # rows without the item cannot reach `full`: read them (if ever) after the rest
                    ie = _item_expr(q.items[0])
                    n, partial = len(q.items), max(ITEM_SIMILAR.values())
                    item_order, item_at = order, at
                    if not q.lower and step > 0 and q.items[0] in ITEM_INDEXED:
                        # Read by upper + item confidence (sightings_upper_<item>): bounded by both.
                        item_order = f"(upper_conf + {ie})"
                        item_at = upper_item_bound(full, step, w["items"] / wsum / n, partial)
                    low = bound(
                        q,
                        upper=u,
                        lower=lo if q.lower else ...,
                        items_max=(n - 1 + partial) / n,
                        plate_max=plate_max,
                    )
                    low_at = (
                        partial_sum_bound(low, step, step_lo)
                        if order == SUM_ORDER
                        else lambda conf, low=low, step=step: low - step * (1.0 - conf)
                    )
                    add(full, f"{a} AND {b} AND {ie} IS NOT NULL", pa + pb, item_order, item_at)
                    add(low, f"{a} AND {b} AND {ie} IS NULL", pa + pb, order, low_at)
                else:
                    add(full, f"{a} AND {b}", pa + pb, order, at)
        return tiers
    if q.lower:
        for lo in values:
            a, pa = eq("lower_color", lo)
            full = bound(q, lower=lo, plate_max=plate_max)
            step = w["lower"] * color_sim(q.lower, lo) / wsum
            add(full, a, pa, "lower_conf", lambda conf, full=full, step=step: full - step * (1.0 - conf))
        return tiers
    if q.items:
        n = len(q.items)
        expr = _item_expr(q.items[0])
        partial = max(ITEM_SIMILAR.values())
        add(
            bound(q, plate_max=plate_max),
            f"{expr} IS NOT NULL",
            [],
            expr,
            lambda conf: bound(q, items_max=(conf + n - 1) / n, plate_max=plate_max),
        )
        add(bound(q, items_max=(n - 1 + partial) / n, plate_max=plate_max), f"{expr} IS NULL", [])
        return tiers
    # Plate only: the plate rows were read before the tiers; the rest can only match partly.
    add(bound(q, plate_max=plate_max), "1=1", [])
    return tiers


def search_description(conn, q: Query, *, top: int = 20, filters: Filters | None = None) -> SearchResult:
    """Exact top-`top` sightings for a parsed description, best first."""
    f = Filters.from_query(q).merged(filters or Filters())
    if q.kind is None and q.has_attributes():
        q.kind = "vehicle" if (q.vehicle_type or q.vehicle_color) and not (q.upper or q.lower) else "person"
    f.kind = f.kind or q.kind
    if not q.has_attributes():
        raise InputError(
            f"the description {q.text!r} names nothing to look for: give clothing colours, carried items, "
            "a vehicle type/colour or a plate (e.g. '빨간 상의에 검은 바지, 백팩')"
        )
    msg = check_store(conn, f)
    if msg:
        return SearchResult([], q.to_json(), msg)
    where, params = f.sql()
    stats: dict[str, Any] = {"rows_scored": 0, "strategy": "tiers"}
    best: list[tuple[float, int, Any, dict[str, float]]] = []  # min-heap (score, -id, row, credits)
    seen: set[int] = set()

    def take(rows: list[Any]) -> None:
        rows = [r for r in rows if r[0] not in seen]
        if not rows:
            return
        seen.update(r[0] for r in rows)
        sc = score_rows(q, rows)
        stats["rows_scored"] += len(rows)
        order = np.argsort(-sc.score, kind="stable")[:top]
        for i in order:
            item = (
                float(sc.score[i]),
                -int(sc.ids[i]),
                rows[i],
                {a: float(c[i]) for a, c in sc.credits.items()},
            )
            if len(best) < top:
                heapq.heappush(best, item)
            elif item[:2] > best[0][:2]:
                heapq.heapreplace(best, item)

    small = _small_set(conn, where, params, ATTR_COLUMNS) if f.selective() else None
    if small is not None:
        stats["strategy"] = "filtered"
        take(small)
    else:
        plate_max = 0.0
        if q.plate:
            from relaytrack.search.score import norm_plate

            # Any plate earning credit shares a run of >= 3 characters with the fragment (or contains it):
            # find those through the small plate index, so the tiers below can ignore plates entirely.
            frag = norm_plate(q.plate)
            runs = sorted({frag[i : i + 3] for i in range(len(frag) - 2)}) if len(frag) > 3 else [frag]
            like = " OR ".join("plate LIKE ?" for _ in runs)
            pids = [
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM sightings INDEXED BY sightings_plate WHERE plate IS NOT NULL AND ({like})",
                    [f"%{r}%" for r in runs],
                )
            ]
            for i in range(0, len(pids), 900):
                chunk = pids[i : i + 900]
                take(
                    conn.execute(
                        f"SELECT {ATTR_COLUMNS} FROM sightings WHERE id IN ({','.join('?' * len(chunk))})"
                        f" AND {where}",
                        [*chunk, *params],
                    ).fetchall()
                )
        heap = _tiers(q, plate_max)
        heapq.heapify(heap)
        stats["tiers_read"] = 0
        while heap:
            t = heapq.heappop(heap)
            if -t.neg_bound <= 0 or (len(best) >= top and best[0][0] >= -t.neg_bound - 1e-6):
                break
            stats["tiers_read"] += 1
            sql = f"SELECT {ATTR_COLUMNS}, {t.order_expr or 'id'} AS _o FROM sightings WHERE {t.where} AND {where}"
            p = [*t.params, *params]
            if t.order_expr:
                if t.last is not None:
                    # A row-value bound: both SQLite and PostgreSQL walk the (…, order, id) index from it.
                    sql += f" AND ({t.order_expr}, id) < (?, ?)"
                    p += [t.last[0], t.last[1]]
                sql += f" ORDER BY _o DESC, id DESC LIMIT {t.page}"
            else:
                if t.last is not None:
                    sql += " AND id > ?"
                    p.append(t.last[1])
                sql += f" ORDER BY id LIMIT {t.page}"
            rows = conn.execute(sql, p).fetchall()
            take(rows)
            if len(rows) == t.page:
                t.page = min(t.page * 4, MAX_PAGE)
                t.last = (rows[-1][10], rows[-1][0])
                if t.bound_at is not None:
                    t.neg_bound = -t.bound_at(float(rows[-1][10] or 0.0))
                heapq.heappush(heap, t)
    ranked = [x for x in sorted(best, key=lambda x: (-x[0], -x[1])) if x[0] > 0]
    sightings = {s.id: s for s in get_sightings(conn, [-x[1] for x in ranked])}
    hits = [Hit(sightings[-x[1]], x[0], reasons(q, x[2], x[3])) for x in ranked if -x[1] in sightings]
    return SearchResult(hits, q.to_json(), None if hits else "no sighting matches the description", stats)


def _attr_query_of(s: Sighting) -> Query:
    """What a stored sighting says about its appearance, as a query (confident attributes only)."""
    return Query(
        kind=s.kind,
        upper=s.upper_color if s.upper_conf >= 0.3 else None,
        lower=s.lower_color if s.lower_conf >= 0.3 else None,
        items=[k for k, v in (s.items or {}).items() if v >= 0.5],
        vehicle_type=s.vehicle_type,
        vehicle_color=s.vehicle_color,
    )


def search_example(
    conn,
    vector: np.ndarray,
    *,
    top: int = 20,
    filters: Filters | None = None,
    attrs: Query | None = None,
    exclude: int | None = None,
    nprobe: int | None = None,
    shard_engine: str = "threads",
) -> SearchResult:
    """Sightings nearest to an embedding, filtered, optionally blended with attribute agreement. A store with
    vector shards (`relaytrack city index`) is searched through them (`shard_engine` threads or ray), others
    through their own vector index."""
    f = filters or Filters()
    qjson = {"example": True, **({"attributes": attrs.to_json()} if attrs else {})}
    msg = check_store(conn, f)
    if msg:
        return SearchResult([], qjson, msg)
    if vectors.dim(conn) is None:
        return SearchResult([], qjson, "the store has no embeddings to compare with")
    vec = np.asarray(vector, dtype=np.float32).reshape(-1)
    if len(vec) != vectors.dim(conn):
        raise InputError(
            f"example embedding has {len(vec)} values; this store's index has {vectors.dim(conn)}"
        )
    vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
    where, params = f.sql()
    use_attrs = attrs is not None and attrs.has_attributes()
    stats: dict[str, Any] = {}
    cols = f"{ATTR_COLUMNS}, embedding"
    small = _small_set(conn, where, params, cols) if f.selective() else None
    if small is not None:
        stats["strategy"] = "filtered"
        rows = [r for r in small if r[10] is not None and r[0] != exclude]
        emb = (
            np.frombuffer(b"".join(r[10] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            if rows
            else np.zeros((0, len(vec)), np.float32)
        )
        if len(emb) and emb.shape[1] != len(vec):
            raise InputError(f"stored embeddings have {emb.shape[1]} values, the example {len(vec)}")
        norms = np.maximum(np.linalg.norm(emb, axis=1), 1e-12)
        sim = {r[0]: float(s) for r, s in zip(rows, emb @ vec / norms, strict=True)}
    else:
        from relaytrack.store import shard_store

        sharded = shard_store.open_for(conn)
        stats["strategy"] = "vector-shards" if sharded is not None else "vector-index"
        districts = _districts_of(conn, f) if sharded is not None else None
        k = max(top * 10, 200)
        while True:
            if sharded is not None:
                got = shard_store.knn(
                    conn, sharded, vec, k + 1, districts=districts, time_from=f.time_from, time_to=f.time_to,
                    nprobe=nprobe, engine=shard_engine,
                )  # fmt: skip
                nn = got.nearest
                stats.update(shards=got.shards, tail=got.tail, candidates=got.candidates)
                if got.problems:  # a bad shard was rebuilt (or could not be): say so with the result
                    stats["shard_problems"] = [asdict(p) for p in got.problems]
            else:
                nn = vectors.knn(conn, vec, k + 1, nprobe=nprobe)
            ids = [i for i, _ in nn if i != exclude]
            rows = []
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                rows += conn.execute(
                    f"SELECT {ATTR_COLUMNS} FROM sightings WHERE id IN ({','.join('?' * len(chunk))})"
                    f" AND {where}",
                    [*chunk, *params],
                ).fetchall()
            if len(rows) >= top or k >= 4000 or len(nn) <= k:
                break
            k = min(k * 4, 4000)
        sim = {i: 1.0 - d for i, d in nn}
        stats["k"] = k
    if not rows:
        return SearchResult([], qjson, "no sighting within the filters has an embedding to compare", stats)
    app = np.array([sim[r[0]] for r in rows], dtype=np.float32)
    # Rescale so that what unrelated people score in this store (its embedder's background similarity) is 0
    # and identical is 1: embedders differ in how close "unrelated" sits to 1 (histogram features: ~0.9,
    # a learned projection: ~0), and the attribute blend below needs the same scale for every embedder.
    bg = vectors.background(conn, f.kind or "person")
    if bg is not None and bg[0] < 0.99:
        app = (app - max(bg[0], 0.0)) / (1.0 - max(bg[0], 0.0))
    app = app.clip(0.0, 1.0)
    if use_attrs:
        sc = score_rows(attrs, rows)
        total = APPEARANCE_WEIGHT * app + (1 - APPEARANCE_WEIGHT) * sc.score
    else:
        total = app
    order = np.lexsort((np.array([r[0] for r in rows]), -total))[:top]
    sightings = {s.id: s for s in get_sightings(conn, [rows[i][0] for i in order])}
    hits = []
    for i in order:
        why = [f"appearance {app[i]:.2f}"]
        if use_attrs:
            why += reasons(attrs, rows[i], {a: float(c[i]) for a, c in sc.credits.items()})
        hits.append(Hit(sightings[rows[i][0]], float(total[i]), why))
    stats["rows_scored"] = len(rows)
    return SearchResult(hits, qjson, None, stats)


def _districts_of(conn, f: Filters) -> list[str] | None:
    """The districts a search may touch: the filter's own, or those of its cameras (None: all)."""
    if f.districts:
        return list(f.districts)
    if not f.cameras:
        return None
    rows = conn.execute(
        f"SELECT DISTINCT district FROM cameras WHERE id IN ({','.join('?' * len(f.cameras))})",
        list(f.cameras),
    ).fetchall()
    return [r[0] or "" for r in rows]


def search_sighting(conn, sighting_id: int, *, top: int = 20, filters: Filters | None = None) -> SearchResult:
    """Sightings that look like a stored one (appearance + its attributes), the sighting itself left out."""
    try:
        s = get_sighting(conn, sighting_id)
    except NotFound as err:
        raise NotFound(f"no sighting {sighting_id} in this store") from err
    if s.embedding is None:
        raise InputError(f"sighting {sighting_id} has no embedding to search with")
    f = filters or Filters()
    f.kind = f.kind or s.kind
    res = search_example(conn, s.embedding, top=top, filters=f, attrs=_attr_query_of(s), exclude=s.id)
    res.query = {"sighting": s.id, "camera": s.camera, **res.query}
    return res


def embed_image(path: str, cfg: Any = None, conn: Any = None) -> np.ndarray:
    """Embedding of the largest person in a photo (or of the whole image when it is already a tight crop
    of one person), by the store's own embedder when `conn` is given and the config names none (a store
    re-embedded by `reid apply` holds that model's vectors). Raises InputError when the file is not an image
    or shows no person."""
    import cv2

    from relaytrack.config import Config
    from relaytrack.records import CLASS_ID

    cfg = cfg or Config()
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"{path}: not a readable image file")
    from relaytrack.detect import Detector

    dets = Detector(cfg.detect).detect(img)
    persons = dets.select(dets.class_id == CLASS_ID["person"])
    if len(persons) == 0:
        raise InputError(f"{path}: no person found in the photo; give a photo or crop showing the suspect")
    wh = persons.xywh[:, 2:]
    x1, y1, x2, y2 = persons.xyxy[int(np.argmax(wh[:, 0] * wh[:, 1]))].round().astype(int)
    h, w = img.shape[:2]
    crop = img[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)]
    if crop.size == 0:
        raise InputError(f"{path}: the person box is empty")
    from relaytrack.describe.embed import Embedder

    model = vectors.embedder(conn)[1] if conn is not None and cfg.describe.embedder is None else None
    return Embedder(cfg.describe, model=model).embed([crop])[0]
