"""Which clips an export cuts: the one rule shared by `relaytrack evidence export`, `relaytrack requests
deliver` and `POST /api/exports`.

An export is made from exactly one source:

- a relay route (its route document): one hop per route hop;
- sightings: one hop per sighting, the sighting's person kept and everybody else masked;
- a watch alert: its sighting(s), or its camera and time span when it names none;
- an agency request: the requested cameras over the requested time with everybody masked, or, when sightings
  are given with it, those target sightings (they must lie on the requested cameras and time range). The
  request must belong to the case acted for.

Anything else (no source, or two sources other than a request with its targets) is refused with an
InputError naming the inputs as the caller's interface spells them (`--route`, or `origin` in the API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from relaytrack.errors import InputError
from relaytrack.evidence.export import (
    Hop,
    hops_from_alert,
    hops_from_request,
    hops_from_route,
    hops_from_sightings,
)
from relaytrack.relay.route import Route

SOURCES = ("route", "sightings", "alert", "request")


def select_hops(
    conn,
    *,
    route: Route | None = None,
    sightings: Sequence[int] | None = None,
    alert: int | None = None,
    request_id: int | None = None,
    case: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Hop]:
    """The hops of one export (see the module docstring for the rule).

    `route` is a relay route (a file is read with relaytrack.relay.persist.read_route_json); `case` is the case acted for (a request of another
    case is refused when it is given); `names` maps the sources the caller offers ("route", "sightings",
    "alert", "request") to how its interface names them, for the error message.
    """
    sightings = [int(s) for s in sightings] if sightings else None
    check_source(names, route=route, sightings=sightings, alert=alert, request_id=request_id)
    if request_id is not None:
        from relaytrack.evidence import requests as rq

        req = rq.get(conn, request_id)
        if case is not None and req.case_no != case:
            raise InputError(f"request {request_id} is for case {req.case_no}, you act for {case}")
        return hops_from_request(conn, req.cameras, req.t_start, req.t_end, sightings)
    if route is not None:
        return hops_from_route(conn, route)
    if sightings is not None:
        return hops_from_sightings(conn, sightings)
    return hops_from_alert(conn, int(alert))


def check_source(
    names: Mapping[str, str] | None = None,
    *,
    route: Any = None,
    sightings: Any = None,
    alert: Any = None,
    request_id: Any = None,
) -> str:
    """Which source an export is made from ("route", "sightings", "alert" or "request"); InputError unless
    exactly one is given (sightings may come with a request) and the caller offers it. Empty sightings
    count as not given. Callers check this before reading anything."""
    names = dict(names or {k: k for k in SOURCES})
    given = [k for k, v in (("route", route), ("sightings", sightings or None), ("alert", alert),
                            ("request", request_id)) if v is not None]  # fmt: skip
    if request_id is not None and "sightings" in given:
        given.remove("sightings")  # the request's targets
    if len(given) != 1 or given[0] not in names:
        raise InputError(_exactly_one(names))
    return given[0]


def _exactly_one(names: Mapping[str, str]) -> str:
    labels = [names[k] for k in SOURCES if k in names]
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    msg = f"give exactly one of {listed}"
    if "request" in names and "sightings" in names:
        msg += f" ({names['sightings']} with {names['request']}: the request's target sightings)"
    return msg
