"""The held-out towns are written down before tuning and can never reach a tuning entry point."""

import pytest

from relaytrack import seeds


def test_tuning_and_held_out_are_disjoint():
    tuning = {s for v in seeds.TUNING.values() for s in v}
    assert not tuning & seeds.all_held_out()


@pytest.mark.parametrize("purpose", sorted(seeds.TUNING))
def test_held_out_seed_refused_by_every_tuning_purpose(purpose):
    for held in sorted(seeds.all_held_out()):
        with pytest.raises(seeds.HeldOutSeedError, match=str(held)):
            seeds.check_tuning(purpose, held)
    seeds.check_tuning(purpose, seeds.TUNING[purpose][0])


def test_unknown_purpose_lists_known():
    with pytest.raises(seeds.InputError, match="known: "):
        seeds.check_tuning("nonsense", 1)
