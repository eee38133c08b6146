"""Tables owned by this stage (see relaytrack.store.db for how migrations are applied)."""

_V1 = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'courier',          -- courier | camera_down
    camera_id TEXT NOT NULL,
    source_uri TEXT,
    source_id INTEGER,                             -- sources.id when the watch also stored sightings
    track_id INTEGER,
    zone_id TEXT,
    zone_kind TEXT,
    start_s REAL,                                  -- seconds from the source's start
    end_s REAL,
    decided_s REAL,                                -- source time at which the score crossed the threshold
    wall_start REAL,
    wall_decided REAL,
    score REAL NOT NULL DEFAULT 0,
    reasons TEXT NOT NULL DEFAULT '[]',            -- JSON list of phrases
    explanation TEXT,
    signals TEXT,                                  -- JSON measured values
    boxes TEXT,                                    -- JSON [[frame, t, x, y, w, h], ...] of the track
    clip_path TEXT,
    keyframes TEXT,                                -- JSON list of JPEG paths
    sighting_id INTEGER,
    status TEXT NOT NULL DEFAULT 'new',            -- new | acked | false_alarm
    suppressed INTEGER NOT NULL DEFAULT 0,         -- 1 = throttled (kept for tuning, not shown)
    latency_s REAL,                                -- wall seconds from frame capture to stored alert
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS alerts_camera ON alerts(camera_id, wall_decided);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status);
CREATE TABLE IF NOT EXISTS alert_feedback (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    user_name TEXT NOT NULL,
    verdict TEXT NOT NULL,                         -- ack | false_alarm
    note TEXT,
    score REAL,
    signals TEXT,                                  -- snapshot of the alert's measured signals for tuning
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS alert_feedback_alert ON alert_feedback(alert_id);
CREATE TABLE IF NOT EXISTS camera_status (
    camera_id TEXT PRIMARY KEY,
    uri TEXT,
    state TEXT NOT NULL,                           -- starting | up | down | stalled | ended | failed
    since REAL,
    last_frame_wall REAL,
    frames INTEGER NOT NULL DEFAULT 0,
    bad_frames INTEGER NOT NULL DEFAULT 0,
    reconnects INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TEXT DEFAULT CURRENT_TIMESTAMP
);
"""

MIGRATIONS: list = [("watch_v1", _V1)]
