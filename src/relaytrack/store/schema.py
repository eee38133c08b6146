"""Core tables: cameras, sources, sightings (tracklets), their boxes, thumbnails; meta. The vector table
is created by `vectors.ensure_index` once the embedder's width is known."""

MIGRATIONS = [
    (
        "001_core",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE cameras (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            lat REAL, lon REAL, heading_deg REAL, fov_deg REAL,
            district TEXT, owner TEXT, purpose TEXT, stream_url TEXT,
            clock_offset_s REAL NOT NULL DEFAULT 0,
            width INTEGER, height INTEGER,
            extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            camera_id TEXT NOT NULL REFERENCES cameras(id),
            uri TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            start_wall REAL NOT NULL,
            fps REAL, analysed_fps REAL, width INTEGER, height INTEGER,
            frames_total INTEGER,
            status TEXT NOT NULL DEFAULT 'running',   -- running | complete | failed
            checkpoint_frame INTEGER NOT NULL DEFAULT 0,
            checkpoint_state BLOB,
            error TEXT,
            created_at TEXT DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (camera_id, fingerprint)
        );
        CREATE TABLE sightings (
            id INTEGER PRIMARY KEY,
            camera_id TEXT NOT NULL REFERENCES cameras(id),
            source_id INTEGER REFERENCES sources(id) ON DELETE CASCADE,
            track_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            class_name TEXT NOT NULL,
            start_s REAL NOT NULL, end_s REAL NOT NULL,
            first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
            wall_start REAL NOT NULL, wall_end REAL NOT NULL,
            box_x REAL, box_y REAL, box_w REAL, box_h REAL,
            best_frame INTEGER,
            entry_edge TEXT, exit_edge TEXT, heading_deg REAL, speed_px_s REAL,
            upper_color TEXT, upper_conf REAL NOT NULL DEFAULT 0,
            lower_color TEXT, lower_conf REAL NOT NULL DEFAULT 0,
            items TEXT NOT NULL DEFAULT '{}',
            vehicle_type TEXT, vehicle_color TEXT, plate TEXT,
            embedding BLOB,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec')),
            UNIQUE (source_id, track_id)
        );
        CREATE INDEX sightings_cam_time ON sightings(camera_id, wall_start);
        CREATE INDEX sightings_time ON sightings(wall_start);
        CREATE INDEX sightings_attr ON sightings(kind, upper_color, lower_color);
        CREATE TABLE boxes (
            sighting_id INTEGER NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            frame INTEGER NOT NULL, t REAL NOT NULL,
            x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL, conf REAL NOT NULL,
            PRIMARY KEY (sighting_id, frame)
        ) WITHOUT ROWID;
        CREATE TABLE thumbnails (
            sighting_id INTEGER PRIMARY KEY REFERENCES sightings(id) ON DELETE CASCADE,
            jpeg BLOB NOT NULL
        );
        """,
    ),
    (
        "002_crops",
        # A tracklet's best crops: what re-identification learns from and re-embeds without the video.
        """
        CREATE TABLE crops (
            sighting_id INTEGER NOT NULL REFERENCES sightings(id) ON DELETE CASCADE,
            k INTEGER NOT NULL,
            frame INTEGER, quality REAL NOT NULL DEFAULT 0,
            jpeg BLOB NOT NULL,
            PRIMARY KEY (sighting_id, k)
        ) WITHOUT ROWID;
        """,
    ),
    (
        "003_plate_reads",
        # A read plate's confidence (its weakest character after voting over the tracklet's frames) and the
        # other plates the vote left open, [[text, share], ...]: search matches those too, discounted.
        """
        ALTER TABLE sightings ADD COLUMN plate_conf REAL;
        ALTER TABLE sightings ADD COLUMN plate_alts TEXT;
        """,
    ),
    (
        "004_reprocess",
        # On-demand re-processing (pipeline/ondemand.py): a window of a camera indexed at a low rate, analysed
        # again at full rate from the retained footage. Its sightings come from a source row of their own
        # (reprocess_of: the source it re-reads); the low-rate sightings it replaces are kept, marked
        # superseded_by the window, so nothing stored is ever deleted; each window is done once.
        """
        ALTER TABLE sightings ADD COLUMN superseded_by INTEGER;
        ALTER TABLE sources ADD COLUMN reprocess_of INTEGER;
        CREATE TABLE reprocessed (
            id INTEGER PRIMARY KEY,
            camera_id TEXT NOT NULL,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            wall_lo REAL NOT NULL, wall_hi REAL NOT NULL,
            frame_lo INTEGER NOT NULL, frame_hi INTEGER NOT NULL,
            fps REAL,
            frames INTEGER NOT NULL DEFAULT 0,
            sightings INTEGER NOT NULL DEFAULT 0,
            superseded INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL DEFAULT (unixepoch('subsec'))
        );
        CREATE INDEX reprocessed_cam_time ON reprocessed(camera_id, wall_lo);
        """,
    ),
]
