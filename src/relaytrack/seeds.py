"""Which synthetic towns tune what, and which are held out: written down before tuning.

A benchmark that scores on a town it was tuned on flatters. Every tuning entry point calls
`check_tuning(purpose, seed)`, which refuses a held-out seed with an error naming it; the scored towns of each
benchmark are taken from `HELD_OUT` only. Adding a seed to `HELD_OUT` after it was used for tuning would be a
lie: held-out seeds are appended, never taken from the tuning lists.
"""

from __future__ import annotations

from relaytrack.errors import InputError

# Seeds used while developing (looked at, tuned on). Earlier sessions tuned the watch on towns 1-3, the
# detector split passes and the demo on 7 and 11, the relay on detection-level seeds 0-9.
TUNING: dict[str, tuple[int, ...]] = {
    "watch": (1, 2, 3),
    # The courier watch's innocent cues (issue 22): drop-free streets with confusers and more drop towns, for
    # tuning only (the scored confuser streets are the held-out watch seeds).
    # 4-5 (confusers) and 11-16 (drops) added in session 14, to tune the hand's confirmation and the stay after
    # it on more than one confuser street.
    "watch-confusers": (1, 2, 3, 4, 5),
    "watch-drops": (4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16),
    "detect": (3, 7, 11),
    "demo": (7, 11),
    "relay": tuple(range(10)),
    # 17, 21, 24 added in session 13 to develop the route's ends and revisit rules on more than three routes
    # (bench relay renders every town in daylight, whatever the seed).
    # 47-71 added in session 18: six routes (21 visits) let a tuning change move F1 by 0.05 a visit, so the
    # held-out gap (0.86 tuning, 0.68 held out) could not be told from noise or from tuning to those six.
    # 73, 79 added in session 19 (rendered while the stature term was written, before it was tried).
    # 83-113 added in session 20, rendered before anything in the relay changed that session: fourteen routes
    # scored 0.88 while the held-out ones scored 0.72, so the misses that generalise were too few to see.
    "relay-towns": (7, 11, 13, 17, 21, 24, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 107, 109, 113),
    # 104-109 added in session 22, before that session changed anything in re-identification: a network
    # trained on the store's tracklets needs more than two towns to be developed on, and one scored town
    # (103) cannot tell a gain from noise.
    "reid": (101, 102, 103, 104, 105, 106, 107, 108, 109),
    # The live pursuit (bench pursuit): the demo's town 7 and two more, rendered as the bench renders them;
    # 17-29 rendered only, to tune the prediction on the suspects' true visits (no footage analysed).
    # 25-28 added in session 16, after a held-out run showed suspects coming back to cameras already passed
    # (702, 703), to count such returns on tuning routes before weighing them: none in 36 transitions of 11.
    "pursuit": (7, 11, 13, 17, 19, 23, 29, 25, 26, 27, 28),
    # Plates on rendered town vehicles (bench plates, rendered part): the towns looked at while building them.
    "plates-town": (81, 82),
    # The suspect who drives off (scenario suspect-drives, relay.boarding): the scenario's own town and two more.
    "drive": (14, 15, 16),
}

# Seeds fixed here before any tuning of the purpose, and never used to tune anything. Scored only.
HELD_OUT: dict[str, tuple[int, ...]] = {
    "watch": (31, 32, 33, 34, 35),
    "detect": (41, 42, 43, 44, 45),
    "relay": (1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009),
    # 604-606 appended in session 13 after the relay's last change of that session, never rendered before it:
    # three routes were too few to say whether the 0.80 target holds.
    # 607-609 appended in session 19 before that session changed anything in the relay: 601-606 had been
    # scored after each of several sessions' changes, so a first look at routes nobody had scored was due.
    # 610-612 appended in session 20 before that session changed anything in the relay, to be scored once at
    # its end beside 601-609.
    "relay-towns": (601, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611, 612),
    # 504-506 appended in session 22 before that session changed anything in re-identification: 501-503
    # had been scored after three changes, so towns nobody has scored are due.
    "reid": (501, 502, 503, 504, 505, 506),
    # Written before the pursuit's prediction, budget or hand-off thresholds were tuned on anything.
    "pursuit": (701, 702, 703, 704, 705, 706),
    # Written before the town's plate rendering or the reader were looked at on any rendered town.
    "plates-town": (801, 802, 803),
    # Written before the person <-> vehicle hand-off was run on any rendered town (vehicle route F1).
    "drive": (901, 902, 903),
}


class HeldOutSeedError(InputError):
    """A tuning entry point was called with a seed reserved for scoring."""


def all_held_out() -> set[int]:
    return {s for seeds in HELD_OUT.values() for s in seeds}


def check_tuning(purpose: str, seed: int) -> None:
    """Raise when `seed` is held out for any benchmark (a held-out town may never tune anything)."""
    if purpose not in TUNING:
        raise InputError(f"unknown tuning purpose {purpose!r}; known: {', '.join(sorted(TUNING))}")
    owners = sorted(p for p, seeds in HELD_OUT.items() if seed in seeds)
    if owners:
        raise HeldOutSeedError(
            f"seed {seed} is held out for {', '.join(owners)} scoring and cannot be used to tune {purpose}"
        )


def held_out(purpose: str, n: int | None = None) -> tuple[int, ...]:
    if purpose not in HELD_OUT:
        raise InputError(f"no held-out seeds for {purpose!r}; known: {', '.join(sorted(HELD_OUT))}")
    seeds = HELD_OUT[purpose]
    return seeds if n is None else seeds[:n]


LIGHTINGS = ("day", "night", "dusk")


def lighting_of(seed: int) -> str:
    """The lighting a benchmark town of `seed` is rendered with: fixed by the seed so reruns agree."""
    return LIGHTINGS[seed % len(LIGHTINGS)]


def render_for_tuning(purpose: str, seed: int, out_dir, **town_kw):
    """The one way a town is rendered to tune something: refuses held-out seeds before rendering."""
    from relaytrack.town import generate

    check_tuning(purpose, seed)
    return generate(seed, out_dir=out_dir, **town_kw)


def town_seed(path) -> int | None:
    """The seed of the generated town a folder or one of its files (videos/C01.mp4, mot/C01) belongs to;
    None for footage that is not a generated town (real video)."""
    import json
    from pathlib import Path

    p = Path(path)
    for d in (p, *p.parents[:3]):
        meta = d / "town.json"
        if meta.is_file():
            try:
                return int(json.loads(meta.read_text(encoding="utf-8"))["spec"]["seed"])
            except (OSError, ValueError, KeyError, TypeError):
                return None
    return None


def check_tuning_footage(purpose: str, path) -> None:
    """check_tuning for footage given by path: refuses a file or folder of a held-out town."""
    seed = town_seed(path)
    if seed is not None:
        check_tuning(purpose, seed)
