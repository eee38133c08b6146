"""Project error types. Each carries an actionable, one-line message naming the thing that failed."""


class RelaytrackError(Exception):
    """Base class; the CLI prints str(err) as one line and exits non-zero."""


class ConfigError(RelaytrackError):
    pass


class SourceError(RelaytrackError):
    """A video file, image sequence or stream could not be opened or read."""


class ModelError(RelaytrackError):
    """A model file is missing, unreadable or has the wrong input/output contract."""


class StoreError(RelaytrackError):
    pass


class StoreBusy(StoreError):
    """Every connection of a bounded pool is lent out; the caller may try again shortly."""


class NotFound(RelaytrackError):
    pass


class AccessDenied(RelaytrackError):
    """The user may not do this (no case, wrong role, not assigned, expired token)."""


class InputError(RelaytrackError):
    """Hostile or malformed user input (bad query, path traversal, oversize upload)."""
