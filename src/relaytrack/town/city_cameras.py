"""Where the simulated city's cameras stand, and who runs them for what: Seoul's public CCTV inventory.

Seoul had 176,371 public cameras on 2023-12-31 (`seoul/cctv-inventory-2023-12-31.csv`), counted by owner (본청,
사업소, 투출기관, 자치구) and purpose (방범, 어린이보호구역, ...). Positions are public for the 83,734 cameras linked
to the 안심이 app (`seoul/cctv/seoul_ansimi_cctv_latlon_only.csv`: district, lat, lon; one row per camera, several
on one pole: 40,070 distinct sites).

`place_cameras(n)`:
- n up to the distinct sites: that many distinct sites drawn at random (the simulator's layout since its start,
  same draws for the same seed);
- n up to 83,734: every distinct site, then further cameras of shared poles (a metre or two apart, so each has
  its own position);
- beyond: every real camera, and the rest placed per district. A district's share of the city is its share of
  the cameras its control centre monitors (`seoul_intelligent_cctv_by_gu_20241231.csv`, 관제수량: the only
  all-owner count per district here), less the real cameras already there. Each placed camera stands on a street
  beside a real camera of its district: 20-250 m from it north-south or east-west.
Owner and purpose: the inventory scaled to n (largest remainders; exact at 176,371). The 안심이 cameras take the
crime-prevention (방범) slots first, 자치구's before the other owners' (they are the districts' crime-prevention
cameras); the other cameras take the remaining slots in random order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relaytrack.errors import InputError
from relaytrack.paths import data_dir

INVENTORY_CSV = "seoul/cctv-inventory-2023-12-31.csv"
SITES_CSV = "seoul/cctv/seoul_ansimi_cctv_latlon_only.csv"
MONITORED_CSV = "seoul/cctv/seoul_intelligent_cctv_by_gu_20241231.csv"
PURPOSES = {  # inventory column -> the purpose stored on the camera
    "crime_prevention": "방범",
    "child_protection_zone": "어린이보호구역",
    "park_playground": "도시공원·놀이터",
    "illegal_dumping": "쓰레기무단투기",
    "facility_safety_fire": "시설안전·화재예방",
    "traffic_enforcement": "교통단속",
    "traffic_information": "교통정보수집",
    "other_law": "기타",
}
CRIME = "방범"
REAL_OWNER_ORDER = (
    "자치구",
    "투출기관",
    "사업소",
    "본청",
)  # whose crime-prevention slots 안심이 cameras take
SEOUL_BOX = (37.40, 37.72, 126.76, 127.19)
M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Inventory:
    """Camera counts by (owner, purpose)."""

    cells: dict[tuple[str, str], int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def by_owner(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (o, _), n in self.cells.items():
            out[o] = out.get(o, 0) + n
        return out

    def by_purpose(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, p), n in self.cells.items():
            out[p] = out.get(p, 0) + n
        return out

    @classmethod
    def load(cls, path: Path | None = None) -> Inventory:
        path = path or data_dir() / INVENTORY_CSV
        if not path.exists():
            raise InputError(
                f"{path}: Seoul CCTV inventory not found (set RELAYTRACK_SHARED to the shared folder)"
            )
        cells = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["owner"] == "계":  # the all-owners line
                    continue
                for col, purpose in PURPOSES.items():
                    cells[(row["owner"], purpose)] = int(row[col])
        return cls(cells)

    def scaled(self, n: int) -> Inventory:
        """The same mix for n cameras: cells rounded by largest remainder so that they sum to n."""
        keys = sorted(self.cells)
        share = np.array([self.cells[k] for k in keys], dtype=np.float64) * n / self.total
        got = np.floor(share).astype(np.int64)
        rest = np.argsort(-(share - got), kind="stable")[: n - int(got.sum())]
        got[rest] += 1
        return Inventory({k: int(c) for k, c in zip(keys, got, strict=True)})


@dataclass(frozen=True)
class Sites:
    """Real camera rows: positions and districts, in file order."""

    lat: np.ndarray
    lon: np.ndarray
    district: np.ndarray  # object array of names

    def __len__(self) -> int:
        return len(self.lat)

    @classmethod
    def load(cls, path: Path | None = None) -> Sites:
        path = path or data_dir() / SITES_CSV
        if not path.exists():
            raise InputError(
                f"{path}: Seoul CCTV positions not found (set RELAYTRACK_SHARED to the shared folder)"
            )
        lat, lon, dist = [], [], []
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rd = csv.reader(fh)
            next(rd, None)
            for row in rd:
                try:
                    a, b = float(row[1]), float(row[2])
                except (ValueError, IndexError):
                    continue
                if SEOUL_BOX[0] < a < SEOUL_BOX[1] and SEOUL_BOX[2] < b < SEOUL_BOX[3]:
                    lat.append(a)
                    lon.append(b)
                    dist.append(row[0].strip())
        return cls(np.array(lat), np.array(lon), np.array(dist, dtype=object))

    def distinct(self) -> np.ndarray:
        """Row index of each distinct site (positions rounded to 1e-4 degrees, first row kept), sorted by
        position: the order the simulator has always drawn its sites from."""
        seen: dict[tuple[float, float], int] = {}
        for i, (a, b) in enumerate(zip(self.lat.tolist(), self.lon.tolist(), strict=True)):
            seen.setdefault((round(a, 4), round(b, 4)), i)
        return np.array([seen[k] for k in sorted(seen)], dtype=np.int64)


@dataclass(frozen=True)
class CameraPlan:
    lat: np.ndarray
    lon: np.ndarray
    district: np.ndarray  # object arrays
    owner: np.ndarray
    purpose: np.ndarray
    real: np.ndarray  # bool: a real 안심이 camera position

    def __len__(self) -> int:
        return len(self.lat)


def district_weights(names: list[str], path: Path | None = None) -> np.ndarray:
    """Each district's share of all cameras: its control centre's monitored count (관제수량). The file shortens
    some names (동대문 for 동대문구); a district it lacks gets the mean."""
    path = path or data_dir() / MONITORED_CSV
    counts: dict[str, float] = {}
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                if len(row) > 1 and row[1].replace(",", "").isdigit() and row[0] not in ("합계", "계"):
                    counts[row[0].strip()] = float(row[1].replace(",", ""))
    w = [next((v for k, v in counts.items() if n == k or n == k + "구"), np.nan) for n in names]
    w = np.array(w, dtype=np.float64)
    w[np.isnan(w)] = np.nanmean(w) if np.isfinite(w).any() else 1.0
    return w / w.sum()


def _largest_remainder(share: np.ndarray, n: int) -> np.ndarray:
    share = share * n / max(share.sum(), 1e-12)
    got = np.floor(share).astype(np.int64)
    got[np.argsort(-(share - got), kind="stable")[: n - int(got.sum())]] += 1
    return got


def place_cameras(
    n: int,
    rng: np.random.Generator,
    *,
    sites: Sites | None = None,
    inventory: Inventory | None = None,
    weights_path: Path | None = None,
    seed: int = 0,
) -> CameraPlan:
    """n cameras: positions, districts, owners and purposes (see the module docstring). `rng` draws the layout
    (for n up to the distinct sites exactly as the simulator always has); owners and purposes come from their
    own generator seeded by `seed`, so they do not move the rest of the simulation."""
    sites = sites or Sites.load()
    inventory = inventory or Inventory.load()
    distinct = sites.distinct()
    if n <= len(distinct):
        rows = distinct[np.sort(rng.choice(len(distinct), n, replace=False))]
    else:
        shared = np.setdiff1d(np.arange(len(sites)), distinct)
        extra = min(n, len(sites)) - len(distinct)
        rows = np.concatenate([distinct, np.sort(rng.choice(shared, extra, replace=False))])
    n_real = len(rows)
    lat, lon = np.round(sites.lat[rows], 4), np.round(sites.lon[rows], 4)
    district = sites.district[rows]
    # Cameras sharing a pole: a metre or two apart, so that each has its own position and bearings.
    if n_real > len(distinct):
        k = n_real - len(distinct)
        ang = rng.uniform(0, 2 * np.pi, k)
        r = rng.uniform(1.0, 3.0, k)
        lat[len(distinct) :] += r * np.cos(ang) / M_PER_DEG
        lon[len(distinct) :] += r * np.sin(ang) / (M_PER_DEG * np.cos(np.radians(lat[len(distinct) :])))

    n_new = n - n_real
    if n_new > 0:
        names = sorted(set(sites.district.tolist()))
        w = district_weights(names, weights_path)
        have = np.array([(district == d).sum() for d in names], dtype=np.float64)
        want = np.maximum(w * n - have, 0.0)
        per = _largest_remainder(want if want.sum() > 0 else w, n_new)
        new_d = np.repeat(np.array(names, dtype=object), per)
        anchor = np.empty(n_new, np.int64)
        for d, lo, cnt in zip(names, np.cumsum(per) - per, per, strict=True):
            pool = np.flatnonzero(sites.district == d)
            anchor[lo : lo + cnt] = rng.choice(pool, cnt)
        # On a street beside a real camera: along one axis 20-250 m, a few metres across it.
        along = rng.uniform(20.0, 250.0, n_new) * rng.choice([-1.0, 1.0], n_new)
        across = rng.uniform(-5.0, 5.0, n_new)
        ns = rng.random(n_new) < 0.5
        dn, de = np.where(ns, along, across), np.where(ns, across, along)
        alat = sites.lat[anchor] + dn / M_PER_DEG
        alon = sites.lon[anchor] + de / (M_PER_DEG * np.cos(np.radians(sites.lat[anchor])))
        lat, lon = np.concatenate([lat, alat]), np.concatenate([lon, alon])
        district = np.concatenate([district, new_d])

    # Owners and purposes: the scaled inventory, crime-prevention slots to the real cameras first.
    prng = np.random.default_rng([seed, 2023])
    inv = inventory.scaled(n)
    slots = [k for k in sorted(inv.cells) for _ in range(inv.cells[k])]
    rank = {o: i for i, o in enumerate(REAL_OWNER_ORDER)}
    crime = sorted((s for s in slots if s[1] == CRIME), key=lambda s: rank.get(s[0], len(rank)))
    other = [s for s in slots if s[1] != CRIME]
    order = [other[i] for i in prng.permutation(len(other))]
    real_slots = crime[:n_real] + order[: max(0, n_real - len(crime))]
    rest = crime[n_real:] + order[max(0, n_real - len(crime)) :]
    real_slots = [real_slots[i] for i in prng.permutation(len(real_slots))]
    rest = [rest[i] for i in prng.permutation(len(rest))]
    assigned = real_slots + rest
    return CameraPlan(
        lat,
        lon,
        district,
        np.array([s[0] for s in assigned], dtype=object),
        np.array([s[1] for s in assigned], dtype=object),
        np.arange(n) < n_real,
    )
