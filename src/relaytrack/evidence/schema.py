"""Users, cases, assignments and the hash-chained audit log."""

MIGRATIONS = [
    (
        "001_access",
        """
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,            -- operator | investigator | supervisor | auditor | agency
            agency TEXT,                   -- police | fire | prosecution | other (for role=agency)
            password_hash TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE TABLE cases (
            case_no TEXT PRIMARY KEY,
            legal_basis TEXT NOT NULL,     -- warrant / request number
            purpose TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open',   -- open | closed
            legal_hold INTEGER NOT NULL DEFAULT 1,
            created_by TEXT,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE TABLE case_members (
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            user_name TEXT NOT NULL REFERENCES users(name),
            PRIMARY KEY (case_no, user_name)
        );
        CREATE TABLE case_sightings (
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            sighting_id INTEGER NOT NULL,
            note TEXT,
            PRIMARY KEY (case_no, sighting_id)
        );
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            user_name TEXT,
            case_no TEXT,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,          -- ok | denied | error
            detail TEXT NOT NULL DEFAULT '{}',
            result_ids TEXT NOT NULL DEFAULT '[]',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
        """,
    ),
]


def _keyed_audit(conn) -> None:
    # A keyed MAC beside each entry's plain hash: someone who can write the database file can recompute
    # SHA-256 hashes, but not an HMAC whose key lives outside the database (see audit.py).
    cols = {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}
    if "mac" not in cols:
        conn.execute("ALTER TABLE audit_log ADD COLUMN mac TEXT")


MIGRATIONS.append(("002_keyed_audit", _keyed_audit))

MIGRATIONS.append(
    (
        "003_auth_requests",
        """
        ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE users ADD COLUMN locked_until REAL;
        ALTER TABLE cases ADD COLUMN closed_at REAL;
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            user_name TEXT NOT NULL REFERENCES users(name),
            token_hash TEXT NOT NULL UNIQUE,   -- SHA-256 of the secret; the secret itself is never stored
            label TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec')),
            expires_at REAL NOT NULL,
            revoked_at REAL,
            last_used_at REAL
        );
        CREATE INDEX api_tokens_user ON api_tokens(user_name);
        CREATE TABLE agency_requests (
            id INTEGER PRIMARY KEY,
            agency TEXT NOT NULL,              -- police | fire | prosecution | ... (free name, validated)
            requested_by TEXT REFERENCES users(name),
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            purpose TEXT NOT NULL,
            cameras TEXT NOT NULL DEFAULT '[]',   -- JSON list of camera ids
            t_start REAL NOT NULL, t_end REAL NOT NULL,   -- epoch seconds
            drug_related INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'requested',   -- requested | approved | refused | delivered
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec')),
            decided_by TEXT, decided_at REAL, reason TEXT,
            delivered_by TEXT, delivered_at REAL, package_path TEXT, package_digest TEXT,
            outcome TEXT, outcome_note TEXT, outcome_at REAL
        );
        CREATE INDEX agency_requests_created ON agency_requests(created_at);
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            user_name TEXT NOT NULL,
            path TEXT NOT NULL,
            manifest_digest TEXT NOT NULL,      -- SHA-256 of manifest.json
            request_id INTEGER REFERENCES agency_requests(id),
            sightings TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        """,
    )
)

# The operating-system account that ran the process, beside the claimed user: `--user` on the CLI is a claim,
# the account is what the kernel says. New entries cover it in their hash (audit.entry_hash); old rows keep NULL.
MIGRATIONS.append(("004_audit_host_account", "ALTER TABLE audit_log ADD COLUMN host_account TEXT;"))

# Sightings a case was shown (search hits, relay hops, views, exports): another case's later hold does not take
# them away from it (no "hold stealing"); see access.authorize_sightings.
MIGRATIONS.append(
    (
        "005_case_finds",
        """
        CREATE TABLE case_finds (
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            sighting_id INTEGER NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            first_at REAL NOT NULL,
            PRIMARY KEY (case_no, sighting_id)
        );
        CREATE INDEX case_finds_sighting ON case_finds(sighting_id);
        """,
    )
)


def _backfill_finds(conn) -> None:
    # A store from before finds were kept: what the audit log says each case was shown (search, relay and view
    # results are sighting ids) and what it exported count as found, so the rule locks no case out of evidence
    # it already had.
    import json

    cases = {r[0] for r in conn.execute("SELECT case_no FROM cases")}
    first: dict[tuple[str, int], float] = {}
    for case, ids, ts in conn.execute(
        "SELECT case_no, result_ids, ts FROM audit_log WHERE case_no IS NOT NULL AND outcome='ok'"
        " AND action IN ('search', 'relay', 'view') ORDER BY seq"
    ):
        try:
            found = json.loads(ids or "[]")
        except ValueError:
            continue
        for i in found if isinstance(found, list) else []:
            if isinstance(i, int) and case in cases:
                first.setdefault((case, i), float(ts))
    for case, ids, ts in conn.execute("SELECT case_no, sightings, created_at FROM exports ORDER BY id"):
        for i in json.loads(ids or "[]"):
            if isinstance(i, int) and case in cases:
                first.setdefault((case, i), float(ts))
    ids = sorted({i for _, i in first})
    known: set[int] = set()
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        known.update(
            r[0]
            for r in conn.execute(
                f"SELECT id FROM sightings WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    conn.executemany(
        "INSERT INTO case_finds(case_no, sighting_id, first_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
        [(c, i, t) for (c, i), t in first.items() if i in known],
    )


MIGRATIONS.append(("006_case_finds_backfill", _backfill_finds))

# Failed authentication per client (evidence.throttle): progressive delays and flood summaries.
MIGRATIONS.append(
    (
        "007_auth_failures",
        """
        CREATE TABLE auth_failures (
            client TEXT PRIMARY KEY,               -- "login:<address>" or "token:<address>"
            failures INTEGER NOT NULL DEFAULT 0,   -- failures in the current window
            first_at REAL NOT NULL,
            last_at REAL NOT NULL,
            blocked_until REAL NOT NULL DEFAULT 0, -- no attempt before this time
            suppressed INTEGER NOT NULL DEFAULT 0, -- failures not written to the audit log one by one
            throttled INTEGER NOT NULL DEFAULT 0,  -- attempts refused inside the delay
            names TEXT NOT NULL DEFAULT '[]'       -- account names tried (the first few)
        );
        """,
    )
)

# A case's notes (the case folder, issue 19 item 5): what an investigator writes down beside the searches,
# routes and exports the audit log and the stages' tables already keep. Notes are never edited or deleted.
MIGRATIONS.append(
    (
        "008_case_notes",
        """
        CREATE TABLE case_notes (
            id INTEGER PRIMARY KEY,
            case_no TEXT NOT NULL REFERENCES cases(case_no),
            user_name TEXT,
            text TEXT NOT NULL,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE INDEX case_notes_case ON case_notes(case_no, id);
        """,
    )
)

# A case's audit entries by action (the case folder's searches and verdicts, a case's trail for an auditor)
# without reading the whole log.
MIGRATIONS.append(("009_audit_case_index", "CREATE INDEX audit_log_case ON audit_log(case_no, action, seq);"))
