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
    """A request body: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class View(BaseModel):
    """A response: what a client gets, for the OpenAPI spec. `extra="allow"`: a key a stage adds later still
    reaches the client (the console reads these), while the keys listed here are documented and checked."""

    model_config = ConfigDict(extra="allow")


# ---- auth ------------------------------------------------------------------------------------------------


class LoginIn(Strict):
    user: str = Name
    password: str = Field(min_length=1, max_length=1024)
    hours: float = Field(12.0, gt=0, le=24, description="Token lifetime")


class CaseOut(View):
    case_no: str
    legal_basis: str
    purpose: str
    status: str
    legal_hold: bool
    members: list[str] = []
    created_at: float | None = None


class MeOut(View):
    user: str
    role: str
    agency: str | None
    permissions: list[str]
    cases: list[CaseOut]
    pages: list[str] = Field([], description="The console pages this role uses (others are not shown)")
    landing: str = Field("cases", description="The page the console opens after login")
    default_case: str | None = Field(None, description="The user's only open case (pre-selected), else null")


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


class HitOut(View):
    sighting: int
    camera: str
    start: float
    end: float
    frames: list[int]
    box: list[float]
    score: float
    reasons: list[str]
    thumbnail: str


class SearchOut(View):
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
    host_account: str | None = Field(None, description="OS account of the process that wrote the entry")
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


class MediaGrantOut(View):
    grant: str = Field(description="Append as `mg=` to media URLs (thumbnails, MJPEG, the alert stream)")
    expires_in_s: int


class UserOut(View):
    name: str
    role: str
    agency: str | None
    active: bool


class ExportOut(View):
    id: int
    case: str
    user: str
    package: str = Field(description="The evidence package's folder name (never its path on the server)")
    manifest_sha256: str | None
    request_id: int | None
    sightings: list[Any]
    created_at: float | None


class SourceOut(View):
    id: int
    fps: float | None
    width: int | None
    height: int | None
    frames: int | None = Field(description="Frames in the source (None while unknown)")
    start_wall: float
    status: str = Field(description="running | complete | failed")


class LinkOut(View):
    """A camera link (relaytrack.relay.network.link_dict): leaving `src` by `exit_edge` leads to `dst`."""

    src: str
    dst: str
    exit_edge: str | None = Field(description="None: any edge")
    entry_edge: str | None
    mode: str = Field(description="walk | drive")
    mean_s: float
    std_s: float
    min_s: float
    max_s: float | None
    source: str = Field(description="Where the link comes from: map | file | data | manual")
    n_obs: int
    prior_mean_s: float
    prior_std_s: float
    distance_m: float | None


class CameraDetailOut(View):
    """One camera: the register's fields, its links in and out and its recorded sources."""

    id: str
    name: str
    lat: float | None
    lon: float | None
    heading_deg: float | None
    fov_deg: float | None
    district: str | None
    owner: str | None
    purpose: str | None
    stream_url: str | None
    clock_offset_s: float
    width: int | None
    height: int | None
    extra: dict[str, Any]
    sightings: int
    links_out: list[LinkOut]
    links_in: list[LinkOut]
    sources: list[SourceOut]


class SightingOut(View):
    """One sighting: the search/relay CLI fields plus attributes, wall times, edges, box count and media."""

    sighting: int
    camera: str
    start: float
    end: float
    frames: list[int] = Field(description="[first, last] frame")
    box: list[float] = Field(description="x, y, w, h of the best crop")
    kind: str
    class_name: str
    wall_start: float
    wall_end: float
    entry_edge: str | None
    exit_edge: str | None
    upper_color: str | None
    upper_conf: float
    lower_color: str | None
    lower_conf: float
    items: dict[str, float]
    vehicle_type: str | None
    vehicle_color: str | None
    plate: str | None
    source_id: int | None
    boxes: int = Field(description="Stored per-frame boxes")
    thumbnail: str
    video: str


class BoxOut(View):
    frame: int
    t: float
    x: float
    y: float
    w: float
    h: float
    conf: float


class HopOut(View):
    """One hop of a relay route (relaytrack.relay.route.Hop.to_dict) with the console's media links."""

    sighting: int
    camera: str
    start: float
    end: float
    frames: list[int]
    box: list[float]
    score: float
    confidence: float = Field(description="Probability that this candidate is the person")
    kind: str
    wall_start: float
    wall_end: float
    true_start: float = Field(description="Wall start with the camera's clock offset removed")
    true_end: float
    entry_edge: str | None
    exit_edge: str | None
    direction: str = Field(description="origin | confirmed | forward | backward")
    confirmed: bool
    link: dict[str, Any] | None = Field(description="The way here from the previous hop; None for anchors")
    reasons: list[str]
    alternatives: list[dict[str, Any]]
    thumbnail: str
    video: str


class RouteOut(View):
    """A relay route (relaytrack.relay.route.Route.to_dict, the `relaytrack relay --out` contract)."""

    origin: int
    case: str | None
    hops: list[HopOut]
    cameras: list[str]
    stopped: dict[str, str] = Field(description="Why each direction ended")
    anchors: list[int]
    rejected: list[int]
    elapsed_s: float
    params: dict[str, Any] = Field(description="The relay settings the route was made with")


class RouteSummaryOut(View):
    id: int
    origin: int
    user: str | None
    created_at: float
    hops: int


class RequestOut(View):
    """An agency request (relaytrack.evidence.requests.Request)."""

    id: int
    agency: str
    requested_by: str | None
    case_no: str
    purpose: str
    cameras: list[str]
    t_start: float
    t_end: float
    drug_related: bool
    status: str = Field(description="requested | approved | refused | delivered")
    created_at: float
    decided_by: str | None
    reason: str | None
    package_path: str | None = Field(
        default=None, description="The delivered package's folder name (never its path on the server)"
    )
    package_digest: str | None
    outcome: str | None
    outcome_note: str | None


class RequestStatsOut(View):
    """Requests of one month and agency (agency "ALL" sums the month)."""

    month: str
    agency: str
    requests: int
    approved: int
    refused: int
    delivered: int
    pending: int
    drug_related: int
    drug_related_delivered: int
    outcomes_recorded: int
    arrests: int
    evidence_used: int


class ExportHopOut(View):
    camera: str
    sighting: int | None
    first: int
    last: int
    frames: int
    masked_regions: int
    faces: int
    dir: str
    target_frames: int = Field(0, description="Frames with the target's box known (stored or interpolated)")
    target_unknown_frames: int = Field(0, description="Frames with a target but no box: everybody masked")
    target_visible_min: float | None = Field(None, description="Least share of the target's box unaltered")
    target_visible_mean: float | None = None
    target_frames_below_half: int = 0


class ExportCreatedOut(View):
    package: str = Field(description="The evidence package's folder name (never its path on the server)")
    manifest_sha256: str
    audit_seq: int
    export_id: int
    hops: list[ExportHopOut]
    files: list[str] = Field(description="The package's files, relative to the package")


class ExportVerifyOut(View):
    ok: bool
    problems: list[str]
    warnings: list[str]
    case: str | None
    files: int
    key_id: str | None
    manifest_sha256: str | None
