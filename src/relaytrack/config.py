"""Strict configuration tree: unknown keys are rejected, every field has bounds and a description.

Defaults are embedded; a YAML file overrides any part of them (`--config FILE`). Per-camera overrides in
a camera file are merged over these global defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaytrack.errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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
    appearance: bool = Field(False, description="Use colour-histogram appearance as an extra association cue")
    edge_margin: float = Field(0.04, ge=0, le=0.3, description="Share of the frame that counts as its edge")


class DescribeConfig(Strict):
    embedder: str | None = Field(
        None, description="Path of an ONNX re-id/appearance embedder; None = built-in"
    )
    crop_height: int = Field(256, ge=32, le=512)
    crop_width: int = Field(128, ge=16, le=512)
    best_crops: int = Field(5, ge=1, le=32, description="Crops per tracklet averaged into its embedding")
    threads: int = Field(2, ge=1, le=64)


class Config(Strict):
    source: SourceConfig = SourceConfig()
    detect: DetectConfig = DetectConfig()
    track: TrackConfig = TrackConfig()
    describe: DescribeConfig = DescribeConfig()
    commit_every: int = Field(50, ge=1, description="Analysed frames between store checkpoints")


def read_yaml_mapping(path: str | Path, what: str = "config") -> dict[str, Any]:
    """A YAML file whose top level is a mapping; errors name the file and the problem."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as err:
        raise ConfigError(f"{p}: {what} file not found") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML ({str(err).splitlines()[0]})") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{p}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise ConfigError(f"{p}: cannot read {what} file ({err.strerror or err})") from err
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


def validate(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    """Validate into a strict model; one ConfigError listing every bad field by its dotted path."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"{where}: invalid config: {msgs}") from err


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    data = read_yaml_mapping(path) if path else {}
    return validate(Config, apply_overrides(data, overrides), str(path) if path else "config")
