import numpy as np
import pytest

from relaytrack.config import SourceConfig
from relaytrack.errors import SourceError
from relaytrack.source import open_source, probe


def test_mot_folder_and_rate(pets_dir):
    info = probe(str(pets_dir))
    assert info.kind == "images" and info.fps == 7.0 and info.frames == 300
    frames = list(open_source(str(pets_dir), "P", SourceConfig(analyse_fps=3.5), start_wall=100.0, info=info))
    assert [f.index for f in frames[:4]] == [1, 3, 5, 7]
    assert frames[1].t == pytest.approx(2 / 7) and frames[1].wall == pytest.approx(100 + 2 / 7)
    assert all(f.camera == "P" for f in frames)


def test_video_file_timestamps(pets_clip):
    frames = list(open_source(str(pets_clip), "C", SourceConfig(start_time="2026-11-25T14:00:00+09:00")))
    assert len(frames) == 40 and frames[0].index == 1
    assert frames[7].wall - frames[0].wall == pytest.approx(1.0)


def test_motion_gate_skips_static_frames(tmp_path):
    import cv2

    path = tmp_path / "static.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    img = np.full((120, 160, 3), 90, np.uint8)
    for i in range(30):
        frame = img.copy()
        if 10 <= i < 15:
            cv2.rectangle(frame, (20 + 8 * i - 80, 30), (50 + 8 * i - 80, 100), (255, 255, 255), -1)
        vw.write(frame)
    vw.release()
    got = [f.index for f in open_source(str(path), "S", SourceConfig(motion_gate=True), start_wall=0.0)]
    assert 1 in got and len(got) < 12


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: p / "nothing.mp4", "no such file"),
        (lambda p: (p / "empty.mp4").write_bytes(b"") and p / "empty.mp4" or p / "empty.mp4", "empty file"),
        (lambda p: [(p / "text.avi").write_text("hello"), p / "text.avi"][1], "not a readable video"),
        (lambda p: [(p / "dir").mkdir(), p / "dir"][1], "no images"),
    ],
)
def test_bad_sources_are_named(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(SourceError, match=match) as err:
        probe(str(path))
    assert path.name in str(err.value)


def test_unreachable_stream_is_reported():
    with pytest.raises(SourceError, match="unreachable"):
        probe("rtsp://127.0.0.1:9/none")
