"""The relay workspace: start a route from a sighting, confirm or reject candidates (the route is re-scored
around the confirmed anchors and grows), and fetch the case's latest route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path

from relaytrack.evidence import access as acc
from relaytrack.relay.engine import relay
from relaytrack.relay.persist import latest_route, record_feedback, save_route
from relaytrack.service import localize
from relaytrack.service.deps import Access, need
from relaytrack.service.schemas import MAX_ID, RelayIn, RouteOut, VerdictIn

router = APIRouter(prefix="/api/relay", tags=["relay"])
Origin = Annotated[int, Path(ge=1, le=MAX_ID)]


def _with_media(route: dict[str, Any], a: Access) -> dict[str, Any]:
    """Media links, and the person's reading of the route: reasons and stop reasons as sentences, its support,
    at a dead end why and the next candidates (only those this case may see)."""
    for h in route["hops"]:
        h["thumbnail"] = f"/api/sightings/{h['sighting']}/thumbnail"
        h["video"] = f"/api/video/sighting/{h['sighting']}.mjpeg"
        for alt in h.get("alternatives") or []:
            if "sighting" in alt:
                alt["thumbnail"] = f"/api/sightings/{alt['sighting']}/thumbnail"
    return localize.route_out(
        route, a.conn, a.case, a.user.name, allowed=lambda ids: a.grant(ids, record=False).allowed
    )


def _relay(a: Access, origin: int, hops: int, direction: str, detail: dict) -> dict[str, Any]:
    # Another case's evidence is never a candidate; every hop then passes the gate before it is shown.
    route = relay(
        a.store, origin, hops, case=a.case, direction=direction, hidden=acc.hidden_sightings(a.conn, a.case)
    )
    a.check_ids(route.sighting_ids)
    with a.store.tx() as conn:
        rid = save_route(conn, route, a.user.name)
        a.log({**detail, "route": rid, "hops": len(route.hops), "stopped": route.stopped}, route.sighting_ids)
    return _with_media(route.to_dict(), a)


@router.post("", response_model=RouteOut)
def start_route(body: RelayIn, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """Reconstruct the route through a sighting (forwards and backwards in time)."""
    a.check_ids([body.origin])
    return _relay(
        a,
        body.origin,
        body.hops,
        body.direction,
        {"endpoint": "POST /api/relay", "from": body.origin, "hops_max": body.hops},
    )


@router.get("/{origin}", response_model=RouteOut)
def latest(origin: Origin, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """The latest route computed from this origin for the caller's case."""
    a.check_ids([origin])
    route = latest_route(a.conn, a.case, origin)
    if route is None:
        raise HTTPException(404, f"no route from sighting {origin} in case {a.case}")
    a.check_ids(route.sighting_ids)
    a.log({"endpoint": "GET /api/relay/{origin}"}, route.sighting_ids)
    return _with_media(route.to_dict(), a)


def _verdict(verdict: str, origin: int, body: VerdictIn, a: Access) -> dict:
    a.check_ids([origin, *body.sightings])
    with a.store.tx() as conn:
        n = record_feedback(conn, a.case, origin, body.sightings, verdict, a.user.name)
        a.log(
            {
                "endpoint": f"POST /api/relay/{{origin}}/{verdict}",
                "verdict": verdict,
                "origin": origin,
                "stored": n,
            },
            list(body.sightings),
        )
    return _relay(
        a,
        origin,
        body.hops,
        body.direction,
        {"endpoint": f"POST /api/relay/{{origin}}/{verdict}", "from": origin, "rescored": True},
    )


@router.post("/{origin}/confirm", response_model=RouteOut)
def confirm(origin: Origin, body: VerdictIn, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """Confirm candidates (they become anchors); returns the re-scored route."""
    return _verdict("confirm", origin, body, a)


@router.post("/{origin}/reject", response_model=RouteOut)
def reject(origin: Origin, body: VerdictIn, a: Annotated[Access, Depends(need("relay"))]) -> dict:
    """Reject candidates (never proposed again in this case); returns the re-scored route."""
    return _verdict("reject", origin, body, a)
