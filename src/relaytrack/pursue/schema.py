"""Tables owned by this stage (see relaytrack.store.db for how migrations are applied).

- pursuits: one live pursuit: who started it, for which case, from which sighting, and how it stands.
- pursuit_events: every event of a pursuit as the JSON line the CLI writes (prediction, handoff, lost,
  ended, camera_down), with its footage time, for the console and the audit.
- pursuit_verdicts: the operator's confirm/reject of a hand-off, written by `relaytrack pursue confirm|reject`
  (or the console) and read by the running pursuit, which marks them applied.

`002_heartbeat`: a running pursuit writes `heartbeat_at` every few seconds (relaytrack.pursue.control), so a
reader can tell one whose process died (killed, crashed, the machine lost) from one still running: the stored
status stays what the pursuit last wrote, "stale" is derived when read. `stop_by`/`stop_at`: who asked a
running pursuit to stop and when; the pursuit reads it (its own process or another) and ends saying so.
"""

MIGRATIONS = [
    (
        "001_pursuit",
        """
        CREATE TABLE pursuits (
            id INTEGER PRIMARY KEY,
            case_no TEXT,
            user_name TEXT,
            origin_id INTEGER NOT NULL,
            cameras_file TEXT,
            status TEXT NOT NULL DEFAULT 'running',    -- running | lost | ended | stopped
            anchor_id INTEGER,                          -- the sighting the pursuit now continues from
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec')),
            ended_at REAL
        );
        CREATE TABLE pursuit_events (
            id INTEGER PRIMARY KEY,
            pursuit_id INTEGER NOT NULL REFERENCES pursuits(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            time_wall REAL NOT NULL,                    -- footage wall-clock time of the event
            camera_id TEXT,
            sighting_id INTEGER,
            body TEXT NOT NULL,                         -- the JSON line as written to --json
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE INDEX pursuit_events_pursuit ON pursuit_events(pursuit_id, id);
        CREATE TABLE pursuit_verdicts (
            id INTEGER PRIMARY KEY,
            pursuit_id INTEGER NOT NULL REFERENCES pursuits(id) ON DELETE CASCADE,
            sighting_id INTEGER NOT NULL,
            verdict TEXT NOT NULL,                      -- confirm | reject
            user_name TEXT,
            applied INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        """,
    ),
    (
        "002_heartbeat",
        """
        ALTER TABLE pursuits ADD COLUMN heartbeat_at REAL;
        ALTER TABLE pursuits ADD COLUMN stop_by TEXT;
        ALTER TABLE pursuits ADD COLUMN stop_at REAL;
        """,
    ),
]
