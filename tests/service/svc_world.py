"""Test factory (imported by conftest and the tests): a small, fully known world for the service tests, built once per session with the stages' own functions:
four cameras in a row (imported with relay's network importer, links given), an image-sequence source per
camera with a suspect (red top, black trousers) walking left to right through all four and a blue-top
passer-by, sightings inserted with relaytrack.store.sightings.insert_sighting (boxes, thumbnails, 16-d
embeddings), users of every role with tokens, and cases C-1 (kim, op, the police user pol, the auditor aud) and C-2 (lee,
holding one sighting).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from relaytrack.evidence import access as acc
from relaytrack.evidence import audit
from relaytrack.evidence.auth import hash_password, issue_token
from relaytrack.records import Sighting
from relaytrack.relay.network import import_network
from relaytrack.store import Store, vectors
from relaytrack.store.sightings import insert_sighting

W, H, FPS, N_FRAMES = 160, 120, 10.0, 40
T0 = 1_795_000_000.0
GAP_S = 20.0  # seconds between the suspect leaving one camera and entering the next
PASSWORD = "correct-horse-9"
USERS = {
    "kim": "investigator",
    "lee": "investigator",
    "op": "operator",
    "sup": "supervisor",
    "aud": "auditor",
    "pol": "agency",
}
CAMS = ["C01", "C02", "C03", "C04"]
RED, BLACK, BLUE, GRAY = (40, 40, 220), (20, 20, 20), (220, 80, 40), (128, 128, 128)


@dataclass
class World:
    db: Path | str  # a SQLite file or a postgresql:// URL
    home: Path
    suspect: list[int] = field(default_factory=list)  # sighting ids, camera order
    others: list[int] = field(default_factory=list)
    held_c2: int = 0
    tokens: dict[str, str] = field(default_factory=dict)


def _figure(img: np.ndarray, x: int, upper, lower) -> tuple[int, int, int, int]:
    y, w, h = 30, 16, 60
    cv2.rectangle(img, (x, y), (x + w, y + h // 2), upper, -1)
    cv2.rectangle(img, (x, y + h // 2), (x + w, y + h), lower, -1)
    return x, y, w, h


def _network(folder: Path) -> Path:
    cams = []
    for i, cid in enumerate(CAMS):
        cams.append(
            {
                "id": cid,
                "name": f"Mapo street {i + 1}",
                "lat": 37.5563,
                "lon": 126.9220 + i * 0.0012,
                "heading_deg": 0,
                "fov_deg": 70,
                "district": "마포구" if i < 2 else "서대문구",
                "owner": "자치구",
                "purpose": "방범" if i % 2 == 0 else "어린이보호구역",
                "width": W,
                "height": H,
            }
        )
    links = [
        {
            "src": a,
            "dst": b,
            "exit_edge": "right",
            "entry_edge": "left",
            "mean_s": GAP_S,
            "std_s": 4.0,
            "min_s": 8.0,
            "max_s": 40.0,
            "mode": "walk",
        }
        for a, b in zip(CAMS, CAMS[1:], strict=False)
    ]
    path = folder / "cameras.yaml"
    path.write_text(yaml.safe_dump({"cameras": cams, "links": links}, allow_unicode=True), encoding="utf-8")
    return path


def build_world(root: Path, db: str | None = None) -> World:
    """The world in `db` (a postgresql:// URL), else in root/svc.db; footage and home under root."""
    root.mkdir(parents=True, exist_ok=True)
    w = World(db or root / "svc.db", root / "home")
    rng = np.random.default_rng(0)
    proto = {
        k: (v / np.linalg.norm(v))
        for k, v in {
            "suspect": rng.normal(size=16),
            "blue": rng.normal(size=16),
            "gray": rng.normal(size=16),
        }.items()
    }
    with Store(w.db) as store:
        import_network(store, _network(root), infer=False)
        pw = hash_password(PASSWORD)
        with store.tx() as conn:
            vectors.ensure_index(conn, 16)
            for name, role in USERS.items():
                acc.create_user(
                    conn, name, role, password_hash=pw, agency="police" if role == "agency" else None
                )
            acc.create_case(
                conn,
                "C-1",
                legal_basis="warrant 2026-11",
                purpose="drug courier route",
                members=["kim", "op", "pol", "aud"],
            )
            acc.create_case(conn, "C-2", legal_basis="warrant 2026-12", purpose="theft", members=["lee"])
        for ci, cam in enumerate(CAMS):
            # The suspect is on camera ci during its frames 5..30; the camera's recording starts so that the
            # gap between cameras is GAP_S seconds of true time.
            start_wall = T0 + ci * (2.5 + GAP_S) - 0.4
            seq = root / "footage" / cam
            (seq / "img1").mkdir(parents=True)
            (seq / "seqinfo.ini").write_text(f"[Sequence]\nframeRate={int(FPS)}\nseqLength={N_FRAMES}\n")
            tracks: dict[str, list[tuple]] = {"suspect": [], "blue": [], "gray": []}
            for f in range(1, N_FRAMES + 1):
                img = np.full((H, W, 3), 200, np.uint8)
                if 5 <= f <= 30:
                    tracks["suspect"].append((f, *_figure(img, 4 + (f - 5) * 5, RED, BLACK)))
                if 10 <= f <= 35:
                    tracks["blue"].append((f, *_figure(img, 130 - (f - 10) * 4, BLUE, GRAY)))
                if ci == 1 and 1 <= f <= 20:
                    tracks["gray"].append((f, *_figure(img, 60, GRAY, GRAY)))
                cv2.imwrite(str(seq / "img1" / f"{f:06d}.png"), img)
            with store.tx() as conn:
                src = conn.execute(
                    "INSERT INTO sources(camera_id, uri, fingerprint, start_wall, fps, width, height, frames_total,"
                    " status) VALUES (?,?,?,?,?,?,?,?,'complete')",
                    (cam, str(seq), f"fp-{cam}", start_wall, FPS, W, H, N_FRAMES),
                ).lastrowid
                for tid, (who, boxes) in enumerate(tracks.items(), start=1):
                    if not boxes:
                        continue
                    first, last = boxes[0][0], boxes[-1][0]
                    mid = boxes[len(boxes) // 2]
                    frame = cv2.imread(str(seq / "img1" / f"{mid[0]:06d}.png"))
                    x, y, bw, bh = mid[1:]
                    ok, jpg = cv2.imencode(".jpg", frame[y : y + bh, x : x + bw])
                    up, lo = {
                        "suspect": ("red", "black"),
                        "blue": ("blue", "gray"),
                        "gray": ("gray", "gray"),
                    }[who]
                    emb = proto[who] + rng.normal(0, 0.08, 16)
                    s = Sighting(
                        id=0,
                        camera=cam,
                        source_id=src,
                        track_id=tid,
                        kind="person",
                        class_name="person",
                        start=(first - 1) / FPS,
                        end=(last - 1) / FPS,
                        first_frame=first,
                        last_frame=last,
                        wall_start=start_wall + (first - 1) / FPS,
                        wall_end=start_wall + (last - 1) / FPS,
                        box=(float(x), float(y), float(bw), float(bh)),
                        entry_edge="left" if who == "suspect" else "right" if who == "blue" else "inside",
                        exit_edge="right" if who == "suspect" else "left" if who == "blue" else "inside",
                        upper_color=up,
                        upper_conf=0.9,
                        lower_color=lo,
                        lower_conf=0.85,
                        items={"backpack": 0.8} if who == "suspect" else {},
                        embedding=(emb / np.linalg.norm(emb)).astype(np.float32),
                    )
                    sid = insert_sighting(
                        conn,
                        s,
                        boxes=[
                            (f, (f - 1) / FPS, float(bx), float(by), float(bw_), float(bh_), 0.9)
                            for f, bx, by, bw_, bh_ in boxes
                        ],
                        thumbnail_jpeg=jpg.tobytes(),
                        best_frame=mid[0],
                    )
                    (w.suspect if who == "suspect" else w.others).append(sid)
        w.held_c2 = w.others[-1]
        with store.tx() as conn:
            acc.hold_sightings(conn, "C-2", [w.held_c2], note="theft evidence")
            for name in USERS:
                w.tokens[name] = issue_token(conn, name, hours=24, db_path=store.path)
        audit.append(
            store.conn,
            store.path,
            user="system:test",
            case=None,
            action="setup",
            detail={"built": time.time()},
        )
    return w


def hdr(world: World, user: str, case: str | None = "C-1") -> dict[str, str]:
    h = {"Authorization": f"Bearer {world.tokens[user]}"}
    if case:
        h["X-Case"] = case
    return h
