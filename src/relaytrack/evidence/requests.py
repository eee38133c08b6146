"""Agency requests for footage: request -> supervisor approval or refusal (with reasons) -> delivery of a
signed export -> outcome recorded later; and the monthly statistics the control-room centre publishes.

States: requested -> approved -> delivered, or requested -> refused. Every transition is checked (role, case,
state) and written to the audit chain; an illegal one raises and changes nothing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from relaytrack.clock import KST
from relaytrack.errors import AccessDenied, InputError, NotFound
from relaytrack.evidence import audit
from relaytrack.evidence.access import authorize, require_member
from relaytrack.evidence.guard import check_name, check_text

OUTCOMES = ("arrest", "evidence_used", "suspect_identified", "no_result", "other")
MAX_SPAN_S = 31 * 86400.0  # one request covers at most a month of footage: minimum exposure


@dataclass
class Request:
    id: int
    agency: str
    requested_by: str | None
    case_no: str
    purpose: str
    cameras: list[str]
    t_start: float
    t_end: float
    drug_related: bool
    status: str
    created_at: float
    decided_by: str | None = None
    reason: str | None = None
    package_path: str | None = None
    package_digest: str | None = None
    outcome: str | None = None
    outcome_note: str | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def parse_time(value: str | float) -> float:
    """Epoch seconds from a number or an ISO time (no zone = Korea Standard Time)."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as err:
        raise InputError(f"time {value!r} is not ISO-8601 (e.g. 2026-11-25T14:00:00+09:00)") from err
    return (dt if dt.tzinfo else dt.replace(tzinfo=KST)).timestamp()


def get(conn, request_id: int) -> Request:
    row = conn.execute(
        "SELECT id, agency, requested_by, case_no, purpose, cameras, t_start, t_end, drug_related, status, created_at,"
        " decided_by, reason, package_path, package_digest, outcome, outcome_note FROM agency_requests WHERE id=?",
        (int(request_id),),
    ).fetchone()
    if row is None:
        raise NotFound(f"request {request_id} not found")
    r = list(row)
    r[5] = json.loads(r[5])
    r[8] = bool(r[8])
    return Request(*r)


def add(
    conn,
    db_path: Path | None,
    *,
    user: str | None,
    case: str | None,
    agency: str,
    purpose: str,
    cameras: list[str],
    start: str | float,
    end: str | float,
    drug_related: bool = False,
) -> int:
    """File a request (role with 'request' permission, assigned to the open case; an agency user files only
    for its own agency); returns its id."""
    ctx = authorize(conn, db_path, user=user, case=case, action="request")
    require_member(ctx, case)
    kw = {"conn": conn, "db_path": db_path, "user": user, "case": case, "action": "request"}
    check_name(agency, "agency", **kw)
    if ctx.role == "agency":
        own = conn.execute("SELECT agency FROM users WHERE name=?", (user,)).fetchone()
        if own is None or own[0] != agency:
            ctx.log(
                outcome="denied",
                detail={"reason": f"agency user files for {agency!r}, is {own and own[0]!r}"},
            )
            raise AccessDenied(f"request refused: user {user!r} files requests of its own agency only")
    check_text(purpose, "purpose", **kw)
    cams = [check_name(c, "camera id", **kw) for c in cameras]
    if not cams:
        raise InputError("request refused: name at least one camera")
    t0, t1 = parse_time(start), parse_time(end)
    if not t0 < t1 or t1 - t0 > MAX_SPAN_S:
        raise InputError(
            f"request refused: time range must be increasing and at most {MAX_SPAN_S / 86400:g} days"
        )
    cur = conn.execute(
        "INSERT INTO agency_requests(agency, requested_by, case_no, purpose, cameras, t_start, t_end, drug_related)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (agency, user, case, purpose, json.dumps(cams), t0, t1, int(bool(drug_related))),
    )
    ctx.log(
        detail={
            "request": cur.lastrowid,
            "agency": agency,
            "cameras": cams,
            "t_start": t0,
            "t_end": t1,
            "drug_related": bool(drug_related),
        },
        result_ids=[cur.lastrowid],
    )
    return int(cur.lastrowid)


def _transition(
    conn,
    db_path: Path | None,
    request_id: int,
    user: str | None,
    action: str,
    allowed_from: tuple,
) -> tuple[Request, object]:
    try:
        req = get(conn, request_id)
    except NotFound:
        audit.append(
            conn,
            db_path,
            user=user,
            case=None,
            action=action,
            outcome="denied",
            detail={"reason": "no such request", "request": request_id},
        )
        raise
    ctx = authorize(conn, db_path, user=user, case=req.case_no, action=action, detail={"request": request_id})
    if action == "request":  # an outcome is reported by someone on the case (an agency: on its own cases)
        require_member(ctx, req.case_no, open_only=False)
    if req.status not in allowed_from:
        ctx.log(outcome="denied", detail={"reason": f"request is {req.status}", "request": request_id})
        raise InputError(f"request {request_id} is {req.status}; {action} needs {' or '.join(allowed_from)}")
    return req, ctx


def approve(conn, db_path: Path | None, request_id: int, *, user: str | None, note: str = "") -> None:
    req, ctx = _transition(conn, db_path, request_id, user, "approve", ("requested",))
    if note:
        check_text(note, "note", conn=conn, db_path=db_path, user=user, case=req.case_no, action="approve")
    if req.requested_by == user:
        ctx.log(
            outcome="denied", detail={"reason": "requester cannot approve own request", "request": request_id}
        )
        raise AccessDenied(f"approve refused: {user} filed request {request_id} and cannot approve it")
    conn.execute(
        "UPDATE agency_requests SET status='approved', decided_by=?, decided_at=?, reason=? WHERE id=?",
        (user, time.time(), note or None, request_id),
    )
    ctx.log(detail={"request": request_id, "decision": "approved", "note": note}, result_ids=[request_id])


def refuse(conn, db_path: Path | None, request_id: int, *, user: str | None, reason: str) -> None:
    req, ctx = _transition(conn, db_path, request_id, user, "approve", ("requested", "approved"))
    check_text(
        reason, "refusal reason", conn=conn, db_path=db_path, user=user, case=req.case_no, action="approve"
    )
    conn.execute(
        "UPDATE agency_requests SET status='refused', decided_by=?, decided_at=?, reason=? WHERE id=?",
        (user, time.time(), reason, request_id),
    )
    ctx.log(detail={"request": request_id, "decision": "refused", "reason": reason}, result_ids=[request_id])


def deliver(conn, db_path: Path | None, request_id: int, *, user: str | None, package: Path) -> str:
    """Record delivery of an export package (verified first); returns the manifest digest."""
    from relaytrack.evidence.package import verify_package

    req, ctx = _transition(conn, db_path, request_id, user, "export", ("approved",))
    if ctx.role == "agency":  # an agency takes delivery of what was exported for this request, nothing else
        made = conn.execute("SELECT request_id FROM exports WHERE path=?", (str(package),)).fetchone()
        if made is None or made[0] != request_id:
            ctx.log(
                outcome="denied",
                detail={"reason": "package not exported for this request", "request": request_id},
            )
            raise AccessDenied(
                f"deliver refused: package {package} was not exported for request {request_id}"
            )
    res = verify_package(Path(package))
    if not res.ok:
        ctx.log(
            outcome="denied",
            detail={"reason": f"package does not verify: {res.problems[:3]}", "request": request_id},
        )
        raise InputError(f"deliver refused: package {package} does not verify ({res.problems[0]})")
    if res.case != req.case_no:
        ctx.log(outcome="denied", detail={"reason": f"package is for case {res.case}", "request": request_id})
        raise AccessDenied(
            f"deliver refused: package {package} was exported for case {res.case}, "
            f"request {request_id} is for {req.case_no}"
        )
    conn.execute(
        "UPDATE agency_requests SET status='delivered', delivered_by=?, delivered_at=?, package_path=?,"
        " package_digest=? WHERE id=?",
        (user, time.time(), str(package), res.manifest_digest, request_id),
    )
    ctx.log(
        action="deliver",
        detail={
            "request": request_id,
            "agency": req.agency,
            "package": str(package),
            "manifest_sha256": res.manifest_digest,
            # The signer is pinned in the delivery record: a recipient can check the package against it.
            "signer_key_id": res.key_id,
        },
        result_ids=[request_id],
    )
    return res.manifest_digest


def record_outcome(
    conn, db_path: Path | None, request_id: int, *, user: str | None, outcome: str, note: str = ""
) -> None:
    if outcome not in OUTCOMES:
        raise InputError(f"outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
    req, ctx = _transition(conn, db_path, request_id, user, "request", ("delivered", "approved", "refused"))
    if note:
        check_text(
            note, "outcome note", conn=conn, db_path=db_path, user=user, case=req.case_no, action="request"
        )
    conn.execute(
        "UPDATE agency_requests SET outcome=?, outcome_note=?, outcome_at=? WHERE id=?",
        (outcome, note or None, time.time(), request_id),
    )
    ctx.log(
        action="outcome",
        detail={"request": request_id, "outcome": outcome, "note": note},
        result_ids=[request_id],
    )


# ---- statistics ----------------------------------------------------------------------------------------------

STAT_COLUMNS = (
    "month",
    "agency",
    "requests",
    "approved",
    "refused",
    "delivered",
    "pending",
    "drug_related",
    "drug_related_delivered",
    "outcomes_recorded",
    "arrests",
    "evidence_used",
)


def _month_bounds(month: str) -> tuple[float, float]:
    try:
        y, m = (int(x) for x in month.split("-"))
        start = datetime(y, m, 1, tzinfo=KST)
    except (ValueError, TypeError) as err:
        raise InputError(f"month {month!r}: use YYYY-MM") from err
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=KST)
    return start.timestamp(), end.timestamp()


def stats(conn, month: str | None = None) -> list[dict]:
    """Per (month, agency) counts, months in Korea time by request date; one month when `month` is given.
    A final row per month with agency 'ALL' sums the agencies."""
    where, params = "", ()
    if month:
        where, params = "WHERE created_at >= ? AND created_at < ?", _month_bounds(month)
    rows = conn.execute(
        f"SELECT created_at, agency, status, drug_related, outcome FROM agency_requests {where}", params
    ).fetchall()
    table: dict[tuple[str, str], dict] = {}
    for created, agency, status, drug, outcome in rows:
        mon = datetime.fromtimestamp(created, KST).strftime("%Y-%m")
        for key in ((mon, agency), (mon, "ALL")):
            r = table.setdefault(key, {c: 0 for c in STAT_COLUMNS[2:]})
            r["requests"] += 1
            r["approved"] += status in ("approved", "delivered")
            r["refused"] += status == "refused"
            r["delivered"] += status == "delivered"
            r["pending"] += status == "requested"
            r["drug_related"] += bool(drug)
            r["drug_related_delivered"] += bool(drug) and status == "delivered"
            r["outcomes_recorded"] += outcome is not None
            r["arrests"] += outcome == "arrest"
            r["evidence_used"] += outcome == "evidence_used"
    out = []
    for mon, agency in sorted(table, key=lambda k: (k[0], k[1] == "ALL", k[1])):
        out.append({"month": mon, "agency": agency, **table[(mon, agency)]})
    if month and not out:
        out.append({"month": month, "agency": "ALL", **{c: 0 for c in STAT_COLUMNS[2:]}})
    return out


def stats_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=STAT_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def stats_html(rows: list[dict], title: str = "CCTV footage requests by agency") -> str:
    """A small self-contained report; every value is escaped (names come from users)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in STAT_COLUMNS)
    body = "".join(
        "<tr"
        + (' class="all"' if r["agency"] == "ALL" else "")
        + ">"
        + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in STAT_COLUMNS)
        + "</tr>"
        for r in rows
    )
    tot = [r for r in rows if r["agency"] == "ALL"]
    summary = ""
    if tot:
        req = sum(r["requests"] for r in tot)
        dlv = sum(r["delivered"] for r in tot)
        drug = sum(r["drug_related"] for r in tot)
        summary = (
            f"<p>{req} requests, {dlv} delivered ({(100.0 * dlv / req) if req else 0:.1f}%), "
            f"{drug} drug-related; {sum(r['arrests'] for r in tot)} arrests contributed.</p>"
        )
    return (
        '<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>' + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px 8px;text-align:right}th{background:#eee}"
        "tr.all td{font-weight:bold;background:#f6f6f6}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{summary}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>Generated {html.escape(datetime.now(KST).isoformat(timespec='seconds'))} by relaytrack.</p>"
        "</body></html>"
    )
