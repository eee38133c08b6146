"""Cases, roles, the audit chain, masked evidence exports, agency requests, retention and input guards.

Public API (for the demo, the HTTP service and the other stages). `conn` is `Store.conn`, `db_path` is
`Store.path` (the audit anchor file lives beside it); functions that take both append to the audit chain.

Identity and access (`relaytrack.evidence.access`)
    authorize(conn, db_path, *, user, case, action, detail=None) -> AccessContext
        Raises AccessDenied (logged) for an unknown/inactive user, a role without the action, or, for
        search/relay/view/export, a missing/unknown/closed case the user is not assigned to (supervisors may
        act on any open case). `ctx.log(detail=..., result_ids=[...], outcome="ok", action=None) -> seq`.
    ROLES, PERMISSIONS, CASE_ACTIONS; identity(user, case) -> (user, case) with RELAYTRACK_USER/_CASE.
    create_user(conn, name, role, *, password_hash=None, agency=None); create_case(conn, case_no, *,
        legal_basis, purpose, created_by=None, members=()); assign(conn, case_no, user);
        set_case_status(conn, case_no, status="open"|"closed", legal_hold=bool).
    hold_sightings(conn, case_no, ids, note="")  bind sightings to a case (legal hold; other cases refused).
    authorize_sightings(ctx, ids, partial=False, record=True) -> SightingGrant(allowed, withheld, missing)
        THE gate of every footage-derived read (rows, crops, boxes, video, search hits, relay hops and
        verdicts, exports, pursuits), CLI and service alike: another case's held sightings are withheld unless
        this case holds them too or found them first (case_finds; no "hold stealing"). partial=False refuses
        (logged) any unknown or withheld id; partial=True lets the caller drop or mask the withheld ones.
        check_case_ids(ctx, ids) is the refusing form. case_search(ctx, run, top) runs a ranked search and
        returns the exact top of what the case may see; hidden_sightings(conn, case) feeds the relay engine;
        visible_sql()/visible_params(case) say the same in SQL for listings.
    require_member(ctx, case, open_only=True); audit_cases(conn, user, role); authorize_audit(conn, db_path, *,
        user, case): audit trails per case (supervisors all, auditors and agencies their assigned cases).
    ensure_demo_identity(conn, db_path=None) -> ("demo", "DEMO-0001")  idempotent: investigator `demo`,
        open case DEMO-0001 (legal basis, purpose) with demo as member.

Authentication for the HTTP service (`relaytrack.evidence.auth`)
    login(conn, name, password, *, hours=12, db_path=None, client=None) -> str token ("rt_..."); AccessDenied
        (logged) with one message and the same password work for an unknown user, a wrong password, a disabled
        or password-less account; no account lock-out. With `client`, failures are delayed progressively per
        client (Throttled, HTTP 429) and floods summarised in one audit entry (`relaytrack.evidence.throttle`).
    authenticate_token(conn, token, *, db_path=None, client=None) -> User(name, role, agency, token_id);
        AccessDenied (logged; floods per client summarised) for malformed, unknown/forged, expired or revoked
        tokens. user_of_token_id(conn, id, name) checks the token a signed media URL names. Then call
        authorize(conn, db_path, user=user.name, case=..., action=...).
    issue_token(conn, name, *, hours, label, db_path) -> str; revoke_token(conn, token_id, *, by, db_path);
    revoke_user_tokens(conn, name, ...); set_password(conn, name, password, db_path); hash_password(pw).
    Passwords: argon2id (64 MiB, t=3); tokens stored only as SHA-256.

Input guards (`relaytrack.evidence.guard`): each raises InputError and, given conn=..., logs the refusal.
    check_name(value, what, ...)   identifiers (users, cases, agencies, camera ids)
    check_text(value, what, max_len=500, ...)   free text / search queries: no control chars, markup, SQL syntax
    check_upload(data, limit=10 MiB, kinds=("jpeg","png"), ...) -> bytes
    safe_join(root, name, what, ...) -> Path inside root (no '..', absolute paths, NUL, symlink escapes)

Audit chain (`relaytrack.evidence.audit`)
    append(conn, db_path, *, user, case, action, outcome="ok", detail=None, result_ids=None) -> seq
    verify(conn, db_path=None) -> VerifyResult(ok, entries, problem, bad_seq, keyed, warning)
    export_case(conn, case) -> list[dict]; sync_anchor(conn, db_path)
    Entries are SHA-256 chained and HMAC'd with a key outside the DB (home_dir()/keys/audit.key, or
    RELAYTRACK_AUDIT_KEY); the head is anchored in <db>.audit-anchor.

Evidence export (`relaytrack.evidence.export`, `.package`, `.mask`)
    hops_from_route(conn, route: relay Route) / hops_from_sightings(conn, ids) / hops_from_alert(conn, id)
        / hops_from_request(conn, cameras, t_start, t_end, targets=None) -> list[Hop]
    select_hops(conn, *, route=None, sightings=None, alert=None, request_id=None, case=None, names=None)
        -> list[Hop] (`relaytrack.evidence.hops`): the one rule every export uses: exactly one source
        (sightings with a request are its targets); check_source(names, ...) checks it before any reading.
    export_evidence(store, out_dir, hops, *, user, case, pre_roll=2.0, post_roll=2.0,
        settings=MaskSettings(method="pixelate"|"blur", detect=True, faces=True), export_root=None,
        request_id=None, progress=None) -> ExportResult(path, manifest_sha256, hops, audit_seq, export_id)
    verify_package(path, trusted_key=None) -> PackageVerify(ok, problems, warnings, case, files, key_id,
        manifest_digest). Signing key: home_dir()/keys/evidence-ed25519.pem (+ .pub).

Agency requests (`relaytrack.evidence.requests`)
    add(conn, db_path, *, user, case, agency, purpose, cameras, start, end, drug_related=False) -> id
    approve(conn, db_path, id, *, user, note="") / refuse(..., reason) / deliver(..., package) -> digest
    record_outcome(conn, db_path, id, *, user, outcome in OUTCOMES, note="")
    stats(conn, month="YYYY-MM"|None) -> rows; stats_csv(rows) -> str; stats_html(rows) -> str

Retention (`relaytrack.evidence.retention`)
    purge(conn, db_path, *, days=None, dry_run=False, user=None) -> PurgeResult (counts; logged)

CLI: relaytrack audit verify|export, users add|passwd|token|revoke-token, cases add|assign|close,
evidence export|verify, requests add|approve|refuse|deliver|outcome|stats, retention purge
(relaytrack/cli/evidence.py); bench masking (relaytrack/bench/evidence.py).
"""

from relaytrack.store.db import on_commit


@on_commit
def _sync_audit_anchor(store) -> None:
    """Audit entries appended inside a store transaction move the chain's anchor only once it commits."""
    from relaytrack.evidence.audit import sync_anchor

    sync_anchor(store.conn, store.path)
