"""The per-camera pipeline: source -> detect -> track -> describe -> store. `session.CameraSession` runs one
camera a frame at a time (shared by ingest and the watch); `ingest` stores a source resumably; `parallel` runs
many sources at once."""
