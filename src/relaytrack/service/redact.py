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


def package_name(path: str | None) -> str | None:
    """What a client is told of an evidence package on the server: its folder's name, never where it lies
    (the download and verify routes find it by export id)."""
    if not path:
        return path
    return re.split(r"[\\/]", str(path).rstrip("/\\"))[-1] or None


PACKAGE_KEYS = ("package", "package_path")


def package_fields(record: dict) -> dict:
    """`record` (an export or an agency request as the library gives it) with its package paths cut to names."""
    return {k: package_name(v) if k in PACKAGE_KEYS else v for k, v in record.items()}
