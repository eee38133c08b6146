"""Browser-playable video: an MJPEG multipart stream (`<img src=...>` plays it in every browser) decoded from
the original source with OpenCV, with the stored detections drawn over each frame.

Boxes are stored on analysed frames only, so a box is held for a few frames until the next stored one. The
target of the clip (a sighting) is drawn red and thick, everybody else thin; the camera and wall time are
burnt in. People the acting case may not see (sightings another case holds, `Clip.hidden`, chosen by
relaytrack.evidence.access.authorize_sightings) are covered by a solid box, padded, without a label. Streams
are paced at the source's frame rate times `speed` and bounded in length.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from relaytrack.clock import human
from relaytrack.errors import SourceError

BOUNDARY = "relaytrackframe"
MAX_FRAMES = 3000
HOLD_FRAMES = 12  # frames a stored box is held while no newer one is stored (analysed fps < source fps)


@dataclass
class Clip:
    uri: str
    camera: str
    start_wall: float
    fps: float
    first: int
    last: int | None  # None: to the end (bounded by MAX_FRAMES)
    boxes: dict[int, list[tuple]]  # frame -> [(sighting, kind, class, x, y, w, h, conf)]
    target: set[int]
    max_width: int = 960
    hidden: set[int] = field(default_factory=set)  # sightings covered, never labelled


MASK_PAD = 0.2  # share of the box added on each side: stored boxes lag between analysed frames
MASK_BGR = (70, 70, 70)


def check_source(uri: str) -> None:
    """Fail before the response starts (a stream cannot change its status once the first byte is out)."""
    from relaytrack.source.open import probe

    probe(uri)


def _draw(img: np.ndarray, frame: int, clip: Clip, held: dict[int, tuple[int, tuple]]) -> np.ndarray:
    import cv2

    for b in clip.boxes.get(frame, []):
        held[b[0]] = (frame, b)
    h, w = img.shape[:2]
    scale = min(1.0, clip.max_width / w)
    if scale < 1.0:
        img = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    th = max(1, int(round(2 * scale)))
    for sid, (seen, b) in list(held.items()):
        if frame - seen > HOLD_FRAMES:
            del held[sid]
            continue
        _, kind, cls, x, y, bw, bh, conf = b
        if sid in clip.hidden:
            px, py = bw * MASK_PAD, bh * MASK_PAD
            q1 = (max(0, int((x - px) * scale)), max(0, int((y - py) * scale)))
            q2 = (int((x + bw + px) * scale), int((y + bh + py) * scale))
            cv2.rectangle(img, q1, q2, MASK_BGR, -1)
            continue
        p1 = (int(x * scale), int(y * scale))
        p2 = (int((x + bw) * scale), int((y + bh) * scale))
        is_target = sid in clip.target
        colour = (40, 40, 230) if is_target else (80, 200, 80) if kind == "person" else (230, 160, 40)
        cv2.rectangle(img, p1, p2, colour, th * (2 if is_target else 1))
        label = f"#{sid} {cls} {conf:.2f}"
        cv2.putText(
            img, label, (p1[0], max(12, p1[1] - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA
        )
    t = clip.start_wall + (frame - 1) / clip.fps
    stamp = f"{clip.camera}  {human(t)}  f{frame}"
    cv2.putText(img, stamp, (8, img.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(
        img, stamp, (8, img.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA
    )
    return img


def frames(clip: Clip) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, BGR image with boxes drawn) for the clip's frames."""
    from relaytrack.config import SourceConfig
    from relaytrack.source.open import open_source

    held: dict[int, tuple[int, tuple]] = {}
    last = clip.last if clip.last is not None else clip.first + MAX_FRAMES - 1
    last = min(last, clip.first + MAX_FRAMES - 1)
    for fr in open_source(
        clip.uri, clip.camera, SourceConfig(), clip.start_wall, start_index=max(1, clip.first)
    ):
        if fr.index > last:
            break
        yield fr.index, _draw(fr.image, fr.index, clip, held)


def mjpeg(clip: Clip, *, speed: float = 1.0, quality: int = 80) -> Iterator[bytes]:
    """multipart/x-mixed-replace body: one JPEG part per frame, paced at the source rate times `speed`."""
    import cv2

    period = 1.0 / max(clip.fps * speed, 1e-3)
    t_next = time.monotonic()
    try:
        for _, img in frames(clip):
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                continue
            data = buf.tobytes()
            now = time.monotonic()
            if t_next > now:
                time.sleep(t_next - now)
            t_next = max(t_next + period, time.monotonic() - period)
            yield (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                + data
                + b"\r\n"
            )
    except SourceError:
        return  # the source vanished mid-stream: end the stream cleanly, the status line is already out
    yield f"--{BOUNDARY}--\r\n".encode()
