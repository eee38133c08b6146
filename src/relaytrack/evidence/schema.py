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
