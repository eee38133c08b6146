"""relaytrack: multi-camera suspect search and relay tracking for CCTV control rooms."""

__version__ = "0.1.0"
