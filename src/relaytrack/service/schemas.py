"""Request and response schemas of the HTTP API. Every field is bounded, so hostile input is refused with a
422 before any route code runs (and ids always fit SQLite's 64-bit integers)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relaytrack.evidence.requests import OUTCOMES

MAX_ID = 2**62
Id = Field(ge=1, le=MAX_ID)
IdItem = Annotated[int, Field(ge=1, le=MAX_ID)]
NameItem = Annotated[str, Field(min_length=1, max_length=64)]
Name = Field(min_length=1, max_length=64)
Text = Field(min_length=1, max_length=500)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- auth ------------------------------------------------------------------------------------------------


class LoginIn(Strict):
    user: str = Name
    password: str = Field(min_length=1, max_length=1024)
    hours: float = Field(12.0, gt=0, le=24, description="Token lifetime")


class CaseOut(BaseModel):
    case_no: str
    legal_basis: str
    purpose: str
    status: str
    legal_hold: bool
    members: list[str] = []
    created_at: float | None = None


class MeOut(BaseModel):
    user: str
    role: str
    agency: str | None
    permissions: list[str]
    cases: list[CaseOut]


class LoginOut(MeOut):
    token: str
    expires_in_h: float


# ---- search ----------------------------------------------------------------------------------------------


class Filters(Strict):
    time_from: str | None = Field(None, max_length=40, description="ISO time (naive = KST)")
    time_to: str | None = Field(None, max_length=40)
    cameras: list[NameItem] = Field(default_factory=list, max_length=100)
    kind: Literal["person", "vehicle"] | None = None


class TextSearchIn(Filters):
    text: str = Text
    top: int = Field(20, ge=1, le=200)


class SightingSearchIn(Filters):
    sighting: int = Id
    top: int = Field(20, ge=1, le=200)


class HitOut(BaseModel):
    sighting: int
    camera: str
    start: float
    end: float
    frames: list[int]
    box: list[float]
    score: float
    reasons: list[str]
    thumbnail: str


class SearchOut(BaseModel):
    query: dict[str, Any]
    parsed: str | None = None
    message: str | None = None
    hits: list[HitOut]
    stats: dict[str, Any] = {}


# ---- relay -----------------------------------------------------------------------------------------------


class RelayIn(Strict):
    origin: int = Id
    hops: int = Field(6, ge=0, le=50)
    direction: Literal["both", "forward", "backward"] = "both"


class VerdictIn(Strict):
    sightings: list[IdItem] = Field(min_length=1, max_length=50)
    hops: int = Field(6, ge=0, le=50)
    direction: Literal["both", "forward", "backward"] = "both"


# ---- cases, requests, exports ----------------------------------------------------------------------------


class CaseIn(Strict):
    case_no: str = Name
    legal_basis: str = Field(min_length=1, max_length=200)
    purpose: str = Text
    members: list[NameItem] = Field(default_factory=list, max_length=50)


class MemberIn(Strict):
    user: str = Name


class CaseStatusIn(Strict):
    status: Literal["open", "closed"] | None = None
    legal_hold: bool | None = None


class RequestIn(Strict):
    agency: str = Name
    purpose: str = Text
    cameras: list[NameItem] = Field(min_length=1, max_length=100)
    start: str = Field(min_length=1, max_length=40, description="ISO time or epoch seconds")
    end: str = Field(min_length=1, max_length=40)
    drug_related: bool = False


class DecisionIn(Strict):
    note: str = Field("", max_length=500)


class RefuseIn(Strict):
    reason: str = Text


class DeliverIn(Strict):
    export_id: int = Id


class OutcomeIn(Strict):
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    note: str = Field("", max_length=500)


class ExportIn(Strict):
    origin: int | None = Field(None, ge=1, le=MAX_ID, description="Export the case's latest route from here")
    sightings: list[IdItem] = Field(default_factory=list, max_length=64)
    request_id: int | None = Field(None, ge=1, le=MAX_ID)
    pre_roll: float = Field(2.0, ge=0, le=60)
    post_roll: float = Field(2.0, ge=0, le=60)


class AlertVerdictIn(Strict):
    verdict: Literal["ack", "false_alarm"]
    note: str = Field("", max_length=500)


# ---- response views ----------------------------------------------------------------------------------------
# What a client gets, for the OpenAPI spec. `extra="allow"`: a key a stage adds later still reaches the client
# (the console reads these), while the keys listed here are documented and checked.


class View(BaseModel):
    model_config = ConfigDict(extra="allow")


class CameraOut(View):
    id: str
    name: str | None
    lat: float | None
    lon: float | None
    heading_deg: float | None
    fov_deg: float | None
    district: str | None
    owner: str | None
    purpose: str | None
    clock_offset_s: float | None
    width: int | None
    height: int | None
    sources: int = Field(description="Footage sources analysed or being analysed")
    sightings: int
    last_seen: float | None = Field(description="Wall time of the camera's newest sighting")
    links: int = Field(description="Links leaving this camera")
    status: str = Field(description="recording | recorded | idle | failed, or the watch's live state")
    error: str | None


class AlertOut(View):
    """A watch alert (`relaytrack watch --json` keys) with the console's id, wall time and media links."""

    id: int
    camera: str
    start: float
    end: float
    score: float
    reasons: list[str]
    kind: str
    status: str
    clip: str | None
    explanation: str
    signals: dict[str, Any]
    keyframes: list[str]
    sighting: int | None
    wall: float | None = Field(description="Wall time the alert was decided (or started)")
    sightings: list[int]
    source_id: int | None


class AlertMediaOut(AlertOut):
    video: str
    thumbnails: list[str]


class AuditEntryOut(View):
    seq: int
    ts: float
    user: str | None
    case: str | None
    action: str
    outcome: str
    detail: dict[str, Any]
    result_ids: list[Any]
    hash: str


class AuditChainEntryOut(AuditEntryOut):
    time: str = Field(description="Local time of ts")
    prev_hash: str


class AuditVerifyOut(View):
    ok: bool
    entries: int
    problem: str | None
    bad_seq: int | None
    keyed: bool = Field(description="The MACs were checked with this installation's key")
    warning: str | None


class LogoutOut(View):
    revoked: int | None = Field(description="Id of the revoked token")


class UserOut(View):
    name: str
    role: str
    agency: str | None
    active: bool


class ExportOut(View):
    id: int
    case: str
    user: str
    package: str = Field(description="Path of the evidence package")
    manifest_sha256: str | None
    request_id: int | None
    sightings: list[Any]
    created_at: float | None
