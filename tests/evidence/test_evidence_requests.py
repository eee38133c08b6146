import csv
import io

import pytest

from relaytrack.errors import AccessDenied, InputError
from relaytrack.evidence import requests as rq
from relaytrack.evidence.export import export_evidence, hops_from_request
from relaytrack.evidence.mask import MaskSettings

START, END = "2026-11-25T14:00:00+09:00", "2026-11-25T15:00:00+09:00"


def _add(store, **kw):
    args = dict(
        user="kim",
        case="C-1",
        agency="police",
        purpose="drug courier route",
        cameras=["CAM1"],
        start=START,
        end=END,
        drug_related=True,
    )
    args.update(kw)
    return rq.add(store.conn, store.path, **args)


def test_request_lifecycle_and_stats(store):
    r1 = _add(store)
    r2 = _add(store, agency="fire", drug_related=False)
    r3 = _add(store)
    with pytest.raises(AccessDenied, match="may not approve"):
        rq.approve(store.conn, store.path, r1, user="kim")
    rq.approve(store.conn, store.path, r1, user="park")
    rq.refuse(store.conn, store.path, r2, user="park", reason="no legal basis given for fire inquiry")
    with pytest.raises(InputError, match="refused"):
        rq.approve(store.conn, store.path, r2, user="park")
    store.conn.execute("UPDATE agency_requests SET status='delivered' WHERE id=?", (r1,))
    rq.record_outcome(store.conn, store.path, r1, user="kim", outcome="arrest", note="courier arrested")
    assert rq.get(store.conn, r2).reason.startswith("no legal basis")
    month = rq.stats(store.conn)[0]["month"]
    rows = {r["agency"]: r for r in rq.stats(store.conn, month)}
    assert rows["police"]["requests"] == 2 and rows["police"]["delivered"] == 1
    assert (
        rows["police"]["drug_related"] == 2
        and rows["police"]["arrests"] == 1
        and rows["police"]["pending"] == 1
    )
    assert rows["fire"]["refused"] == 1 and rows["ALL"]["requests"] == 3
    parsed = list(csv.DictReader(io.StringIO(rq.stats_csv(list(rows.values())))))
    assert parsed[0].keys() >= {"month", "agency", "requests", "delivered", "drug_related", "arrests"}
    assert r3 and rq.stats(store.conn, "1999-01")[0]["requests"] == 0


def test_html_report_escapes(store):
    rows = [
        {"month": "2026-11", "agency": "<script>alert(1)</script>", **{c: 0 for c in rq.STAT_COLUMNS[2:]}}
    ]
    page = rq.stats_html(rows)
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_requester_cannot_approve_own(store):
    store.conn.execute("INSERT INTO case_members VALUES ('C-1', 'park')")
    rid = _add(store, user="park")
    with pytest.raises(AccessDenied, match="cannot approve"):
        rq.approve(store.conn, store.path, rid, user="park")


@pytest.mark.parametrize(
    "kw,err",
    [
        ({"agency": "police'; DROP TABLE agency_requests;--"}, InputError),
        ({"purpose": "<script>alert(1)</script>"}, InputError),
        ({"purpose": "x' OR 1=1"}, InputError),
        ({"cameras": ["../../etc"]}, InputError),
        ({"start": END, "end": START}, InputError),
        ({"start": "yesterday"}, InputError),
        ({"case": "C-2"}, AccessDenied),
        ({"user": "aud"}, AccessDenied),
    ],
)
def test_hostile_requests_refused_and_nothing_stored(store, kw, err):
    with pytest.raises(err):
        _add(store, **kw)
    assert store.one("SELECT COUNT(*) FROM agency_requests")[0] == 0
    assert store.one("SELECT name FROM sqlite_master WHERE name='agency_requests'") is not None


def test_deliver_checks_package_case_and_state(store, add_sightings, tmp_path):
    import cv2
    import numpy as np

    seq = tmp_path / "seq" / "img1"
    seq.mkdir(parents=True)
    for f in range(1, 11):
        cv2.imwrite(str(seq / f"{f:06d}.png"), np.full((48, 64, 3), 100, np.uint8))
    from relaytrack.evidence.requests import parse_time

    add_sightings(store, uri=str(seq.parent), n=1, wall=parse_time(START))
    rid = _add(store)
    req = rq.get(store.conn, rid)
    hops = hops_from_request(store.conn, req.cameras, req.t_start, req.t_end)
    # An export for a request that is not approved is refused; a package of the case made without the request
    # still cannot be delivered before approval.
    with pytest.raises(AccessDenied, match="only an approved request"):
        export_evidence(store, tmp_path / "early", hops, user="kim", case="C-1", request_id=rid)
    pkg = export_evidence(
        store,
        tmp_path / "pkg",
        hops,
        user="kim",
        case="C-1",
        settings=MaskSettings(detect=False, faces=False),
    ).path
    with pytest.raises(InputError, match="needs approved"):
        rq.deliver(store.conn, store.path, rid, user="kim", package=pkg)
    rq.approve(store.conn, store.path, rid, user="park")
    (pkg / "README.txt").write_text("changed")
    with pytest.raises(InputError, match="does not verify"):
        rq.deliver(store.conn, store.path, rid, user="kim", package=pkg)
    assert rq.get(store.conn, rid).status == "approved"
