"""A verdict's effect on the route, explained (issue 19 item 3): hops that left (rejected, replaced, no longer
reached, skipped) and hops that joined, as sentences in both languages."""

from __future__ import annotations

from relaytrack.records import Sighting
from relaytrack.relay.changes import change_sentences, route_changes
from relaytrack.relay.route import Hop, Route


def hop(sid: int, cam: str, t0: float, conf: float = 0.8) -> Hop:
    s = Sighting(id=sid, camera=cam, source_id=None, track_id=sid, kind="person", class_name="person",
                 start=t0, end=t0 + 5, first_frame=int(t0 * 10), last_frame=int(t0 * 10) + 50,
                 wall_start=1_790_000_000 + t0, wall_end=1_790_000_005 + t0, box=(0, 0, 10, 20))  # fmt: skip
    return Hop(s, conf, "forward", true_start=1_790_000_000 + t0, true_end=1_790_000_005 + t0)


def route(*hops: Hop) -> Route:
    return Route(origin=hops[0].sighting.id, hops=list(hops))


A, B, C, D = hop(1, "C01", 0), hop(2, "C02", 40), hop(3, "C03", 90), hop(4, "C05", 45)


def test_each_way_a_hop_can_leave_is_named():
    ch = route_changes(route(A, B, C), route(A, D, C))
    assert [(d.hop.sighting.id, d.reason, d.by.sighting.id) for d in ch.dropped] == [(2, "replaced", 4)]
    assert [h.sighting.id for h in ch.added] == [4]
    assert [(d.hop.sighting.id, d.reason) for d in route_changes(route(A, B, C), route(A)).dropped] == [
        (2, "unreached"), (3, "unreached")]  # fmt: skip
    assert [d.reason for d in route_changes(route(A, B, C), route(A, C)).dropped] == ["skipped"]
    assert [d.reason for d in route_changes(route(A, B, C), route(A, C), rejected={2}).dropped] == ["rejected"]
    assert route_changes(route(A, B), route(A, B)).empty and route_changes(None, route(A)).empty


def test_sentences_in_both_languages():
    from relaytrack.i18n import use_lang

    ch = route_changes(route(A, B, C), route(A, D, C))
    with use_lang("en"):
        en = change_sentences(ch)
    assert en[0].startswith("#2 on C02 at ") and "no longer on the route" in en[0] and "#4 on C05" in en[0]
    assert "joins the route" in en[1]
    with use_lang("ko"):
        ko = change_sentences(ch)
        same = change_sentences(route_changes(route(A, B), route(A, B)))
    assert "더 이상 경로에 없습니다" in ko[0] and "새로 들어왔습니다" in ko[1]
    assert same == ["다시 계산한 경로의 목격은 이전 경로와 같습니다."]
