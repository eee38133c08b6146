"""Town vehicles with Korean plates: valid plate texts, a plate rendered legibly at close range, the truth's
vehicle entries (plates, routes, riders), the suspect who drives, and people unchanged by the plates."""

import hashlib
import json

import cv2
import numpy as np
import pytest

from relaytrack.describe import plate_chars
from relaytrack.describe.plate_grammar import parse_plate
from relaytrack.town.actors import Vehicle
from relaytrack.town.camera import PinholeCamera
from relaytrack.town.plan import TownSpec, plan_town
from relaytrack.town.plates import plate_style, plate_text
from relaytrack.town.render import LIGHT, draw_vehicle

needs_fonts = pytest.mark.skipif(
    plate_chars.fonts_status() is not None, reason=plate_chars.fonts_status() or ""
)


def test_plate_texts_follow_the_grammar():
    rng = np.random.default_rng(0)
    for kind in ("car", "truck", "bus", "motorcycle"):
        for _ in range(200):
            p = parse_plate(plate_text(rng, kind))
            if kind == "motorcycle":
                assert p.kind == "motorbike" and plate_style(p.text) == "moto"
            elif kind == "bus":
                assert p.kind == "commercial" and plate_style(p.text) == "yellow"
            else:
                assert p.fmt in ("current-2", "current-3")
                assert plate_style(p.text) == ("yellow" if p.kind == "commercial" else "white")


def test_plates_come_from_their_own_stream_and_people_are_unchanged():
    spec = TownSpec(seed=3, cameras=4, minutes=0.5)
    town = plan_town(spec)
    # Fingerprint of the people and vehicles of this seed from before vehicles had plates (same draws).
    h = hashlib.sha1()
    for p in town.people:
        h.update(np.round(p.xy, 4).tobytes())
        h.update(np.round(p.times, 4).tobytes())
        h.update(repr(p.look).encode())
    assert (len(town.people), h.hexdigest()[:16]) == (25, "08dfb3b68787d2e8")
    v = town.vehicles[0]
    assert len(town.vehicles) == 9 and (v.kind, v.color, round(v.t0, 3)) == ("motorcycle", "gray", 8.276)
    plates = [v.plate for v in town.vehicles]
    assert len(set(plates)) == len(plates) and all(parse_plate(p) for p in plates)
    for n in (0, 3, 40):
        other = plan_town(TownSpec(seed=3, cameras=4, minutes=0.5, vehicles=n))
        assert len(other.vehicles) == n
        assert [(p.id, p.xy.tobytes(), repr(p.look)) for p in other.people] == [
            (p.id, p.xy.tobytes(), repr(p.look)) for p in town.people
        ]
        assert [c.cam for c in other.cameras] == [c.cam for c in town.cameras]
    # The first vehicles of a larger count are the default's, plates included.
    more = plan_town(TownSpec(seed=3, cameras=4, minutes=0.5, vehicles=12)).vehicles
    assert [(v.start, v.t0, v.kind, v.plate) for v in more[:9]] == [
        (v.start, v.t0, v.kind, v.plate) for v in town.vehicles
    ]
    assert TownSpec(seed=3).key() == TownSpec(seed=3, vehicles=None).key()
    assert "vehicles" not in TownSpec(seed=3).key() and TownSpec(seed=3, vehicles=0).key()["vehicles"] == 0


def _close_car(text: str) -> tuple[np.ndarray, list]:
    """A car driving towards a camera 8 m away: the frame and the plates painted."""
    cam = PinholeCamera(0.0, -8.0, 2.2, 0.0, 18.0, 25.0, 640, 360)
    v = Vehicle("V001", "car", "white", (225, 228, 230), (0.0, 30.0), (0.0, -30.0), 0.0, 8.0)
    v.plate, v.plate_style = text, plate_style(text)
    frame = np.full((360, 640, 3), 95, np.uint8)
    painted: list = []
    (s,) = draw_vehicle(cam, v, 0.0, 0.0, 180.0, np.ones(3, np.float32), LIGHT["day"], None, painted)
    h, w = s.alpha.shape
    xa, ya, xb, yb = max(0, s.x0), max(0, s.y0), min(640, s.x0 + w), min(360, s.y0 + h)
    a = s.alpha[ya - s.y0 : yb - s.y0, xa - s.x0 : xb - s.x0, None]
    roi = frame[ya:yb, xa:xb]
    roi[:] = (roi * (1 - a) + s.color[ya - s.y0 : yb - s.y0, xa - s.x0 : xb - s.x0] * a).astype(np.uint8)
    return frame, painted


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("plate") / "chars.npz"
    plate_chars.train(path, n_per_class=60, epochs=10, seed=3)
    return path


def _close_plate_crop(text: str) -> np.ndarray:
    frame, painted = _close_car(text)
    ((face, uv, depth),) = painted  # the front plate only: the rear faces away
    assert face == "front" and 4 < depth < 8
    height = (np.linalg.norm(uv[3] - uv[0]) + np.linalg.norm(uv[2] - uv[1])) / 2
    assert height >= 20
    x0, y0 = np.floor(uv.min(axis=0)).astype(int)
    x1, y1 = np.ceil(uv.max(axis=0)).astype(int)
    mx, my = int(0.15 * (x1 - x0)), int(0.35 * (y1 - y0))
    return frame[y0 - my : y1 + my, x0 - mx : x1 + mx]


@needs_fonts
def test_plate_is_painted_at_close_range():
    crop = _close_plate_crop("34수5678")
    inner = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)[crop.shape[0] // 3 : -crop.shape[0] // 3]
    # White plate, black characters: both ink and paper are there, sharply apart.
    assert (inner < 80).mean() > 0.08 and (inner > 200).mean() > 0.2


@needs_fonts
@pytest.mark.slow
def test_close_plate_is_read_by_plate_read(small_model, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    monkeypatch.setenv("RELAYTRACK_PLATE_CHARS", str(small_model))
    crop = _close_plate_crop("34수5678")
    path = tmp_path / "plate.png"
    cv2.imwrite(str(path), crop)
    res = CliRunner().invoke(app, ["plate", "read", str(path), "--json"])
    assert res.exit_code == 0, res.output
    assert [p["text"] for p in json.loads(res.stdout)[0]["plates"]][:1] == ["34수5678"]


def test_suspect_drives_plan():
    spec = TownSpec(
        seed=14, cameras=4, minutes=1.0, couriers=0, crowd=0.6, suspect_drives=True, plate_cameras=2
    )
    town = plan_town(spec)
    (car,) = [v for v in town.vehicles if v.riders]
    sus = next(p for p in town.people if p.id == town.suspect)
    assert car.riders == [town.suspect] and car.depart is not None
    (b,) = car.boarding
    # The suspect is last seen at the car's door, just before it drives off; the car is parked until then.
    assert abs(sus.times[-1] - b["time"]) < 0.01 and b["time"] < car.depart < spec.duration
    assert np.hypot(sus.xy[-1][0] - car.start[0], sus.xy[-1][1] - car.start[1]) < 2.0
    assert car.pose(b["time"])[:2] == car.start and car.pose(car.depart + 2.0)[:2] != car.start
    assert len(town.cameras) > spec.cameras and any(c.role == "road" for c in town.cameras)


def test_generate_lists_vehicles_and_zero_vehicles(tmp_path):
    from typer.testing import CliRunner

    from relaytrack.cli import app

    res = CliRunner().invoke(
        app,
        ["town", "generate", "--out", str(tmp_path / "t0"), "--cameras", "1", "--minutes", "0.05",
         "--vehicles", "0", "--couriers", "0", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "t0" / "truth.json").read_text(encoding="utf-8"))
    assert truth["vehicles"] == {} and truth["spec"]["vehicles"] == 0

    from relaytrack.town.generate import generate_town

    spec = TownSpec(seed=5, cameras=1, minutes=0.2, couriers=0, crowd=0.2, vehicles=12, plate_cameras=2)
    out, _ = generate_town(spec, tmp_path / "t1")
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["vehicles"]
    for vid, v in truth["vehicles"].items():
        assert v["id"] == vid and v["kind"] == "vehicle" and parse_plate(v["plate"]).text == v["plate"]
        assert v["type"] in ("car", "truck", "bus", "motorcycle") and isinstance(v["riders"], list)
        assert set(v["route"]) >= {"start", "end", "enters", "leaves", "visits"}
        for rows in v["plates"].values():
            for frame, face, x, y, w, h, height, vis, width in rows:
                assert face in ("front", "rear") and height >= 3 and 0 <= vis <= 1 and w > 0 and h > 0
                assert width > 0
    assert any(v["plates"] for v in truth["vehicles"].values())
    for v in truth["vehicles"].values():
        assert set(v["boxes"]) >= {x["camera"] for x in v["route"]["visits"]}
        for rows in v["boxes"].values():
            assert all(w > 0 and h > 0 and 0 <= vis <= 1 for _f, _x, _y, w, h, vis in rows)
    assert any(v["route"]["visits"] for v in truth["vehicles"].values())


def test_no_hangul_font_is_a_clear_error_before_rendering(tmp_path, monkeypatch):
    from relaytrack.town import plates
    from relaytrack.town.generate import generate_town

    monkeypatch.setattr(plates, "_FONTS", (("/nonexistent/font.ttc", 1, True),))
    spec = TownSpec(seed=5, cameras=1, minutes=0.05, couriers=0, vehicles=3)
    with pytest.raises(plates.PlateFontError, match="fonts-noto-cjk"):
        generate_town(spec, tmp_path / "t")
    assert not (tmp_path / "t" / "videos").exists()  # before any frame


def test_traffic_cameras_see_the_car_approach_not_its_roof():
    """A traffic camera stands 20-35 m before the spot it watches with a view of a lane and a half to two lanes
    (5.2-8 m wide) there, at three times the town's resolution, so the car the suspect drives is in frame, whole, for
    its approach (over a second at town speeds) at a size a detector knows as a car, not for a few frames from
    above as it passes under the pole."""
    spec = TownSpec(
        seed=14, cameras=4, minutes=1.0, couriers=0, crowd=0.6, suspect_drives=True, plate_cameras=2
    )
    town = plan_town(spec)
    (car,) = [v for v in town.vehicles if v.riders]
    roads = [c.cam for c in town.cameras if c.role == "road"]
    assert len(roads) == 2
    for cam in roads:
        # The view's width on the ground where the optical axis meets the road.
        dist = (cam.z - 0.6) / np.tan(np.radians(cam.tilt_deg))
        view = 2 * np.hypot(dist, cam.z - 0.6) * np.tan(np.radians(cam.fov_deg) / 2)
        assert 20.0 <= dist <= 35.5 and 5.1 <= view <= 8.1
        assert (cam.width, cam.height) == (3 * spec.width, 3 * spec.height)
        seen = []
        for t in np.arange(car.depart, spec.duration, 0.1):
            pose = car.pose(float(t))
            if pose is None:
                continue
            uv, depth = cam.project(np.array([[pose[0], pose[1], 0.8]]))
            if depth[0] > 0 and 0 <= uv[0, 0] < cam.width and 0 <= uv[0, 1] < cam.height:
                seen.append(depth[0])
        assert len(seen) >= 10, "the car's centre should stay in view for a second or more"
        assert min(seen) > 8.0, "the car leaves the view before it is under the pole"
