"""Frame sources: video files, MOTChallenge image sequences and live streams, each frame stamped with its
camera, 1-based frame number, seconds from the source's start and wall-clock time."""

from relaytrack.source.open import SourceInfo, open_source, probe

__all__ = ["SourceInfo", "open_source", "probe"]
