"""`relaytrack bench service`: load on loopback. N console users log in and search by description in a loop,
M consoles hold the live alert stream open while alerts are written to the store; `relaytrack serve` runs in
a subprocess (Uvicorn), the clients are httpx in threads. Reports p50/p95/max latency and errors per kind of
request, alert delivery latency (row written -> event received) and, as the baseline, the same searches
called in-process (the cost of HTTP, auth and audit on top of the search itself).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from relaytrack.store import Store
from relaytrack.store.pg import is_url

BENCH_CASE = "BENCH-0001"
BENCH_PASSWORD = "bench-password-1"
QUERIES = (
    "red top, black trousers",
    "빨간 상의에 검은 바지",
    "blue top",
    "흰색 상의, 백팩",
    "green top, gray trousers",
    "black top, blue trousers, backpack",
    "노란 상의",
    "pink top",
    "갈색 하의",
    "purple top, white trousers",
)


# ---- alerts: written the way the watch stage stores them --------------------------------------------------


def write_alert(
    conn,
    camera: str,
    *,
    start: float,
    end: float,
    score: float,
    reasons: list[str],
    sighting: int | None = None,
    created: float | None = None,
) -> int:
    """Store one alert the way the watch stage does (relaytrack.watch.alerts.insert_alert). Returns its id."""
    from relaytrack.watch.alerts import Alert, insert_alert

    now = created if created is not None else time.time()
    a = Alert(
        camera,
        start,
        end,
        score,
        list(reasons),
        sighting=sighting,
        wall_start=now,
        wall_decided=now,
        explanation="; ".join(reasons),
    )
    return insert_alert(conn, a)


# ---- the bench store ------------------------------------------------------------------------------------


def build_store(db: Path | str, users: int, people: int, seed: int = 0) -> dict[str, Any]:
    """A synthetic town (relaytrack.relay.synth: cameras, links, sightings with embeddings and colours), bench
    users (investigators) assigned to one case."""
    from relaytrack.evidence import access as acc
    from relaytrack.evidence.auth import hash_password
    from relaytrack.relay.synth import SynthConfig, generate

    with Store(db) as store:
        t0 = time.perf_counter()
        truth = generate(store, SynthConfig(grid=(6, 6), people=people, seed=seed, dim=64))
        pw = hash_password(BENCH_PASSWORD)
        names = [f"bench{i:03d}" for i in range(users)]
        with store.tx() as conn:
            for n in names:
                acc.create_user(conn, n, "investigator", password_hash=pw)
            acc.create_case(
                conn,
                BENCH_CASE,
                legal_basis="bench warrant",
                purpose="service load benchmark",
                created_by="bench",
                members=names,
            )
        n = store.one("SELECT COUNT(*) FROM sightings")[0]
        return {
            "sightings": int(n),
            "cameras": len(truth.cameras),
            "users": names,
            "build_s": round(time.perf_counter() - t0, 2),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float]) -> dict[str, Any]:
    if not xs:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    a = np.asarray(xs) * 1000
    return {
        "n": len(xs),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "max_ms": round(float(a.max()), 1),
    }


def _empty(db: Path | str) -> bool:
    """A store still to be filled: no file yet, or (PostgreSQL) a database without the bench's users."""
    if not is_url(db):
        return not Path(db).exists()
    with Store(db) as store:
        return store.one("SELECT COUNT(*) FROM users WHERE name LIKE 'bench%'")[0] == 0


def _baseline(db: Path | str, seconds: float = 3.0) -> dict[str, Any]:
    from relaytrack.search.engine import search_description
    from relaytrack.search.query import parse_text

    lat = []
    with Store(db, readonly=True) as store:
        t_end = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < t_end:
            t = time.perf_counter()
            search_description(store.conn, parse_text(QUERIES[i % len(QUERIES)]), top=20)
            lat.append(time.perf_counter() - t)
            i += 1
    return _pct(lat)


def run_bench(
    *,
    users: int = 8,
    subscribers: int = 20,
    duration_s: float = 20.0,
    people: int = 1500,
    alert_rate: float = 2.0,
    db: Path | str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    import httpx

    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="rt-bench-service-")
        db = Path(tmp.name) / "bench.db"
    db = db if is_url(db) else Path(db)
    store_info = (
        build_store(db, users, people, seed)
        if _empty(db)
        else {"users": [f"bench{i:03d}" for i in range(users)]}
    )
    baseline = _baseline(db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relaytrack.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        t0 = time.time()
        while True:
            try:
                if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() - t0 > 60:
                raise RuntimeError(f"relaytrack serve did not start: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.2)
        res = _load(base, db, store_info["users"][:users], subscribers, duration_s, alert_rate)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if tmp is not None:
            tmp.cleanup()
    return {
        "config": {
            "users": users,
            "subscribers": subscribers,
            "duration_s": duration_s,
            "alert_rate_per_s": alert_rate,
            "cpu_count": os.cpu_count(),
        },
        "store": {k: v for k, v in store_info.items() if k != "users"},
        "baseline_in_process_search": baseline,
        **res,
    }


def _load(
    base: str, db: Path | str, names: list[str], subscribers: int, duration_s: float, alert_rate: float
) -> dict[str, Any]:
    import httpx

    lock = threading.Lock()
    lat: dict[str, list[float]] = {"login": [], "search": [], "sighting": []}
    errors: dict[str, int] = {}
    written: dict[int, float] = {}
    delivered: list[float] = []
    received: dict[int, int] = {}
    sse_errors: list[str] = []
    stop = threading.Event()
    end_id: list[int | None] = [None]
    ready = threading.Barrier(len(names) + subscribers + 1, timeout=120)

    def err(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def timed(kind: str, fn):
        t = time.perf_counter()
        try:
            r = fn()
        except httpx.HTTPError:
            err(f"{kind}: transport")
            return None
        dt = time.perf_counter() - t
        if r.status_code >= 400:
            err(f"{kind}: {r.status_code}")
            return None
        with lock:
            lat[kind].append(dt)
        return r

    def user(i: int, name: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            r = timed(
                "login", lambda: c.post("/api/auth/login", json={"user": name, "password": BENCH_PASSWORD})
            )
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return
            if r is None:
                return
            h = {"Authorization": f"Bearer {r.json()['token']}", "X-Case": BENCH_CASE}
            k = i
            while not stop.is_set():
                q = {"text": QUERIES[k % len(QUERIES)], "top": 20}
                r = timed("search", lambda q=q: c.post("/api/search/text", headers=h, json=q))
                if r is not None and r.json()["hits"]:
                    # The console then opens the best hit (thumbnails are fetched the same way when stored).
                    url = f"/api/sightings/{r.json()['hits'][0]['sighting']}"
                    timed("sighting", lambda url=url: c.get(url, headers=h))
                k += 1

    def subscriber(token: str) -> None:
        try:
            with httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=duration_s + 30)) as c:
                with c.stream(
                    "GET",
                    "/api/alerts/stream",
                    params={"max_s": duration_s + 60},
                    headers={"Authorization": f"Bearer {token}"},
                ) as r:
                    if r.status_code != 200:
                        sse_errors.append(f"status {r.status_code}")
                        ready.wait()
                        return
                    try:
                        ready.wait()
                    except threading.BrokenBarrierError:
                        return
                    event = None
                    for line in r.iter_lines():
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "alert":
                            now = time.time()
                            aid = int(json.loads(line[6:])["id"])
                            if end_id[0] is not None and aid >= end_id[0]:
                                return  # the writer's closing alert: every earlier one has been seen
                            with lock:
                                received[aid] = received.get(aid, 0) + 1
                                if aid in written:
                                    delivered.append(now - written[aid])
        except (httpx.HTTPError, threading.BrokenBarrierError) as e:
            sse_errors.append(type(e).__name__)

    sub_token = None
    if subscribers:
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.post("/api/auth/login", json={"user": names[0], "password": BENCH_PASSWORD})
            sub_token = r.json()["token"]
    threads = [threading.Thread(target=user, args=(i, n), daemon=True) for i, n in enumerate(names)]
    threads += [
        threading.Thread(target=subscriber, args=(sub_token,), daemon=True) for _ in range(subscribers)
    ]
    for t in threads:
        t.start()
    ready.wait()
    t_start = time.perf_counter()
    n_alerts = 0
    with Store(db) as store:
        cams = [r[0] for r in store.query("SELECT id FROM cameras ORDER BY id")]
        next_at = time.perf_counter()
        while time.perf_counter() - t_start < duration_s:
            if alert_rate > 0 and time.perf_counter() >= next_at:
                with store.tx() as conn:
                    now = time.time()
                    aid = write_alert(
                        conn,
                        cams[n_alerts % len(cams)],
                        start=1.0,
                        end=6.0,
                        score=0.8,
                        reasons=["bench alert"],
                        created=now,
                    )
                with lock:
                    written[aid] = now
                n_alerts += 1
                next_at += 1.0 / alert_rate
            time.sleep(0.01)
        stop.set()
        elapsed = time.perf_counter() - t_start
        with store.tx() as conn:  # a closing alert: subscribers stop when it arrives (events are in id order)
            end_id[0] = write_alert(conn, cams[0], start=0.0, end=0.0, score=0.0, reasons=["bench end"])
    for t in threads:
        t.join(timeout=duration_s + 40)
    n_req = sum(len(v) for v in lat.values()) + sum(errors.values())
    expected = n_alerts * subscribers
    got = sum(min(received.get(a, 0), subscribers) for a in written)
    missing = sorted(a for a in written if received.get(a, 0) < subscribers)
    return {
        "requests": n_req,
        "throughput_rps": round((len(lat["search"]) + len(lat["sighting"])) / elapsed, 1),
        "latency": {k: _pct(v) for k, v in lat.items()},
        "errors": errors,
        "error_rate": round(sum(errors.values()) / max(n_req, 1), 4),
        "alerts": {
            "written": n_alerts,
            "subscribers": subscribers,
            "expected_events": expected,
            "delivered_events": got,
            "missed_alert_ids": missing[:20],
            "delivery": _pct(delivered),
            "stream_errors": sse_errors[:10],
        },
    }


def print_report(res: dict[str, Any]) -> None:
    from rich.table import Table

    from relaytrack.ui import console

    c = res["config"]
    console.print(
        f"[bold]bench service[/bold]: {c['users']} users searching, {c['subscribers']} alert "
        f"subscribers, {c['duration_s']} s on loopback ({c['cpu_count']} CPUs); store {res['store']}"
    )
    t = Table("request", "n", "p50 ms", "p95 ms", "max ms")
    for k, v in res["latency"].items():
        t.add_row(k, str(v["n"]), str(v["p50_ms"]), str(v["p95_ms"]), str(v["max_ms"]))
    b = res["baseline_in_process_search"]
    t.add_row(
        "search in-process (baseline)", str(b["n"]), str(b["p50_ms"]), str(b["p95_ms"]), str(b["max_ms"])
    )
    d = res["alerts"]["delivery"]
    t.add_row("alert delivery (SSE)", str(d["n"]), str(d["p50_ms"]), str(d["p95_ms"]), str(d["max_ms"]))
    console.print(t)
    a = res["alerts"]
    console.print(
        f"throughput {res['throughput_rps']} req/s; errors {res['errors'] or 'none'} "
        f"(rate {res['error_rate']}); alerts written {a['written']}, events delivered "
        f"{a['delivered_events']}/{a['expected_events']}"
        + (f"; stream errors {a['stream_errors']}" if a["stream_errors"] else "")
    )
