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
