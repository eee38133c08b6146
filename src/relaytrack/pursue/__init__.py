"""Live pursuit: follow a suspect camera to camera while they move (`relaytrack pursue`).

- predict.py: next cameras with ETA windows from the camera network, moving on as time passes unseen;
- budget.py: the analysed frames per second shared across streams by the prediction;
- handoff.py: live re-identification of arrivals (the relay's appearance, attribute, time, edge terms);
- analyse.py: one camera's `CameraSession` with provisional descriptions of people still in view;
- feed.py: every camera's frames, concurrently and paced (live) or merged by footage time;
- events.py / schema.py: the event records, JSON lines and the store's pursuit tables;
- run.py: the loop (`Pursuit`, `drive`); service.py: wiring to the store and models (`run_pursuit`).
"""
