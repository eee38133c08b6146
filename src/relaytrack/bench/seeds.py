"""The seed registry lives in `relaytrack.seeds` (tuning entry points in the stages call it, and stages never
import the bench edge); this name keeps the benchmarks' imports short."""

from relaytrack.seeds import (  # noqa: F401
    HELD_OUT,
    LIGHTINGS,
    TUNING,
    HeldOutSeedError,
    all_held_out,
    check_tuning,
    check_tuning_footage,
    held_out,
    lighting_of,
    render_for_tuning,
    town_seed,
)
