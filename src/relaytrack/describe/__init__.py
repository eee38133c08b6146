"""Per-tracklet description: appearance embedding, clothing colours (KO/EN names), carried items,
vehicle type and colour, best thumbnail."""

from relaytrack.describe.colors import NAMES, PALETTE
from relaytrack.describe.embed import Embedder
from relaytrack.describe.tracklet import CropBank, describe_tracklet

__all__ = ["NAMES", "PALETTE", "CropBank", "Embedder", "describe_tracklet"]
