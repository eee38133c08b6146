"""End to end in a real browser: Debian's Chromium (headless, driven by Playwright; no browser download)
against `uvicorn` serving the app on the test world, in Korean. An investigator logs in, opens a case, looks at
the map, searches by a Korean description, compares the routes of the best hits side by side, finds people
similar to a hit, starts a relay, confirms two hops, exports evidence in the background (a progress bar,
then the package downloaded by the browser as a ZIP), relays from a look-alike into a dead end
(rejecting its hops) and is offered the next candidates; the live alert wall receives an alert with English
reasons from the watch and shows them in Korean; an auditor reads the audit log as sentences. Every page's
visible text is scanned for English words (test_service_korean.english_words). Screenshots of every page go
to .relaytrack/screenshots (or $RELAYTRACK_SCREENSHOTS)."""

from __future__ import annotations

import os
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
from svc_world import PASSWORD
from test_service_korean import DATA, english_words

from relaytrack.bench.service import write_alert
from relaytrack.paths import repo_root
from relaytrack.store import Store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium (run .ci/install-browser as root)"
    ),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app):
    import uvicorn

    port = _port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    t0 = time.time()
    while not srv.started:
        if time.time() - t0 > 20 or not th.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(10)


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (dev extras)")
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        except Exception as err:  # noqa: BLE001 - an unusable browser is an environment problem, not ours
            pytest.skip(f"chromium at {CHROMIUM} could not be launched: {err}")
        # bypass_csp: Playwright evaluates its wait predicates as strings; the CSP header itself is tested elsewhere.
        ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ko-KR", bypass_csp=True)
        pg = ctx.new_page()
        pg.set_default_timeout(15000)
        pg.errors = []
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        pg.refused = []
        pg.on("response", lambda r: pg.refused.append((r.status, r.url)) if r.status >= 400 else None)
        yield pg
        browser.close()


def _shots() -> Path:
    out = Path(os.environ.get("RELAYTRACK_SCREENSHOTS") or repo_root() / ".relaytrack" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


# What the test world's records say (names, warrants, purposes, agency), shown as they were typed.
WORLD_DATA = [*DATA, "Mapo street", "warrant", "drug courier route", "theft evidence", "theft", "police"]


def _korean(page, where: str) -> None:
    """No English word in what the page shows (hidden pages and attributes are not shown)."""
    bad = english_words(page.inner_text("body"), WORLD_DATA)
    assert not bad, f"English on the Korean {where} page: {bad}"


def _login(page, base: str, user: str) -> None:
    page.goto(base + "/#login")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-btn")
    page.wait_for_selector("#topbar:not(.hidden)")


def test_investigation_in_the_browser(server, page, world, monkeypatch):
    monkeypatch.setenv("RELAYTRACK_LANG", "ko")  # the server's language: the console starts in it
    shots = _shots()
    base = server
    page.goto(base + "/")
    page.wait_for_selector("#login-form")
    assert page.locator("#login-btn").inner_text() == "로그인"  # Korean first
    _korean(page, "login")
    page.screenshot(path=str(shots / "01-login.png"))
    # A wrong password is refused on the page.
    page.fill("#login-user", "kim")
    page.fill("#login-pass", "not-the-password")
    page.click("#login-btn")
    page.wait_for_function("document.querySelector('#login-error').textContent.length > 0")

    _login(page, base, "kim")
    # An investigator lands on search, their only case already chosen.
    page.wait_for_selector("#page-search:not(.hidden)")
    page.wait_for_function("document.querySelector('#case-select').value === 'C-1'")
    assert page.locator('#nav a[data-page="folder"]').is_visible()
    page.click('#nav a[data-page="cases"]')
    page.wait_for_selector('#case-list tr[data-case="C-1"]')
    page.click('#case-list tr[data-case="C-1"] button.open-case')
    page.wait_for_function("document.querySelector('#case-select').value === 'C-1'")
    _korean(page, "cases")
    page.screenshot(path=str(shots / "02-cases.png"), full_page=True)

    page.click('#nav a[data-page="map"]')
    page.wait_for_selector("#camera-map g.cam")
    assert page.locator("#camera-map g.cam").count() == 4
    page.click('#camera-map g.cam[data-id="C02"]')
    page.wait_for_selector("#camera-detail h3")
    assert "C02" in page.inner_text("#camera-detail h3")
    page.wait_for_function(
        "(() => { const v = document.querySelector('#camera-video'); return v && v.naturalWidth > 0; })()"
    )  # MJPEG frames arrive
    _korean(page, "map")
    page.screenshot(path=str(shots / "03-map.png"), full_page=True)

    page.click('#nav a[data-page="search"]')
    page.fill("#search-text", "빨간 상의에 검은 바지")
    page.click("#search-btn")
    page.wait_for_selector("#results .hit")
    assert "빨강" in page.inner_text("#parsed") and "검정" in page.inner_text("#parsed")  # a sentence
    first = page.locator("#results .hit").first
    assert first.get_attribute("data-sighting") == str(world.suspect[0])
    page.wait_for_function("document.querySelector('#results .hit img').naturalWidth > 0")  # thumbnail loaded
    _korean(page, "search")
    page.screenshot(path=str(shots / "04-search.png"), full_page=True)

    # The routes of the best three hits side by side, each with its support; the best one marked.
    page.click("#compare-btn")
    page.wait_for_function("document.querySelectorAll('#relay-compare .compare-col').length === 3")
    assert page.locator("#relay-compare .compare-col.best").count() == 1
    assert "카메라 4대" in page.inner_text("#relay-compare .compare-col.best .support")
    _korean(page, "route comparison")
    page.screenshot(path=str(shots / "05-compare.png"), full_page=True)

    # Find similar: the people who look like the top hit.
    page.click('#nav a[data-page="search"]')
    page.locator("#results .hit").first.locator(".similar-btn").click()
    page.wait_for_function("document.querySelector('#parsed').textContent.includes('비슷한 사람')")
    page.wait_for_selector("#results .hit")
    assert str(world.suspect[0]) not in page.locator("#results .hit").evaluate_all(
        "els => els.map(e => e.dataset.sighting)"
    )
    _korean(page, "find similar")
    page.screenshot(path=str(shots / "06-similar.png"), full_page=True)

    page.click("#search-btn")  # the description again
    page.wait_for_function(
        f"document.querySelector('#results .hit').dataset.sighting === '{world.suspect[0]}'"
    )
    first = page.locator("#results .hit").first
    first.locator(".relay-btn").click()
    page.wait_for_selector("#relay-hops .hop")
    assert [
        int(x)
        for x in page.locator("#relay-hops .hop").evaluate_all("els => els.map(e => e.dataset.sighting)")
    ] == world.suspect
    for sid in world.suspect[1:3]:
        page.click(f'#relay-hops .hop[data-sighting="{sid}"] .confirm-btn')
        page.wait_for_selector(f'#relay-hops .hop[data-sighting="{sid}"][data-state="confirmed"]')
    assert page.locator("#relay-map .route-confirmed").count() == 1
    page.click(f'#relay-hops .hop[data-sighting="{world.suspect[1]}"] img')
    page.wait_for_function("document.querySelector('#relay-video').naturalWidth > 0")
    page.click("#export-btn")  # runs in the background: a progress bar, then the package to download
    page.wait_for_selector("#export-progress")
    page.wait_for_selector("#export-package", timeout=60000)
    with page.expect_download() as dl:
        page.click("#export-download")
    saved = shots / "export.zip"
    dl.value.save_as(str(saved))
    assert dl.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(saved) as zf:
        assert any(n.endswith("/manifest.json") for n in zf.namelist()) and zf.testzip() is None
    page.screenshot(path=str(shots / "07-relay-export.png"), full_page=True)

    # The case folder: the searches, routes, verdicts and the export of the case in time order; a note.
    page.click('#nav a[data-page="folder"]')
    page.wait_for_selector('#folder-items li[data-kind="export"] .download-btn')
    kinds = page.locator("#folder-items li").evaluate_all("els => els.map(e => e.dataset.kind)")
    order = [kinds.index(k) for k in ("search", "route", "verdict", "export")]
    assert order == sorted(order), kinds
    page.fill("#note-text", "C02에서 백팩을 멘 채 북쪽으로 이동")
    page.click("#note-btn")
    page.wait_for_selector('#folder-items li[data-kind="note"]')
    assert "북쪽으로 이동" in page.inner_text('#folder-items li[data-kind="note"]')
    _korean(page, "case folder")
    page.screenshot(path=str(shots / "07b-case-folder.png"), full_page=True)

    # A look-alike: the lone grey passer-by. Rejecting the hops proposed for them leaves a dead end, which
    # says why in plain words and offers the next candidates to relay from.
    page.click('#nav a[data-page="search"]')
    page.fill("#search-text", "회색 상의에 회색 바지")
    page.click("#search-btn")
    page.wait_for_selector("#results .hit")
    page.locator("#results .hit").first.locator(".relay-btn").click()
    page.wait_for_selector("#relay-hops .hop")
    for _ in range(6):
        proposed = page.locator("#relay-hops .hop-proposed .reject-btn")
        if not proposed.count():
            break
        n = page.locator("#relay-hops .hop").count()
        proposed.first.click()
        page.wait_for_function(f"document.querySelectorAll('#relay-hops .hop').length < {n}")
    page.wait_for_selector("#relay-deadend .next-candidate")
    assert page.locator("#relay-changes").is_visible()  # the verdict's effect is said
    _korean(page, "dead end")
    page.screenshot(path=str(shots / "08-dead-end.png"), full_page=True)

    page.click('#nav a[data-page="alerts"]')
    page.wait_for_selector("#alert-live.ok")
    with Store(world.db) as s, s.tx() as conn:
        aid = write_alert(
            conn,
            "C03",
            start=1.0,
            end=3.0,
            score=0.88,
            reasons=["stopped 18 s at mailbox m1", "crouched (knee 80°, torso 40°)"],  # as the watch writes
            sighting=world.suspect[2],
        )
    page.wait_for_selector(f'#alert-wall .alert[data-alert="{aid}"]')
    page.click(f'#alert-wall .alert[data-alert="{aid}"]')
    page.wait_for_function("document.querySelector('#alert-video').naturalWidth > 0")
    page.click("#alert-detail .ack-btn")
    page.wait_for_function("document.querySelector('#alert-status').dataset.status === 'acked'")
    assert "우편함 m1 앞에서 18초 멈춤" in page.inner_text("#alert-detail")
    _korean(page, "alerts")
    page.screenshot(path=str(shots / "09-alerts.png"), full_page=True)

    page.click("#lang-toggle")
    assert page.inner_text('#nav a[data-page="search"]') == "Suspect search"
    page.click('#nav a[data-page="cases"]')
    page.wait_for_selector("#export-list li")
    page.screenshot(path=str(shots / "10-cases-en.png"), full_page=True)
    page.click("#logout")
    page.wait_for_selector("#login-form")
    page.click("#lang-toggle-login")  # back to Korean for the auditor

    _login(page, base, "op")  # an operator lands on the alert wall and has no request form
    page.wait_for_selector("#page-alerts:not(.hidden)")
    assert page.locator('#nav a[data-page="audit"]').is_hidden()
    page.click("#logout")
    page.wait_for_selector("#login-form")

    _login(page, base, "aud")
    assert page.locator("#case-select").is_hidden()  # an auditor acts for no case
    page.wait_for_selector("#audit-table tr[data-action]")
    page.fill("#audit-case", "C-1")
    page.click("#audit-refresh")
    page.wait_for_selector('#audit-table tr[data-action="export"][data-case="C-1"]')
    assert "✔" in page.inner_text("#audit-verify"), page.inner_text("#audit-verify")
    assert page.locator('#nav a[data-page="search"]').is_hidden()  # auditors do not search
    # "누가 어떤 사건으로 무엇을 봤는지": each entry as a sentence.
    summaries = page.locator("#audit-table td.summary").all_inner_texts()
    assert any(x.startswith("kim(수사관)이(가) 사건 C-1로") and "검색" in x for x in summaries), summaries
    _korean(page, "audit")
    page.screenshot(path=str(shots / "11-audit.png"), full_page=True)
    # The only refusals the console met are the deliberate wrong password.
    assert [(st, url.split("?")[0].replace(base, "")) for st, url in page.refused] == [
        (401, "/api/auth/login")
    ]
    assert not [e for e in page.errors if "status of 401" not in e], page.errors


def test_live_pursuit_in_the_browser(server, page, world, monkeypatch):
    """An operator follows a live pursuit (issue 16): the map rings the predicted cameras with their probability,
    each with a countdown, the most likely camera plays live, an offered hand-off is confirmed on the page (the
    verdict is what the running pursuit reads), and the pursuit's next events arrive as server-sent events
    until it ends. In Korean throughout."""
    from relaytrack.pursue.events import (
        EventLog,
        PursuitEvent,
        finish_pursuit,
        iso,
        start_pursuit,
        take_verdicts,
    )

    monkeypatch.setenv("RELAYTRACK_LANG", "ko")
    store = Store(world.db)
    with store.tx() as conn:
        pid = start_pursuit(conn, case="C-1", user="op", origin=world.suspect[0], cameras_file="cameras.yaml")
    log = EventLog(None, store, pid)
    t0 = time.time() - 30.0  # footage time need not be this PC's: the countdown runs on the events' clock

    def prediction(t: float, frm: int, cams: list[str]) -> PursuitEvent:
        return PursuitEvent("prediction", t, "C01", {"from": frm, "off_network": 0.1, "cameras": [
            {"camera": c, "eta_from": iso(t + 15 + 20 * i), "eta_to": iso(t + 40 + 20 * i), "p": round(0.6 / (i + 1), 3)}
            for i, c in enumerate(cams)]})  # fmt: skip

    def handoff(t: float, sid: int, cam: str, status: str) -> PursuitEvent:
        return PursuitEvent("handoff", t, cam, {"sighting": sid, "confidence": 0.61, "status": status,
                            "reasons": ["appearance 0.80 (z 3.0)", "upper red agrees", "C02 predicted next at p 0.60"]})  # fmt: skip

    log.emit(prediction(t0, world.suspect[0], ["C02", "C03"]))
    log.emit(handoff(t0 + 20, world.suspect[1], "C02", "offered"))
    try:
        _login(page, server, "op")
        page.wait_for_selector("#page-alerts:not(.hidden)")
        page.click('#nav a[data-page="pursuit"]')
        page.wait_for_selector(f'#pursuit-list tr[data-pursuit="{pid}"]')
        page.click(f'#pursuit-list tr[data-pursuit="{pid}"] .open-pursuit')
        page.wait_for_selector('#pursuit-map .pred-ring.pred-top[data-camera="C02"]')
        page.wait_for_selector("#pursuit-live.ok")
        assert page.locator("#pursuit-predicted li").count() == 2
        page.wait_for_function(
            "(() => { const v = document.querySelector('#pursuit-video'); return v && v.naturalWidth > 0; })()"
        )  # the most likely camera's live view
        assert "C02" in page.inner_text("#pursuit-video-cap")
        eta = page.inner_text('#pursuit-predicted li[data-camera="C03"] .eta')
        assert "도착까지" in eta, eta
        offer = f'#pursuit-offers .offer[data-sighting="{world.suspect[1]}"]'
        page.wait_for_selector(offer)
        assert "외모 유사도" in page.inner_text(offer)
        _korean(page, "pursuit")
        page.screenshot(path=str(_shots() / "12-pursuit.png"), full_page=True)
        page.click(offer + " .confirm-btn")
        page.wait_for_selector(offer + " .sent")
        assert take_verdicts(store, pid) == [(world.suspect[1], "confirm")]
        # The running pursuit answers: the hand-off confirmed, a new prediction from it, then lost and ended.
        log.emit(handoff(t0 + 21, world.suspect[1], "C02", "confirmed"))
        log.emit(prediction(t0 + 22, world.suspect[1], ["C03", "C04"]))
        page.wait_for_selector(
            f'#pursuit-timeline li[data-status="confirmed"][data-sighting="{world.suspect[1]}"]'
        )
        page.wait_for_selector('#pursuit-map .pred-ring.pred-top[data-camera="C03"]')
        page.wait_for_selector("#pursuit-offers.hidden", state="attached")
        assert page.locator("#pursuit-map .pursuit-trail").count() == 1
        log.emit(PursuitEvent("lost", t0 + 150, "C02", {"from": world.suspect[1], "after_s": 120.0}))
        log.emit(PursuitEvent("ended", t0 + 150, "C02", {"reason": "lost", "anchor": world.suspect[1]}))
        finish_pursuit(store, pid, "lost", world.suspect[1])
        page.wait_for_selector('#pursuit-timeline li[data-kind="ended"]')
        assert "추적 끝남" in page.inner_text("#pursuit-live")
        _korean(page, "pursuit ended")
        page.screenshot(path=str(_shots() / "13-pursuit-ended.png"), full_page=True)
        assert not page.refused, page.refused
        assert not page.errors, page.errors
    finally:
        store.close()


def test_start_and_stop_a_pursuit_in_the_browser(server, app, page, world, tmp_path, monkeypatch):
    """An operator starts a live pursuit from an origin sighting on the pursuit page (the service runs it on
    its cameras file; the models stand in, so nobody is ever seen), watches its first prediction arrive, and
    stops it: the timeline ends saying who stopped it and the stop button goes. In Korean throughout."""
    from test_pursuit_start_stop import _cameras_file, _NobodyThere, _Stages

    from relaytrack.pipeline.session import Stages

    monkeypatch.setattr(Stages, "load", classmethod(lambda cls, cfg, embed=True: _Stages()))
    monkeypatch.setattr("relaytrack.pursue.analyse.SessionAnalyser", _NobodyThere)
    monkeypatch.setenv("RELAYTRACK_LANG", "ko")
    app.state.pursuits.cameras = Path(_cameras_file(world, tmp_path))
    _login(page, server, "op")
    page.wait_for_selector("#page-alerts:not(.hidden)")
    page.click('#nav a[data-page="pursuit"]')
    page.wait_for_selector("#pursuit-start-form")
    page.fill("#pursuit-from", str(world.suspect[0]))
    page.click("#pursuit-start")
    page.wait_for_selector('#pursuit-list tr[data-pursuit][data-status="running"].active')
    page.wait_for_selector("#pursuit-live.ok")
    page.wait_for_selector("#pursuit-map .pred-ring.pred-top")  # its first prediction, from the stream
    page.wait_for_selector("#pursuit-stop:not(.hidden)")
    _korean(page, "pursuit started")
    page.click("#pursuit-stop")
    page.wait_for_selector('#pursuit-timeline li[data-kind="ended"]', timeout=30000)
    ended = page.inner_text('#pursuit-timeline li[data-kind="ended"]')
    assert "관제요원이 중지함" in ended and "op이(가) 중지함" in ended, ended
    page.wait_for_selector("#pursuit-stop.hidden", state="attached")
    _korean(page, "pursuit stopped")
    page.screenshot(path=str(_shots() / "14-pursuit-stopped.png"), full_page=True)
    with Store(world.db) as s:
        assert [tuple(r) for r in s.conn.execute("SELECT status, stop_by FROM pursuits")] == [
            ("stopped", "op")
        ]
    assert not page.refused, page.refused
    assert not page.errors, page.errors
