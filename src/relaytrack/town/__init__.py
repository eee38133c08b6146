"""Synthetic town: a fully known world rendered to multi-camera CCTV footage with ground truth.

Public API (used by `relaytrack demo`):

- ``generate(seed=0, cameras=8, minutes=1.5, out_dir=..., progress=None, lighting="day", force=False,
  decoys=0, crowd=1.0, confusers=0, couriers=1, vehicles=None, plate_cameras=0, suspect_drives=False)
  -> Path``
  Plans and renders a town into ``out_dir`` and returns it. A complete town for the same parameters already
  there is reused (``town.json`` records them). ``progress(done, total, message)`` is called per frame.
  ``decoys``: look-alikes in the suspect's upper and lower colours (every other one with the suspect's item)
  crossing the suspect's route near the suspect's time; ``crowd``: pedestrian density factor; ``confusers``:
  innocent people who stop, crouch, reach into or photograph hiding spots the cameras see (town/confusers.py),
  listed in truth.json ``confusers`` as ``{id, kind, visits: [{camera, zone, start, end}]}``; ``couriers``:
  couriers making drops (0: a drop-free street); ``vehicles``: cars, vans/trucks, buses and motorbikes on the
  roads (None: the usual traffic for the town's size, as before the option existed; their plates come from
  their own generator, so the people of a seed are the same with or without them); ``plate_cameras``: traffic
  cameras over a lane (narrow field, plates 10-40 px) besides ``cameras``; ``suspect_drives``: the suspect
  gets into a parked car halfway through and it drives off (one more camera on the boarding place; the plate
  cameras then watch the car's lane ahead), town/driving.py.
  Folder: ``cameras.yaml`` (camera register, no links: lat/lon, heading, fov, purpose, start_time, source,
  mount, zones of the hiding spots each camera sees), ``links-truth.yaml`` (the true links with mean_s/std_s
  derived from simulated walks, network-file format: import it after the register for an oracle run),
  ``videos/<cam>.mp4``
  (640x360, 10 fps, mp4v), ``mot/<cam>/seqinfo.ini`` + ``mot/<cam>/gt/gt.txt`` (MOTChallenge
  ``frame,id,bb_left,bb_top,w,h,1,1,visibility``; global person ids; 1-based boxes clipped to the image;
  people under 20 px tall or under 20 % visible are not annotated), ``truth.json`` (suspect description
  KO/EN, attributes and true route with entry/exit edges; ``decoys``: id, description, attributes and camera
  visits of each look-alike; couriers' drop events; every annotated person's attributes; ``vehicles``: id ->
  type, colour, Korean plate, route with camera visits, per-frame plate boxes, riders and boarding),
  ``town.json`` (parameters, render fps).
- ``load_truth(dir) -> dict``: truth.json of a town folder.
- ``measure_detector_recall(town_dir, max_frames=None, every=3, cameras=None) -> dict``: recall of the gt
  people at IoU 0.5 by ``relaytrack.detect.Detector``: keys ``recall`` (at person_conf), ``recall_low``,
  ``recall_visible``, ``precision``, ``per_camera``, ``by_height``, ``lighting``, ``gt_boxes``.
- ``scenario(name, out_dir, progress=None, seed=None) -> Path``: training clip (``mailbox-night``,
  ``courier-stops``, ``decoys``, ``suspect-drives``) with ``answer.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from relaytrack.errors import NotFound
from relaytrack.town.generate import Progress, generate_town
from relaytrack.town.plan import TownSpec
from relaytrack.town.recall import measure_detector_recall
from relaytrack.town.scenario import SCENARIOS, scenario

DEFAULT_MINUTES = 1.5


def generate(
    seed: int = 0,
    cameras: int = 8,
    minutes: float = DEFAULT_MINUTES,
    out_dir: str | Path = "town",
    progress: Progress | None = None,
    lighting: str = "day",
    force: bool = False,
    decoys: int = 0,
    crowd: float = 1.0,
    confusers: int = 0,
    couriers: int = 1,
    vehicles: int | None = None,
    plate_cameras: int = 0,
    suspect_drives: bool = False,
) -> Path:
    spec = TownSpec(
        seed=seed,
        cameras=cameras,
        minutes=minutes,
        lighting=lighting,
        decoys=decoys,
        crowd=crowd,
        confusers=confusers,
        couriers=couriers,
        vehicles=vehicles,
        plate_cameras=plate_cameras,
        suspect_drives=suspect_drives,
    )
    path, _meta = generate_town(spec, out_dir, progress, force=force)
    return path


def load_truth(town_dir: str | Path) -> dict:
    path = Path(town_dir) / "truth.json"
    if not path.exists():
        raise NotFound(f"{path}: no truth.json (not a generated town folder)")
    return json.loads(path.read_text(encoding="utf-8"))


__all__ = ["generate", "load_truth", "measure_detector_recall", "scenario", "SCENARIOS", "TownSpec"]
