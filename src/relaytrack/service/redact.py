"""No absolute server paths in what the service tells a client.

Errors of the library name files for the person at the command line ("/srv/relaytrack/exports/C-1-...: export
folder exists"); over HTTP the same message would tell anyone with a login how the server's disks are laid
out. `scrub_paths` keeps the last component of every absolute path (enough to say which file) and drops the
rest. API paths (/api/..., /static/...) and URLs (rtsp://host/...) are left alone.
"""

from __future__ import annotations

import re

_STOP = r"\s'\"`,;()\[\]{}<>"
# An absolute path: a '/' that does not continue a word, a URL or a relative path, then one or more components.
_ABS_PATH = re.compile(rf"(?<![\w:/.~@-])/(?!api/|static/)[^{_STOP}/]+(?:/[^{_STOP}/]*)*")


def scrub_paths(text: str) -> str:
    """`text` with each absolute path cut to its last component ('.../name')."""

    def cut(m: re.Match[str]) -> str:
        parts = [p for p in m.group(0).split("/") if p]
        return ".../" + parts[-1] if parts else "..."

    return _ABS_PATH.sub(cut, text)
