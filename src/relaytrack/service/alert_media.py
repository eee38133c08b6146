"""An alert's evidence files as the console reads them: the clip and the key frames the watch wrote (the
crouch, the reach, the phone, the decision frame).

The watch stores their paths relative to the store's folder (relaytrack.watch.service), so a store copied or
moved with its `clips/` folder still plays them; older rows hold absolute paths, which are used when they
still exist, else looked up under the store's `clips/<camera>/` by file name. A file is only read inside the
folders the service may read clips from (the store's and the installation's), whatever a row says.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

KEYFRAME_NAME = re.compile(r"alert-\d+-(\w+)\.jpe?g$")
MAX_WIDTH = 640  # the console shows key frames side by side: no need for full-resolution frames


def inside(path: Path, roots: list[Path]) -> bool:
    p = path.resolve()
    return any(p == r.resolve() or r.resolve() in p.parents for r in roots)


def resolve(stored: str | None, store_path: Path | str, camera: str, roots: list[Path]) -> Path | None:
    """The file a stored clip or key-frame path names, if it exists inside `roots`."""
    if not stored:
        return None
    base = Path(store_path).parent
    p = Path(stored)
    candidates = [p if p.is_absolute() else base / p]
    if p.is_absolute():  # a store moved since the watch wrote an absolute path: its clips moved with it
        candidates.append(base / "clips" / camera / p.name)
    for c in candidates:
        if c.is_file() and inside(c, roots):
            return c
    return None


def keyframe_images(alert: dict[str, Any], store_path: Path | str, roots: list[Path]) -> list[dict[str, Any]]:
    """The alert's key frames as JPEG data URLs (scaled to MAX_WIDTH), each with its moment's name."""
    import cv2

    out = []
    for stored in alert.get("keyframes") or []:
        p = resolve(str(stored), store_path, str(alert.get("camera")), roots)
        if p is None:
            continue
        img = cv2.imread(str(p))
        if img is None:
            continue
        h, w = img.shape[:2]
        if w > MAX_WIDTH:
            img = cv2.resize(img, (MAX_WIDTH, int(h * MAX_WIDTH / w)), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            continue
        m = KEYFRAME_NAME.search(p.name)
        out.append(
            {
                "moment": m.group(1) if m else "frame",
                "image": "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii"),
            }
        )
    return out
