"""Finding 4 of issue 18: one gate for case access (relaytrack.evidence.access.authorize_sightings), walked
command by command on the CLI as each role; every refusal is written to the audit log. The routes of the
service are walked in tests/service/test_case_access_routes.py."""

from __future__ import annotations

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.errors import AccessDenied
from relaytrack.evidence import access as acc
from relaytrack.evidence import requests as rq
from relaytrack.evidence.requests import parse_time
from relaytrack.store import Store

START, END = "2026-11-25T14:00:00+09:00", "2026-11-25T15:00:00+09:00"


@pytest.fixture
def world(store, add_sightings, tmp_path):
    """Footage on CAM1 (ten frames) with three people; the third is C-2's evidence. police1 and op work on
    C-1, aud audits C-1, C-3 is closed with police1 on it."""
    seq = tmp_path / "seq" / "img1"
    seq.mkdir(parents=True)
    for f in range(1, 11):
        cv2.imwrite(str(seq / f"{f:06d}.png"), np.full((48, 64, 3), 100, np.uint8))
    ids = add_sightings(store, uri=str(seq.parent), n=3, wall=parse_time(START) + 60)
    with store.tx() as conn:
        for user in ("police1", "op", "aud"):
            acc.assign(conn, "C-1", user)
        acc.create_case(conn, "C-3", legal_basis="warrant 3", purpose="old case", members=["police1", "kim"])
        acc.set_case_status(conn, "C-3", status="closed")
        acc.hold_sightings(conn, "C-2", [ids[2]], note="theft evidence")
    db = store.url
    store.close()
    return SimpleNamespace(db=db, free=ids[:2], held=ids[2], tmp=tmp_path)


def cli(w, *argv: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, [*argv, "--db", w.db])
    # A refusal is raised as the library's error (`main()` prints it): its message counts as output here.
    err = "" if r.exception is None or isinstance(r.exception, SystemExit) else str(r.exception)
    return r.exit_code, r.output + err


def denials(w) -> list[tuple]:
    with Store(w.db) as s:
        return [
            tuple(r)
            for r in s.query(
                "SELECT user_name, case_no, action, detail FROM audit_log WHERE outcome='denied' ORDER BY seq"
            )
        ]


def refused(w, *argv: str, user: str, match: str = "") -> tuple:
    """Run a command that must be refused; returns its audit entry (there must be a new one)."""
    before = len(denials(w))
    code, out = cli(w, *argv)
    assert code != 0, (argv, out)
    assert match in out, out
    new = denials(w)[before:]
    assert new and new[-1][0] == user, (argv, new)
    return new[-1]


def listed(w, user: str, case: str) -> list[int]:
    code, out = cli(w, "sightings", "--user", user, "--case", case, "--json")
    assert code == 0, out
    return [s["sighting"] for s in json.loads(out)]


# ---- reads by id and lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["kim", "op", "park", "police1"])
def test_sightings_list_leaves_out_other_cases_evidence(world, user):
    assert listed(world, user, "C-1") == world.free
    assert listed(world, "lee", "C-2") == [*world.free, world.held]
    assert listed(world, "park", "C-2") == [*world.free, world.held]  # a supervisor acting for C-2


@pytest.mark.parametrize(
    "user,case,match",
    [("lee", "C-1", "not assigned"), ("aud", "C-1", "may not view"), ("kim", "C-3", "closed")],
)
def test_sightings_list_refused_outside_ones_cases(world, user, case, match):
    refused(world, "sightings", "--user", user, "--case", case, user=user, match=match)


def test_search_by_another_cases_sighting_refused(world):
    entry = refused(
        world,
        "search",
        "--sighting",
        str(world.held),
        "--user",
        "kim",
        "--case",
        "C-1",
        user="kim",
        match="another case",
    )
    assert entry[1:3] == ("C-1", "search")


def test_relay_from_another_cases_sighting_refused(world):
    refused(
        world,
        "relay",
        "--from",
        str(world.held),
        "--json",
        "--user",
        "kim",
        "--case",
        "C-1",
        user="kim",
        match="another case",
    )


@pytest.mark.parametrize("verdict", ["confirm", "reject"])
def test_relay_verdict_on_another_cases_sighting_refused(world, verdict):
    args = ("relay", verdict, str(world.free[0]), str(world.held), "--user", "kim", "--case", "C-1")
    refused(world, *args, user="kim", match="another case")
    with Store(world.db) as s:
        assert s.one("SELECT COUNT(*) FROM relay_feedback")[0] == 0
    code, out = cli(
        world, "relay", verdict, str(world.held), str(world.free[0]), "--user", "lee", "--case", "C-2"
    )
    assert code == 0, out


def test_pursuit_of_another_cases_sighting_refused(world, tmp_path):
    cams = tmp_path / "cams.yaml"
    cams.write_text("cameras:\n  - {id: CAM1, stream_url: 'rtsp://127.0.0.1:1/none'}\n")
    refused(
        world,
        "pursue",
        "--from",
        str(world.held),
        "--cameras",
        str(cams),
        "--user",
        "kim",
        "--case",
        "C-1",
        user="kim",
        match="another case",
    )
    with Store(world.db) as s, s.tx() as conn:
        conn.execute(
            "INSERT INTO pursuits(case_no, user_name, origin_id) VALUES ('C-2', 'lee', ?)", (world.held,)
        )
        pid = s.one("SELECT MAX(id) FROM pursuits")[0]
    refused(
        world, "pursue", "confirm", str(pid), str(world.free[0]), "--user", "kim", "--case", "C-1", user="kim"
    )


# ---- exports and hold stealing ---------------------------------------------------------------------------


def _export(w, user: str, case: str, ids: list[int], name: str) -> tuple[int, str]:
    out = w.tmp / name
    return cli(
        w,
        "evidence",
        "export",
        "--sightings",
        ",".join(map(str, ids)),
        "--out",
        str(out),
        "--no-detect",
        "--no-faces",
        "--user",
        user,
        "--case",
        case,
    )


def test_export_of_another_cases_sighting_refused(world):
    before = len(denials(world))
    code, out = _export(world, "kim", "C-1", [world.held], "x")
    assert code != 0 and "another case" in out
    assert len(denials(world)) == before + 1
    assert not (world.tmp / "x").exists()


def test_no_hold_stealing(world):
    """C-1 finds a sighting nobody holds; C-2 then exports it (and so holds it): C-1 keeps it, a case that
    never saw it does not get it."""
    s = world.free[0]
    assert s in listed(world, "kim", "C-1")  # C-1 is shown it: found
    code, out = _export(world, "lee", "C-2", [s], "by-c2")
    assert code == 0, out
    with Store(world.db) as st:
        assert (
            st.one("SELECT COUNT(*) FROM case_sightings WHERE case_no='C-2' AND sighting_id=?", (s,))[0] == 1
        )
        with st.tx() as conn:
            acc.create_user(conn, "choi", "investigator")
            acc.create_case(conn, "C-4", legal_basis="w4", purpose="other", members=["choi"])
    assert s in listed(world, "kim", "C-1")
    code, out = _export(world, "kim", "C-1", [s], "by-c1")
    assert code == 0, out
    assert s not in listed(world, "choi", "C-4")
    refused(world, "search", "--sighting", str(s), "--user", "choi", "--case", "C-4", user="choi")


# ---- agency requests and exports -------------------------------------------------------------------------


def _request(w, case: str, user: str = "police1", agency: str = "police") -> tuple[int, str]:
    return cli(
        w,
        "requests",
        "add",
        "--agency",
        agency,
        "--purpose",
        "courier route",
        "--cameras",
        "CAM1",
        "--start",
        START,
        "--end",
        END,
        "--user",
        user,
        "--case",
        case,
        "--json",
    )


@pytest.mark.parametrize(
    "case,agency,match",
    [("C-2", "police", "not assigned"), ("C-3", "police", "closed"), ("C-1", "fire", "own agency")],
    ids=["not-member", "closed", "other-agency"],
)
def test_agency_files_requests_only_on_its_open_cases(world, case, agency, match):
    before = len(denials(world))
    code, out = _request(world, case, agency=agency)
    assert code != 0 and match in out, out
    assert len(denials(world)) == before + 1
    with Store(world.db) as s:
        assert s.one("SELECT COUNT(*) FROM agency_requests")[0] == 0


def test_investigator_cannot_file_on_a_closed_case(world):
    code, out = _request(world, "C-3", user="kim")
    assert code != 0 and "closed" in out


def test_agency_exports_only_an_approved_request(world):
    code, out = _request(world, "C-1")
    assert code == 0, out
    rid = json.loads(out)["request"]
    # No request at all: refused, logged.
    before = len(denials(world))
    code, out = _export(world, "police1", "C-1", [world.free[0]], "none")
    assert code != 0 and "approved request" in out
    assert len(denials(world)) == before + 1
    # Not yet approved.
    args = ("requests", "deliver", str(rid), "--user", "police1")
    refused(world, *args, "--out", str(world.tmp / "early"), user="police1", match="requested")
    # Refused by a supervisor: still refused.
    with Store(world.db) as s:
        rq.refuse(s.conn, s.path, rid, user="park", reason="no legal basis")
    refused(world, *args, "--out", str(world.tmp / "refused"), user="police1", match="refused")
    assert not (world.tmp / "refused").exists()
    # Approved: the agency gets the requested span.
    code, out = _request(world, "C-1")
    rid2 = json.loads(out)["request"]
    with Store(world.db) as s:
        rq.approve(s.conn, s.path, rid2, user="park")
    code, out = cli(
        world, "requests", "deliver", str(rid2), "--out", str(world.tmp / "ok"), "--user", "police1"
    )
    assert code == 0, out
    custody = json.loads((world.tmp / "ok" / "custody.json").read_text())
    assert custody["request_id"] == rid2 and custody["pre_roll_s"] == 0.0
    # Nor does it take delivery of another package of its case (one not exported for the request).
    code, out = _request(world, "C-1")
    rid3 = json.loads(out)["request"]
    with Store(world.db) as s:
        rq.approve(s.conn, s.path, rid3, user="park")
    code, out = _export(world, "kim", "C-1", world.free, "kims")
    assert code == 0, out
    pkg = str(world.tmp / "kims")
    refused(world, "requests", "deliver", str(rid3), "--package", pkg, "--user", "police1", user="police1")


def test_export_with_another_cases_or_unapproved_request_refused(world):
    with Store(world.db) as s:
        rid = rq.add(
            s.conn, s.path, user="lee", case="C-2", agency="police", purpose="p", cameras=["CAM1"],
            start=START, end=END,
        )  # fmt: skip
        hops = [SimpleNamespace(sighting=None, camera="CAM1", first=1, last=5, source_id=None, uri=None)]
        from relaytrack.evidence.export import export_evidence

        for user, case, match in (("kim", "C-1", "another case"), ("lee", "C-2", "only an approved")):
            with pytest.raises(AccessDenied, match=match):
                export_evidence(s, world.tmp / f"r-{user}", hops, user=user, case=case, request_id=rid)


# ---- audit trails ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["aud", "police1"])
def test_auditor_and_agency_read_their_own_cases_trail_only(world, user):
    code, out = cli(world, "audit", "export", "--case", "C-1", "--user", user)
    assert code == 0 and json.loads(out)["case"] == "C-1", out
    refused(world, "audit", "export", "--case", "C-2", "--user", user, user=user, match="not assigned")


def test_supervisor_reads_any_trail(world):
    code, out = cli(world, "audit", "export", "--case", "C-2", "--user", "park")
    assert code == 0 and json.loads(out)["case"] == "C-2"


# ---- the gate itself -------------------------------------------------------------------------------------


def test_gate_ignores_a_claimed_case_outside_case_actions(store, add_sightings):
    ids = add_sightings(store, n=2)
    acc.hold_sightings(store.conn, "C-2", [ids[1]])
    # The alert wall checks no case membership, so a case named there proves nothing: held stays held.
    ctx = acc.authorize(store.conn, store.path, user="op", case="C-2", action="alerts")
    grant = acc.authorize_sightings(ctx, ids, partial=True)
    assert grant.allowed == [ids[0]] and grant.withheld == [ids[1]]
    assert store.one("SELECT COUNT(*) FROM case_finds")[0] == 0


def test_visible_sql_agrees_with_the_gate(store, add_sightings):
    ids = add_sightings(store, n=4)
    with store.tx() as conn:
        acc.hold_sightings(conn, "C-2", [ids[1], ids[2]])
        acc.hold_sightings(conn, "C-1", [ids[2]])
        acc.record_finds(conn, "C-1", [ids[3]])
        acc.hold_sightings(conn, "C-2", [ids[3]])
    for case in ("C-1", "C-2", None):
        sql = f"SELECT id FROM sightings WHERE {acc.visible_sql()} ORDER BY id"
        seen = [r[0] for r in store.query(sql, acc.visible_params(case))]
        assert seen == [i for i in ids if i not in acc.held_elsewhere(store.conn, case, ids)], case
    assert acc.held_elsewhere(store.conn, "C-1", ids) == {ids[1]}
    assert acc.hidden_sightings(store.conn, None) == {ids[1], ids[2], ids[3]}


def test_case_search_returns_the_exact_top_of_what_the_case_may_see(store, add_sightings):
    ids = add_sightings(store, n=3)
    acc.hold_sightings(store.conn, "C-2", [ids[0]])
    ctx = acc.authorize(store.conn, store.path, user="kim", case="C-1", action="search")
    asked = []

    def run(k: int):
        asked.append(k)
        return SimpleNamespace(hits=[SimpleNamespace(sighting=SimpleNamespace(id=i)) for i in ids[:k]])

    res, grant = acc.case_search(ctx, run, 1)
    assert asked == [2] and [h.sighting.id for h in res.hits] == [ids[1]] and grant.withheld == [ids[0]]
    assert [r[0] for r in store.query("SELECT sighting_id FROM case_finds WHERE case_no='C-1'")] == [ids[1]]


def test_finds_backfilled_from_the_audit_log(store, add_sightings):
    """A store from before finds were kept: what the log says C-1 was shown still counts as found."""
    from relaytrack.evidence import audit

    ids = add_sightings(store, n=2)
    audit.append(store.conn, store.path, user="kim", case="C-1", action="search", result_ids=[ids[0]])
    audit.append(store.conn, store.path, user="kim", case="C-1", action="alerts", result_ids=[ids[1]])
    with store.tx() as conn:
        conn.execute("DELETE FROM case_finds")
        conn.execute("DELETE FROM _migrations WHERE name='evidence:006_case_finds_backfill'")
    url = store.url
    store.close()
    with Store(url) as s:
        rows = s.query("SELECT case_no, sighting_id FROM case_finds ORDER BY sighting_id")
        assert [tuple(r) for r in rows] == [("C-1", ids[0])]
