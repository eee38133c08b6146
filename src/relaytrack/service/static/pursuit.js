// relaytrack console, the live pursuit (issue 16): the acting case's pursuits; for one, the camera map with the
// predicted next cameras (probability, a live countdown to each ETA window), the live view of the most likely
// camera, the hand-off timeline, and the hand-offs offered to the operator with Confirm / Reject.
// A pursuit is started here (from an origin sighting, or "Start live pursuit" on a search hit: POST /api/pursuits,
// run by the service) or by `relaytrack pursue`, and stopped here (POST /api/pursuits/{id}/stop) wherever it
// runs. It writes its events to the store; the page reads them (GET /api/pursuits/{id}) and then follows them
// as server-sent events (/api/pursuits/{id}/events, resumed after the last event id). A verdict goes back
// through the store (POST /api/pursuits/{id}/verdict), where the running pursuit picks it up. A pursuit whose
// process died reads "stale" (no heartbeat): nothing more will come from it. Builds on window.RT (app.js) and
// RT.drawNetwork (map.js).
"use strict";
(function () {
  const { S, $, el, svg, t, fill, api, media, withLang, refreshGrant, fmtIso, ensureCameras, PAGES } = window.RT;
  const TYPES = ["prediction", "handoff", "camera_down", "lost", "ended"];
  // The open pursuit: its summary, its events so far, the latest prediction, the footage clock and the verdicts
  // sent from this page (until the pursuit's own event says what became of them).
  const P = { id: null, info: null, events: [], pred: null, foot: null, at: 0, over: false, sent: new Set(),
    liveCam: null, timer: null };
  const epoch = (iso) => (iso ? Date.parse(iso) / 1000 : null);
  const clock = (iso) => (iso ? new Date(Date.parse(iso)).toLocaleTimeString(S.lang === "ko" ? "ko-KR" : "en-GB",
    { timeZone: "Asia/Seoul", hour12: false }) : "");
  const pct = (p) => Math.round(Number(p || 0) * 100);
  const evLabel = (type) => ({ prediction: t("pursuit.ev.prediction"), handoff: t("pursuit.ev.handoff"),
    camera_down: t("pursuit.ev.camera_down"), lost: t("pursuit.ev.lost"), ended: t("pursuit.ev.ended"),
    origin: t("pursuit.ev.origin") })[type] || type;

  // ---- the footage clock ------------------------------------------------------------------------------
  // The ETAs are footage wall-clock times (the camera's start time plus the position in its stream), like
  // every event's `time`; they are not this PC's clock: a recorded town played live (`--realtime`) runs in
  // the past, and a camera's clock is not the operator's. So "now" for the countdown is the latest event's
  // footage time, advanced by the real time since that event arrived (a live pursuit plays at real pace; the
  // next prediction, every 2 s of footage, puts the clock right again). Once the pursuit is over it stops.
  function footageNow() {
    if (P.foot === null) return null;
    return P.over ? P.foot : P.foot + (performance.now() - P.at) / 1000;
  }
  function countdown(c) {
    const now = footageNow(), from = epoch(c.eta_from), to = epoch(c.eta_to);
    if (now === null || from === null || to === null) return "";
    if (now < from) return fill("pursuit.eta.in", { s: Math.ceil(from - now) });
    if (now <= to) return fill("pursuit.eta.open", { s: Math.ceil(to - now) });
    return t("pursuit.eta.past");
  }
  function tick() {
    if (location.hash !== "#pursuit" || P.id === null) { clearInterval(P.timer); P.timer = null; return; }
    document.querySelectorAll("#pursuit-predicted li[data-camera]").forEach((li) => {
      const c = (P.pred?.cameras || []).find((x) => x.camera === li.dataset.camera);
      const span = li.querySelector(".eta");
      if (c && span) span.textContent = countdown(c);
    });
  }

  // ---- what the events say ------------------------------------------------------------------------------
  // The latest word on each hand-off's sighting (offered, auto, confirmed, rejected), in event order.
  function handoffState() {
    const last = new Map();
    for (const e of P.events) if (e.type === "handoff") last.set(e.sighting, e);
    return last;
  }
  // The cameras the suspect was handed along: the origin's, then every hand-off still standing.
  function trail() {
    const state = handoffState();
    const first = P.events.find((e) => e.type === "prediction");
    const cams = first ? [first.camera] : [];
    for (const e of P.events) {
      if (e.type !== "handoff" || !["auto", "confirmed"].includes(e.status)) continue;
      if (state.get(e.sighting)?.status === "rejected") continue;
      if (cams[cams.length - 1] !== e.camera) cams.push(e.camera);
    }
    return cams;
  }

  // ---- drawing ------------------------------------------------------------------------------------------
  function overlay(svgEl, proj, byId) {
    const at = (id) => (byId[id] && byId[id].lat !== null ? proj(byId[id].lat, byId[id].lon) : null);
    const pts = trail().map(at).filter(Boolean);
    if (pts.length > 1) svgEl.append(svg("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "pursuit-trail" }));
    if (P.pred) {
      const here = at(P.pred.camera);
      if (here) svgEl.append(svg("circle", { cx: here[0], cy: here[1], r: 13, class: "pursuit-anchor" }));
      P.pred.cameras.forEach((c, i) => {
        const p = at(c.camera);
        if (!p) return;
        svgEl.append(svg("circle", { cx: p[0], cy: p[1], r: 11 + 22 * Math.sqrt(c.p), class: "pred-ring" + (i === 0 ? " pred-top" : ""),
          "data-camera": c.camera }));
        const label = svg("text", { x: p[0] + 14, y: p[1] + 20, class: "map-label pred-label" });
        label.textContent = pct(c.p) + "%";
        svgEl.append(label);
      });
    }
  }
  function drawMap() {
    window.RT.drawNetwork($("#pursuit-map"), { cams: S.cameras, links: S.links, colourBy: "purpose", cones: false,
      showLinks: true, overlay });
  }
  function drawPredicted() {
    const list = $("#pursuit-predicted");
    const pred = P.pred;
    $("#pursuit-predicted-at").textContent = pred ? fill("pursuit.predicted_at", { t: clock(pred.time), s: pred.from }) +
      (pred.off_network ? " · " + fill("pursuit.offnet", { p: pct(pred.off_network) }) : "") : "";
    list.replaceChildren(...(pred?.cameras || []).map((c, i) => el("li", { "data-camera": c.camera, class: i === 0 ? "top" : "" },
      el("b", { text: c.camera }), " ", el("span", { class: "badge", text: pct(c.p) + "%" }), " ",
      el("span", { class: "muted small", text: `${clock(c.eta_from)}–${clock(c.eta_to)}` }), " ",
      el("span", { class: "eta", text: countdown(c) }))));
  }
  function drawVideo() {
    const top = P.pred?.cameras?.[0];
    const img = $("#pursuit-video"), cap = $("#pursuit-video-cap");
    if (!top) { cap.textContent = ""; return; }
    cap.textContent = fill("pursuit.live.cap", { c: top.camera, p: pct(top.p) });
    if (!S.me.permissions.includes("view")) { cap.textContent += " · " + t("pursuit.noview"); return; }
    if (P.liveCam === top.camera) return; // the same camera keeps playing
    P.liveCam = top.camera;
    img.alt = top.camera;
    img.src = media(`/api/video/camera/${encodeURIComponent(top.camera)}.mjpeg?seconds=20`);
  }
  async function verdict(sid, v) {
    await api("POST", `/api/pursuits/${P.id}/verdict`, { sighting: sid, verdict: v });
    P.sent.add(sid);
    window.RT.flash(t("pursuit.sent"), "ok");
    drawOffers(); drawTimeline();
  }
  function verdictButtons(e) {
    if (P.over) return null;
    if (P.sent.has(e.sighting)) return el("span", { class: "muted small sent", text: t("pursuit.sent") });
    return el("span", { class: "row" },
      e.status === "offered" ? el("button", { type: "button", class: "confirm-btn", text: t("pursuit.confirm"),
        onclick: () => verdict(e.sighting, "confirm").catch(() => {}) }) : null,
      el("button", { type: "button", class: "reject-btn", text: t("pursuit.reject"),
        onclick: () => verdict(e.sighting, "reject").catch(() => {}) }));
  }
  function handoffBody(e) {
    return [el("b", { text: `#${e.sighting} · ${e.camera}` }),
      el("span", { class: "badge", "data-status": e.status, text: e.status_text || e.status }),
      el("span", { text: fill("pursuit.conf", { c: Number(e.confidence || 0).toFixed(2) }) }),
      el("span", { class: "reasons", text: (e.reasons_text || e.reasons || []).join(" · ") })];
  }
  function drawOffers() {
    const open = [...handoffState().values()].filter((e) => e.status === "offered");
    const box = $("#pursuit-offers");
    box.classList.toggle("hidden", !open.length || P.over);
    box.replaceChildren(el("h3", { text: t("pursuit.offers") }), ...open.map((e) => el("div", { class: "offer row", "data-sighting": e.sighting },
      S.me.permissions.includes("view") ? el("img", { class: "thumb", alt: "#" + e.sighting, src: media(`/api/sightings/${e.sighting}/thumbnail`) }) : null,
      ...handoffBody(e), verdictButtons(e))));
  }
  function timelineItem(e) {
    const state = handoffState();
    let body = [];
    if (e.type === "handoff") {
      body = handoffBody(e);
      // An automatic hand-off can still be rejected while it is the latest word on that sighting.
      if (e.status === "auto" && state.get(e.sighting) === e) body.push(verdictButtons(e));
    } else if (e.type === "camera_down") body = [el("b", { text: e.camera || "" }), el("span", { text: t("pursuit.downmsg") })];
    else if (e.type === "lost") body = [el("span", { text: fill("pursuit.lost", { s: Math.round(e.after_s || 0) }) })];
    else if (e.type === "ended") {
      body = [el("span", { text: e.reason_text || e.reason || "" })];
      if (e.stopped_by) body.push(el("span", { class: "muted", text: fill("pursuit.stopped_by", { u: e.stopped_by }) }));
    }
    return el("li", { "data-kind": e.type, "data-status": e.status || "", "data-sighting": e.sighting ?? "" },
      el("span", { class: "when", text: clock(e.time) }), el("b", { text: evLabel(e.type) }), ...body);
  }
  function drawTimeline() {
    const items = P.events.filter((e) => e.type !== "prediction").map(timelineItem);
    const start = P.events.find((e) => e.type === "prediction");
    const origin = el("li", { "data-kind": "origin" }, el("span", { class: "when", text: start ? clock(start.time) : fmtIso(P.info.started_time) }),
      el("b", { text: evLabel("origin") }), el("span", { text: `#${P.info.origin}${start ? " · " + start.camera : ""}` }));
    $("#pursuit-timeline").replaceChildren(origin, ...(items.length ? items : [el("li", { class: "muted", text: t("pursuit.empty") })]));
  }
  function drawTitle() {
    const badge = $("#pursuit-live");
    const status = P.info.status_text || P.info.status;
    $("#pursuit-title").textContent = fill("pursuit.title", { id: P.id, o: P.info.origin, s: status });
    const cell = document.querySelector(`#pursuit-list tr[data-pursuit="${P.id}"] td.status`);
    if (cell) cell.textContent = status; // the list says it too
    if (P.info.status === "stale") {
      badge.textContent = fill("pursuit.stale", { s: Math.round(P.info.heartbeat_age_s || 0) }); badge.className = "badge bad";
    } else if (P.over) { badge.textContent = t("pursuit.stream.done"); badge.className = "badge"; }
    // Stop: only a running pursuit nobody has asked to stop yet (the relay's action, as the page is).
    $("#pursuit-stop").classList.toggle("hidden", P.over || P.info.status !== "running" || !!P.info.stop_by);
  }
  function drawAll() { drawTitle(); drawOffers(); drawPredicted(); drawVideo(); drawMap(); drawTimeline(); }

  // ---- events as they come ------------------------------------------------------------------------------
  function take(e) {
    const lastId = P.events.length ? P.events[P.events.length - 1].id : 0;
    if (e.id <= lastId) return false; // already have it (a resumed stream sends only later ones)
    P.events.push(e);
    const when = epoch(e.time);
    if (when !== null && (P.foot === null || when >= P.foot)) { P.foot = when; P.at = performance.now(); }
    if (e.type === "prediction") P.pred = e;
    if (e.type === "handoff") P.sent.delete(e.sighting); // the pursuit has answered the verdict
    if (e.type === "ended" || e.type === "lost") {
      P.over = true;
      P.info.status = P.events.some((x) => x.type === "lost") ? "lost" : e.stopped_by ? "stopped" : "ended";
      P.info.status_text = P.info.status === "stopped" ? fill("pursuit.stopped_by", { u: e.stopped_by }) : evLabel(P.info.status);
    }
    return true;
  }
  function listen() {
    if (S.pes) { S.pes.close(); S.pes = null; }
    if (P.over || P.id === null) return;
    const id = P.id, last = P.events.length ? P.events[P.events.length - 1].id : 0;
    const es = new EventSource(withLang(media(`/api/pursuits/${id}/events?after=${last}`)));
    S.pes = es;
    const badge = $("#pursuit-live");
    es.addEventListener("hello", () => { badge.textContent = t("pursuit.stream.on"); badge.className = "badge ok"; });
    for (const type of TYPES) {
      es.addEventListener(type, (m) => {
        if (P.id !== id || !take(JSON.parse(m.data))) return;
        if (type === "prediction") { drawPredicted(); drawVideo(); drawMap(); drawTitle(); return; }
        drawAll();
        // `lost` is followed by `ended` at once: the stream closes after that (the server closes it too).
        if (type === "ended") { es.close(); if (S.pes === es) S.pes = null; }
      });
    }
    es.onerror = () => {
      if (P.over) return;
      badge.textContent = t("pursuit.stream.off"); badge.className = "badge bad";
      // Refused for good (e.g. the media grant expired while the network was down): reopen with a fresh one.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(async () => { if (S.pes === es && P.id === id && location.hash === "#pursuit") { await refreshGrant(); listen(); } }, 3000);
      }
    };
  }
  async function openPursuit(id) {
    const got = await api("GET", `/api/pursuits/${id}`);
    if (S.pes) { S.pes.close(); S.pes = null; }
    Object.assign(P, { id, info: got, events: [], pred: null, foot: null, at: 0, over: false, sent: new Set(), liveCam: null });
    for (const e of got.event_list) take(e);
    if (got.status !== "running") P.over = true;
    document.querySelectorAll("#pursuit-list tr[data-pursuit]").forEach((tr) => tr.classList.toggle("active", tr.dataset.pursuit === String(id)));
    $("#pursuit-view").classList.remove("hidden");
    $("#pursuit-live").classList.remove("hidden");
    await ensureCameras();
    drawAll();
    listen();
    if (!P.timer) P.timer = setInterval(tick, 500);
  }

  // ---- start and stop ------------------------------------------------------------------------------------
  // The service runs the pursuit; it answers at once with its id ("running" while the models load), and the
  // page opens it: the first prediction arrives on the stream.
  async function startPursuit(sid) {
    const p = await api("POST", "/api/pursuits", { sighting: Number(sid) });
    window.RT.flash(fill("pursuit.started_ok", { id: p.id }), "ok");
    P.id = p.id;
    if (location.hash !== "#pursuit") location.hash = "#pursuit"; // the page's list opens P.id
    else await showPursuits();
  }
  // A request: the pursuit ends by itself within a moment, and its `ended` event (naming who stopped it)
  // comes on the stream.
  async function stopPursuit() {
    if (P.id === null) return;
    const p = await api("POST", `/api/pursuits/${P.id}/stop`);
    P.info.stop_by = p.stop_by;
    window.RT.flash(t("pursuit.stopping"), "ok");
    drawTitle();
  }
  window.RT.startPursuit = startPursuit;

  // ---- the page ------------------------------------------------------------------------------------------
  async function showPursuits() {
    const tbl = $("#pursuit-list");
    if (!S.case) {
      tbl.replaceChildren(el("tr", {}, el("td", { class: "muted", text: t("search.needcase") })));
      $("#pursuit-view").classList.add("hidden");
      return;
    }
    const list = await api("GET", "/api/pursuits");
    tbl.replaceChildren(el("tr", {}, ...["pursuit.no", "pursuit.user", "pursuit.origin", "cases.status", "pursuit.started", "pursuit.last", ""]
      .map((k) => el("th", { text: k ? t(k) : "" }))),
      ...(list.length ? list.map((p) => el("tr", { "data-pursuit": p.id, "data-status": p.status, class: p.id === P.id ? "active" : "" },
        el("td", { text: "#" + p.id }), el("td", { text: p.user || "" }), el("td", { text: "#" + p.origin }),
        el("td", { class: "status", text: p.status_text || p.status }), el("td", { text: fmtIso(p.started_time) }),
        el("td", { text: p.last_event ? `${evLabel(p.last_event.type)} · ${clock(p.last_event.time)}` : "" }),
        el("td", {}, el("button", { type: "button", class: "open-pursuit", text: t("pursuit.open"), onclick: () => openPursuit(p.id).catch(() => {}) }))))
        : [el("tr", {}, el("td", { class: "muted", colspan: 7, text: t("pursuit.none") }))]));
    // The open pursuit again (back on the page, or the list refreshed): only if it is this case's.
    if (P.id !== null && list.some((p) => p.id === P.id)) await openPursuit(P.id);
    else {
      P.id = null; $("#pursuit-view").classList.add("hidden"); $("#pursuit-live").classList.add("hidden"); $("#pursuit-title").textContent = "";
      $("#pursuit-stop").classList.add("hidden");
    }
  }

  PAGES.pursuit = showPursuits;
  document.addEventListener("DOMContentLoaded", () => {
    $("#pursuit-refresh").addEventListener("click", () => showPursuits().catch(() => {}));
    $("#pursuit-stop").addEventListener("click", () => stopPursuit().catch(() => {}));
    $("#pursuit-start-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const sid = $("#pursuit-from").value;
      if (sid) startPursuit(sid).catch(() => {});
    });
  });
})();
