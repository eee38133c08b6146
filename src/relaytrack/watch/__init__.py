"""Courier watch: live detection of dead-drop behaviour at hiding spots, with explained, throttled alerts.

Public API (used by `relaytrack demo`):

- ``watch_sources(sources, db_path=None, cfg=None, wcfg=None, *, once=True, clips_dir=None, on_alert=None,
  stop=None, progress=None, store_sightings=True, pace=None) -> WatchResult``
  sources: ``CameraSpec(uri, camera, zones, start_wall=None)`` or ``(uri, camera, zones)`` tuples. Runs a
  worker pool (``wcfg.run.workers``, 0 = one per core) over all sources; with ``once`` files/sequences run to
  their end; ``pace=True`` plays files at their own speed dropping the oldest frames when analysis lags (live
  behaviour, used for latency figures). ``db_path``: alerts, camera status and the sightings of the watched footage (same describe/store
  path as ingest; alerts get ``sighting`` once their track finishes); clips under ``<db folder>/clips``
  unless ``clips_dir``. ``WatchResult.alerts``: list[Alert] (``Alert.public()`` = the JSON of
  ``relaytrack watch --json``: camera, start, end, score, reasons, clip, alert_id, track, zone, zone_kind,
  decided, explanation, signals, keyframes, sighting, latency_s); ``.operator_alerts`` (camera down);
  ``.cameras``: CameraReport per camera (state, frames, dropped, reconnects, pose_runs, ...).
- ``sources_from_network(path, zones_file=None) -> list[CameraSpec]``: cameras of a camera network YAML
  (``source`` relative to the file, else ``stream_url``; ``start_time``; ``zones``).
- ``load_zones(path) -> {camera id or '*': [Zone]}``: network YAML, ``{camera: [zones]}`` or a zone list.
- ``evaluate_events(alerts, truth, tolerance_s=2.0) -> dict``: recall, precision, matched, time-to-alert
  (``latency`` = alert decision minus event start, ``latency_action``: minus the hand action start) of
  alerts (Alert or public dicts) against truth.json couriers' events ({camera, zone, start, end}).
- ``load_watch_config(path=None, overrides=None) -> WatchConfig``: strict pydantic config (signals, pose,
  weights of the score, alert threshold/throttle/clips, run/workers).
- ``relaytrack.watch.replay``: ``record_source(spec, cfg=None, wcfg=None) -> Recording`` (detector, tracker,
  MoveNet and colour histograms of one source, per analysed frame; ``Recording.save/load``) and
  ``replay(recording, wcfg, route=None, trace=None) -> list[Alert]`` (the behaviour logic and alert lifecycle
  over a recording): tuning thresholds without re-running the models. ``record_town(town_dir)`` records a
  tuning town's zoned cameras; both refuse footage of a held-out town (``bench.seeds``).
- ``relaytrack.bench.watch.run_bench(out, towns, ..., held_out=[...], real_held_out=False)``: the
  ``relaytrack bench watch`` table under its protocol (tuning towns, held-out towns found at the right spot
  with 95 % intervals, real footage false alarms per camera-hour with a 95 % upper bound).
- Store helpers in ``relaytrack.watch.alerts``: ``list_alerts(conn, ...)``, ``get_alert(conn, id)``,
  ``ack_alert(conn, id, user, false_alarm=False, note=None)``.

Score (documented weights, ``WeightConfig``): dwell 0.25 (0.5 at ``min_dwell_s`` rising to 1 at
``full_dwell_s``, 10 s), crouch/bend 0.25, the crouch/bend also seen in the keypoints 0.10 (a lower box alone is
also what a person half hidden behind a post looks like), hand into the zone 0.25, phone raised 0.20, several
stops 0.25 (2nd stop 0.5, 3rd+ 1.0), revisit 0.15, night 0.10; alert at ``alert.threshold`` 0.60. A track must
have stopped at a zone for ``min_dwell_s`` (2 s) to score at all, and must have come there: walked there
(``arrive_h``), or appeared at a place watched and empty for ``empty_before_s`` (people found only once they
stand still, in the dark or behind others), or taken over, at the same place, a track that had come there (a
track broken by a crouch or an occlusion). A crouch/bend from keypoints counts only when the box got lower too
(``confirm_box_ratio``), when the frame's top edge cuts the head off (the box cannot get lower), or when the
torso leans past ``strong_bend_torso_deg`` (bending to a spot at hand height), and only while the box bottom
stays where the stop began (``planted_h``: a box shrinking as someone drifts away from the camera is
perspective, not a crouch); a lower box in which the pose model finds no body does not count (something in
front of the person). A reach counts while low, or while the torso leans (``reach_torso_deg``) with a wrist at
the zone, each after ``pose_frames`` (3) analysed frames. MoveNet runs only for tracks that slowed down near a
zone (``pose.near_factor``, at most ``pose.max_per_frame`` crops per frame). One spot raises one alert within
``alert.zone_dedupe_s`` whatever the track (a track broken in two is one drop). The watch's tracker keeps
tracks through crouches with a lower second-stage IoU and start score (``run.track_second_iou``,
``run.track_new_conf``) than the ingest pipeline.

Innocent patterns lower the score with a reason (``watch/innocent.py``, config ``innocent``): went in at a
door right after the stop, a postman's round of short stops, a brief stop with no photo (only when the person
was seen leaving), a long stay (``linger_s``, 30 s) with no hand into the spot (smokers, people waiting).
The before/after comparison of the spot (``watch/spot.py``, config ``spot``) raises it when the spot looks
different after the person left than before they came (clear crops of the zone, gain-normalised, noise
measured from the views themselves). Head turns from keypoints (``signals.look_turns``) are measured and
shown as a signal; their weight (``weights.look``) is 0. A track lost while another stays at the spot hands
its stay over to that track (one person broken or doubled by the tracker decides once).

Timing: ``start``/``end`` are seconds from the source's start (the stop's start and the alert's last update);
``decided`` is when the score crossed the threshold; ``latency_s`` is wall seconds from the frame's arrival to
the stored alert.
"""

from relaytrack.watch.alerts import Alert, ack_alert, get_alert, list_alerts
from relaytrack.watch.config import WatchConfig, load_watch_config
from relaytrack.watch.evaluate import evaluate_events
from relaytrack.watch.service import CameraSpec, WatchResult, sources_from_network, watch_sources
from relaytrack.watch.zones import KINDS, Zone, load_zones

__all__ = [
    "KINDS",
    "Alert",
    "CameraSpec",
    "WatchConfig",
    "WatchResult",
    "Zone",
    "ack_alert",
    "evaluate_events",
    "get_alert",
    "list_alerts",
    "load_watch_config",
    "load_zones",
    "sources_from_network",
    "watch_sources",
]
