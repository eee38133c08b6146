"""Strict configuration tree: unknown keys are rejected, every field has bounds and a description.

Defaults are embedded; a YAML file overrides any part of them (`--config FILE`). The settings here apply to
every camera alike: what differs per camera (its start_time, source and zones) is in the camera network file
(`relay.netfile`), which ingest and the watch read.

`Strict` is the one base of every configuration model (this tree, `watch.config`, `risk.config`) and
`load_strict` the one loader: read a YAML/JSON mapping, apply dotted overrides, optionally merge over the
defaults, and validate, reporting every bad field by its dotted path in one ConfigError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaytrack.errors import ConfigError


class Strict(BaseModel):
    """Base of every configuration model: a typo in a key is an error, and so is a bad value set later."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


M = TypeVar("M", bound=BaseModel)


class SourceConfig(Strict):
    analyse_fps: float | None = Field(
        None, gt=0, le=120, description="Analysed frames per second; None = every frame"
    )
    motion_gate: bool = Field(
        False, description="Skip frames whose pixels barely changed since the last analysed one"
    )
    motion_threshold: float = Field(
        0.002, ge=0, le=1, description="Share of changed pixels that counts as motion"
    )
    start_time: str | None = Field(None, description="ISO time of the source's first frame (wall clock)")
    reconnect_max_s: float = Field(30.0, gt=0, description="Longest back-off between stream reconnects")
    reconnect_tries: int = Field(0, ge=0, description="Reconnect attempts before giving up; 0 = forever")


class DetectConfig(Strict):
    model: str | None = Field(None, description="Path of a NanoDet-compatible ONNX file; None = built-in")
    input_size: int = Field(416, ge=128, le=1280, description="Network input side (the model must accept it)")
    person_conf: float = Field(
        0.35, ge=0.01, le=1, description="Minimum score for persons kept as detections"
    )
    vehicle_conf: float = Field(0.35, ge=0.01, le=1)
    item_conf: float = Field(0.25, ge=0.01, le=1)
    low_conf: float = Field(
        0.1, ge=0.01, le=1, description="Scores kept for the tracker's second association"
    )
    keep_ratio: bool = Field(
        True, description="Letterbox (keep aspect) instead of stretching to the input square"
    )
    nms_iou: float = Field(0.6, ge=0.1, le=0.95)
    tiles: str = Field(
        "auto",
        pattern=r"^(auto|off|\d+x\d+)$",
        description="Tiling for small people in wide views: auto, off, or COLSxROWS",
    )
    threads: int = Field(2, ge=1, le=64)


class TrackConfig(Strict):
    high_conf: float = Field(0.45, ge=0.05, le=1, description="First-stage association threshold")
    new_track_conf: float = Field(0.5, ge=0.05, le=1, description="Minimum score to start a new track")
    match_iou: float = Field(0.2, ge=0.01, le=1, description="Minimum IoU (1 - cost) for first-stage matches")
    second_iou: float = Field(
        0.5, ge=0.01, le=1, description="Minimum IoU for low-score second-stage matches"
    )
    max_lost_s: float = Field(3.0, gt=0, description="Seconds a lost track is kept for re-association")
    min_hits: int = Field(2, ge=1, description="Matches before a track is reported")
    min_len: int = Field(3, ge=1, description="Boxes a finished tracklet needs to be stored")
    appearance: bool = Field(
        False, description="Use the detections' appearance embeddings (given to update) in association"
    )
    appearance_weight: float = Field(
        0.3, ge=0, le=1, description="Share of the association cost from appearance distance (1 - cosine)"
    )
    appearance_gate: float = Field(
        0.3, ge=0, le=2, description="Appearance distance above which a box is never given to a track"
    )
    birth_overlap: float = Field(
        0.3,
        ge=0,
        le=1,
        description="No new track from a box overlapping a followed one by more IoU (1 = off)",
    )
    appearance_low: bool = Field(False, description="Also use appearance for low-score second-stage matches")
    look_gate: float = Field(
        0.35,
        ge=0,
        le=1,
        description="Colour-look distance (1 - Bhattacharyya) above which a box is never given to a track; 0 = off",
    )
    look_min_boxes: int = Field(
        3, ge=1, description="Confident looks a track needs before its look vetoes a box"
    )
    edge_reversal: float = Field(
        0.2,
        ge=0,
        le=2,
        description="Split a track whose box, cut by the top or bottom edge, shrinks and grows back by this share "
        "(one person leaving where another enters); 0 = off",
    )
    edge_reversal_s: float = Field(
        2.5, gt=0, description="Window in which that shrinking and growing must happen"
    )
    edge_margin: float = Field(0.04, ge=0, le=0.3, description="Share of the frame that counts as its edge")
    low_rate_s: float = Field(
        0.5,
        gt=0,
        description="Analysed-frame interval (s) from which boxes are also matched by distance: at a low "
        "analysed rate people move further than their own box between frames, so IoU alone never matches",
    )
    low_rate_min_len: int = Field(
        2, ge=1, description="Boxes a finished tracklet needs at a low analysed rate (`low_rate_s`)"
    )
    max_speed: float = Field(
        1.5,  # a walk is about 0.8; the rest is the box's and the prediction's error (tuning towns 7 and 11)
        gt=0,
        le=10,
        description="Fastest plausible motion, in box heights per second (low-rate matching)",
    )


class DescribeConfig(Strict):
    embedder: str | None = Field(
        None,
        description="Appearance embedder: a path of an ONNX model ([N,3,H,W] in, [N,D] out; e.g. one written "
        "by `relaytrack reid train`), 'parts' (built-in part colour/texture features), 'imagenet' (the "
        "MobileNetV2 ImageNet baseline). None = the store's trained model when it has one, else 'parts'",
    )
    crop_height: int = Field(256, ge=32, le=512)
    crop_width: int = Field(128, ge=16, le=512)
    best_crops: int = Field(
        5, ge=1, le=32, description="Best crops by quality that a tracklet's colours, items, plates come from"
    )
    embed_crops: int = Field(
        10, ge=1, le=32,
        description="Crops per tracklet, crop_gap_s apart, averaged into its embedding and kept to re-embed",
    )
    crop_gap_s: float = Field(
        0.4, ge=0.0, le=10.0,
        description="Least time between two kept crops of a tracklet (0: the best crops, even consecutive frames)",
    )
    threads: int = Field(2, ge=1, le=64)


class ReidConfig(Strict):
    """Learning the store's own appearance model as footage comes in (`relaytrack.reid.auto`): after an
    ingest, once the store holds enough person tracklets on enough cameras, `reid train` + `reid apply` run by
    themselves, and again whenever the store has grown by `auto_growth` since. Measured on tuning towns: a
    model learned from a town's own ~90-115 tracklets raised its cross-camera rank-1 over the part features
    (0.71 -> 0.82, 0.87 -> 0.88, 0.80 -> 0.88); from ~50 it was as often worse, hence the floor."""

    auto_learn: bool = Field(
        True,
        description="Learn and apply the store's appearance model after ingests (never when "
        "describe.embedder names a model)",
    )
    auto_min_tracklets: int = Field(
        80, ge=8, le=1_000_000, description="Person tracklets with two or more stored crops needed first"
    )
    auto_min_cameras: int = Field(2, ge=2, le=1000, description="Cameras those tracklets come from")
    auto_growth: float = Field(
        2.0,
        ge=1.1,
        le=100.0,
        description="Learn again once the store holds this many times the tracklets "
        "the current model learned from",
    )


class LinksConfig(Strict):
    """Learning camera links from the store's own traffic as footage comes in (`relaytrack.relay.auto_links`):
    after an ingest, once the store holds enough person sightings, `cameras links --learn` runs by itself, and
    again whenever the store has grown by `auto_growth` since. On held-out detection-level towns (about 1,300
    sightings on 25 cameras each) learned links found 0.93 of the true ones and raised route F1 over the
    register's map links (0.473 -> 0.555); a minute of a rendered town is too little traffic to learn from."""

    auto_learn: bool = Field(True, description="Learn camera links from the store's traffic after ingests")
    auto_min_sightings: int = Field(
        2000, ge=50, le=100_000_000, description="Person sightings the store needs before links are learned"
    )
    auto_max_cameras: int = Field(
        500,
        ge=2,
        le=100_000,
        description="Stores with more registered cameras are left to `cameras links --learn` per district "
        "(every camera pair is tested)",
    )
    auto_growth: float = Field(
        2.0, ge=1.1, le=100.0, description="Learn again once the store holds this many times the sightings"
    )


class RelayConfig(Strict):
    """Knobs of the relay search (`relaytrack.relay.relay(..., params=RelayConfig(...))`). Raising `stop_conf`
    stops routes earlier (fewer wrong hops, more missed ones); raising `beam` keeps more competing paths (slower,
    more robust to a misleading early hop). Scores are log-odds, so the logit fields add to a candidate's score.
    The field order is the order of a route JSON's "params" (`Route.to_dict`), so new fields go at the end."""

    beam: int = Field(4, ge=1, le=50, description="Competing multi-hop paths kept by the beam search")
    stop_conf: float = Field(
        0.25, ge=0, le=1, description="A hop below this confidence is not taken: nothing is likely"
    )
    none_logit: float = Field(
        0.0, ge=-20, le=20, description='Log-odds of "the person is not in any candidate"'
    )
    max_skip: int = Field(1, ge=0, le=5, description="Blind-spot cameras that may be skipped in one hop")
    skip_logit: float = Field(
        -1.0, ge=-20, le=0, description="Prior cost (log-odds) of having been unseen by a linked camera"
    )
    skip_widen: float = Field(1.5, ge=1, le=10, description="Travel-time window widening per skipped camera")
    slack_s: float = Field(3.0, ge=0, le=600, description="Clock jitter allowed beyond a link's [min, max]")
    max_dwell_s: float = Field(
        900.0, gt=0, le=86_400, description="Longest sighting considered when searching backwards"
    )
    w_app: float = Field(1.0, ge=0, le=10, description="Weight of the appearance term")
    app_z0: float = Field(
        2.5,
        ge=-10,
        le=20,
        description="Appearance z-score (against the store's background) that is even odds",
    )
    w_attr: float = Field(1.0, ge=0, le=10, description="Weight of the colour/item/vehicle attribute term")
    w_time: float = Field(1.0, ge=0, le=10, description="Weight of the travel-time term")
    w_edge: float = Field(1.0, ge=0, le=10, description="Weight of the entry/exit edge term")
    use_appearance: bool = Field(True, description="Score appearance (off: ablation)")
    use_attributes: bool = Field(True, description="Score attributes (off: ablation)")
    use_topology: bool = Field(
        True, description="Follow the camera links (off: any camera within horizon_s, the baseline)"
    )
    use_time: bool = Field(True, description="Score travel time against the link (off: ablation)")
    horizon_s: float = Field(
        600.0, gt=0, le=86_400, description="Time window searched when use_topology is off"
    )
    alt_min_conf: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Candidates at least this confident are reported as a hop's alternatives",
    )
    appearance_fn: Literal["embedding", "colour_hist"] = Field(
        "embedding",
        description="Appearance measure: the store's embeddings, or the colour-histogram baseline",
    )
    # Robustness to real-pipeline output (late/early detections, fragmented tracklets, wrong edges, colour
    # misreads). Each is a switch so the relay as first written stays reproducible: RelayConfig.legacy().
    time_tail: bool = Field(
        True, description="Student-t travel-time likelihood, link spread widened by time_jitter_s"
    )
    time_jitter_s: float = Field(
        2.5, ge=0, le=60, description="How far a real tracklet's start/end sits from the true entry/exit"
    )
    time_nu: float = Field(
        3.0, gt=0, le=1000, description="Student-t degrees of freedom (lower = heavier tails)"
    )
    soft_edges: bool = Field(
        True, description="Adjacent edges get partial credit; short tracklets' edges count less"
    )
    edge_full_s: float = Field(
        4.0, gt=0, le=600, description="A tracklet this long (or longer) has edges worth full weight"
    )
    soft_colours: bool = Field(
        True, description="Confusable colour pairs (yellow/brown, gray/white, ...) cost half a mismatch"
    )
    camera_calibration: bool = Field(
        True, description="Appearance z also against the candidate camera's own sightings"
    )
    fragments: bool = Field(
        True, description="A tracklet broken in the same camera continues as a same-camera hop"
    )
    passages: bool = Field(
        True,
        description="Candidates that are fragments of one passage through a view count together against the "
        "stop threshold (their confidences share one normalisation, so a cut passage split its own chance)",
    )
    frag_gap_s: float = Field(
        4.0, ge=0, le=60, description="Longest gap between two fragments of one passage through a view"
    )
    frag_reach: float = Field(
        3.0,
        ge=0,
        le=100,
        description="A same-camera tracklet taken as the person's resumed track begins within this many body "
        "heights of where the earlier one's last second of motion led (0: not checked)",
    )
    frag_reach_per_s: float = Field(
        1.0,
        ge=0,
        le=100,
        description="Body heights added to frag_reach per second of gap between the tracklets",
    )
    frag_back: float = Field(
        1.0,
        ge=0,
        le=100,
        description="A resumed track begins no more than this many body heights behind where the earlier one was, "
        "along its motion (0: not checked)",
    )
    frag_back_per_interval: float = Field(
        2.5,
        ge=0,
        le=100,
        description="Body heights added to frag_back per second between the earlier tracklet's boxes",
    )
    frag_logit: float = Field(
        -0.5,
        ge=-20,
        le=20,
        description="Prior cost of a same-camera hop (the tracker usually keeps a person whole)",
    )
    skip_needs_empty: bool = Field(
        True, description="Never skip a camera that holds a plausible-looking candidate"
    )
    skip_crossing: bool = Field(
        True,
        description="A hop that skips a camera adds the time people take to cross that camera's view (read "
        "from its stored passers-by, relay.skip) to the two links' travel times",
    )
    skip_block_app: float = Field(
        0.0, ge=-20, le=20, description='Appearance+attribute log-odds that count as "plausible-looking"'
    )
    fill_gaps: bool = Field(True, description="Insert a plausible sighting on a camera between two hops")
    exclusive_tracks: bool = Field(
        True,
        description="A route never holds two sightings of one camera that overlap in time (more than 0.5 s): "
        "the second is someone beside the person, typically a look-alike walking along",
    )
    ordered_starts: bool = Field(
        True,
        description="A forward hop begins no earlier than the sighting it follows (a backward hop no later), "
        "within slack_s, however negative the link's travel time (overlapping views)",
    )
    gap_min_logit: float = Field(
        -2.0,
        ge=-20,
        le=20,
        description="Log-odds (vs nobody) the inserted sighting's leg to the next hop needs",
    )
    revisit_factor: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of its confidence a candidate keeps on a camera the route left earlier (1 = no "
        "cost): going back is less likely than moving on, and look-alikes lead routes back and forth",
    )
    vehicle_handoffs: bool = Field(
        True,
        description="Follow the person into a vehicle and out of it (relay.boarding): a person track ending "
        "beside a standing vehicle that then moves off, or starting beside one that just stopped",
    )
    handoff_gap_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Longest wait between boarding and the vehicle moving off (or stopping "
        "and the person getting out)",
    )
    handoff_dist: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Farthest the person's feet may be from the vehicle's box, in person heights",
    )
    handoff_logit: float = Field(1.5, ge=-20, le=20, description="Log-odds (vs nobody) of a hand-off seen so")
    path_look: float = Field(
        0.3,
        ge=0,
        le=5,
        description="Weight, in a path's score, of each hop's look against the anchors alone (log-odds over "
        "app_z0): a step's confidence is relative to that step's rivals, so without it a look-alike's own "
        "consistent walk scores as well as the person's",
    )

    covisible_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description="Vehicles on cameras whose views overlap (a link expecting a negative travel time): a "
        "sighting there that was in view when this one ended (forward; began, backward) and lasted until at "
        "most this many seconds before is the same vehicle seen twice, whenever it arrived (a parked car "
        "watched by two cameras began long before either hop's window); 0 turns it off",
    )
    covisible_logit: float = Field(
        2.5,
        ge=-20,
        le=20,
        description="Log-odds added to such a sighting that also left its view within covisible_s of this one "
        "(forward; came into it, backward): the vehicle drove off from both views at once",
    )
    explained_min: float = Field(
        0.5,
        ge=0,
        le=1.01,
        description="The route's ends are checked backwards: a hop beyond the anchors whose own best way back "
        "(its most likely sighting before it, forward; after it, backward) is someone off the route with at "
        "least this confidence ends the route there (above 1: off). A look-alike walking after the person "
        "is better explained by where they came from themselves",
    )
    explained_margin: float = Field(
        0.25,
        ge=0,
        le=1,
        description="...and by at least this much more confidence than the best way back to the route",
    )

    # 2.0: on the twenty relay tuning towns the one fragment whose reads clashed with the tracklet it continued
    # was a look-alike (town 107, "brown" after "white", both confident); 1.0 did not turn that hop away, 2.0
    # and 3.0 did, and changed no other route. The correct fragments there agreed in both colours.
    frag_colours: float = Field(
        2.0,
        ge=0,
        le=20,
        description="Weight of the colour disagreement between a same-camera fragment and the tracklet it "
        "continues (same view, same light, seconds apart: the reads of one person agree; 0: not checked)",
    )

    @classmethod
    def legacy(cls, **kw: Any) -> RelayConfig:
        """The relay as first written (tuned on detection-level synthetic towns): for before/after benches."""
        return cls(
            time_tail=False,
            soft_edges=False,
            soft_colours=False,
            camera_calibration=False,
            fragments=False,
            skip_needs_empty=False,
            skip_crossing=False,
            fill_gaps=False,
            revisit_factor=1.0,
            vehicle_handoffs=False,
            path_look=0.0,
            covisible_s=0.0,
            explained_min=1.01,
            **kw,
        )


class Config(Strict):
    source: SourceConfig = SourceConfig()
    detect: DetectConfig = DetectConfig()
    track: TrackConfig = TrackConfig()
    describe: DescribeConfig = DescribeConfig()
    reid: ReidConfig = ReidConfig()
    links: LinksConfig = LinksConfig()
    commit_every: int = Field(50, ge=1, description="Analysed frames between store checkpoints")


def read_yaml_mapping(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A YAML file (or JSON, by its .json suffix) whose top level is a mapping; errors name the file and
    the problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = (
            (json.loads(text) if text.strip() else {})
            if p.suffix.lower() == ".json"
            else yaml.safe_load(text)
        )
    except FileNotFoundError as err:
        raise ConfigError(f"{p}: {what} file not found") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML ({str(err).splitlines()[0]})") from err
    except json.JSONDecodeError as err:
        raise ConfigError(f"{p}: not valid JSON ({err})") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{p}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise ConfigError(f"{p}: cannot read {what} file ({err.strerror or err})") from err
    data = data or {}  # an empty file (or an empty document) is an empty mapping
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Set dotted keys ("detect.person_conf") in a nested mapping, in place."""
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        node[leaf] = value
    return data


def merge(base: dict[str, Any], over: dict[str, Any], atomic: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`over` merged into a copy of `base`, mapping by mapping, so that a file giving one key of a dict-valued
    field (one indicator's weight) keeps the others. Keys in `atomic` are replaced whole (a row filter)."""
    out = dict(base)
    for key, val in over.items():
        if isinstance(val, dict) and isinstance(out.get(key), dict) and key not in atomic:
            out[key] = merge(out[key], val, atomic)
        else:
            out[key] = val
    return out


def validate(model: type[M], data: dict[str, Any], where: str) -> M:
    """Validate into a strict model; one ConfigError naming every bad field by its dotted path."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            "; ".join(
                f"{where}: {'.'.join(str(x) for x in e['loc']) or '(top level)'}: {e['msg']}"
                for e in err.errors()
            )
        ) from err


def load_strict(
    model: type[M],
    path: str | Path | None,
    *,
    what: str = "config",
    section: str | None = None,
    overrides: dict[str, Any] | None = None,
    merge_defaults: bool = False,
    atomic: frozenset[str] = frozenset(),
) -> M:
    """The one config loader: defaults, then a YAML/JSON file (its `section:` key where it has one), then
    dotted overrides. `merge_defaults` merges the file over the model's defaults first, for models whose
    dict-valued fields hold defaults of their own (the risk indicators); otherwise missing keys take their
    field defaults as usual."""
    data = read_yaml_mapping(path, what) if path else {}
    if section is not None and section in data:
        data = data[section] or {}
    data = apply_overrides(data, overrides)
    if merge_defaults:
        data = merge(model().model_dump(mode="json"), data, atomic)
    return validate(model, data, str(path) if path else what)


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    return load_strict(Config, path, overrides=overrides)
