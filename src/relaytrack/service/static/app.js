// relaytrack console: plain JS, no build step, no external assets. Talks to /api with a bearer token kept in
// sessionStorage; media URLs (<img> MJPEG/thumbnails, EventSource) carry it as access_token.
"use strict";
(function () {
  const S = {
    token: sessionStorage.getItem("rt.token"), me: null, case: sessionStorage.getItem("rt.case") || "",
    lang: localStorage.getItem("rt.lang") || "ko", cameras: [], links: [], route: null, origin: null, es: null,
  };
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  };
  const SVGNS = "http://www.w3.org/2000/svg"; // a namespace name, never fetched
  const svg = (tag, attrs = {}) => {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  const t = (key) => (window.I18N[S.lang] && window.I18N[S.lang][key]) || window.I18N.en[key] || key;
  const fmtTime = (epoch) => epoch ? new Date(epoch * 1000).toLocaleString(S.lang === "ko" ? "ko-KR" : "en-GB",
    { timeZone: "Asia/Seoul", hour12: false }) : "";

  function applyLang() {
    document.documentElement.lang = S.lang;
    document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
    document.querySelectorAll("[data-i18n-ph]").forEach((e) => { e.placeholder = t(e.dataset.i18nPh); });
    const other = S.lang === "ko" ? "English" : "한국어";
    $("#lang-toggle").textContent = other;
    $("#lang-toggle-login").textContent = other;
  }
  function toggleLang() {
    S.lang = S.lang === "ko" ? "en" : "ko";
    localStorage.setItem("rt.lang", S.lang);
    applyLang();
    route();
  }

  function flash(msg, kind = "error") {
    const f = $("#flash");
    f.textContent = msg;
    f.className = kind;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => f.classList.add("hidden"), 6000);
  }

  async function api(method, path, body, opts = {}) {
    const headers = {};
    if (S.token) headers.Authorization = "Bearer " + S.token;
    if (S.case && !opts.noCase) headers["X-Case"] = S.case;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    let r;
    try { r = await fetch(path, { method, headers, body: payload }); } catch (e) { flash(t("err.network")); throw e; }
    if (r.status === 401 && !opts.login) { logout(false); throw new Error("unauthorised"); }
    const type = r.headers.get("content-type") || "";
    const data = type.includes("json") ? await r.json() : await r.text();
    if (!r.ok) {
      const msg = typeof data === "object" ? (Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ")
        : data.detail) : data;
      if (!opts.quiet) flash(String(msg));
      const err = new Error(String(msg)); err.status = r.status; throw err;
    }
    return data;
  }
  const media = (url) => url + (url.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(S.token) +
    (S.case ? "&case=" + encodeURIComponent(S.case) : "");

  // ---- session ------------------------------------------------------------------------------------------
  async function login(ev) {
    ev.preventDefault();
    $("#login-error").textContent = "";
    try {
      const r = await api("POST", "/api/auth/login", { user: $("#login-user").value, password: $("#login-pass").value },
        { login: true, quiet: true, noCase: true });
      S.token = r.token; sessionStorage.setItem("rt.token", r.token);
      $("#login-pass").value = "";
      await loadMe();
      location.hash = "#" + (r.permissions.includes("audit") && !r.permissions.includes("search") ? "audit" : "cases");
      route();
    } catch (e) { $("#login-error").textContent = e.message; }
  }
  async function logout(callApi = true) {
    if (callApi && S.token) { try { await api("POST", "/api/auth/logout", undefined, { quiet: true }); } catch (e) { /* gone */ } }
    S.token = null; S.me = null; S.case = "";
    sessionStorage.removeItem("rt.token"); sessionStorage.removeItem("rt.case");
    if (S.es) { S.es.close(); S.es = null; }
    location.hash = "#login";
    route();
  }
  async function loadMe() {
    S.me = await api("GET", "/api/me", undefined, { noCase: true });
    const cases = S.me.cases.filter((c) => c.status === "open");
    if (S.case && !cases.some((c) => c.case_no === S.case)) S.case = "";
    const sel = $("#case-select");
    sel.replaceChildren(el("option", { value: "", text: t("case.none") }),
      ...cases.map((c) => el("option", { value: c.case_no, text: c.case_no })));
    sel.value = S.case;
    $("#whoami").textContent = `${S.me.user} (${S.me.role})`;
    const can = (p) => S.me.permissions.includes(p);
    document.querySelectorAll("#nav a").forEach((a) => {
      const need = { map: "cameras", search: "search", relay: "relay", alerts: "alerts", cases: null, audit: "audit" }[a.dataset.page];
      a.classList.toggle("hidden", need !== null && !can(need));
    });
    $("#case-form").classList.toggle("hidden", !can("case_admin"));
  }
  function setCase(c) {
    S.case = c; sessionStorage.setItem("rt.case", c); $("#case-select").value = c;
  }

  // ---- map ----------------------------------------------------------------------------------------------
  const PALETTE = ["#d1495b", "#00798c", "#edae49", "#30638e", "#66a182", "#8d6a9f", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f"];
  const STATUS_COLOURS = { up: "#2a9d8f", recording: "#2a9d8f", recorded: "#457b9d", starting: "#a8dadc", ended: "#457b9d",
    idle: "#999999", stalled: "#e9a23b", down: "#e63946", failed: "#e63946" };
  function projector(cams, w, h, pad = 40) {
    const pts = cams.filter((c) => c.lat !== null && c.lon !== null);
    const lat0 = pts.reduce((s, c) => s + c.lat, 0) / Math.max(pts.length, 1);
    const k = Math.cos(lat0 * Math.PI / 180);
    const xs = pts.map((c) => c.lon * k), ys = pts.map((c) => c.lat);
    const minx = Math.min(...xs), maxx = Math.max(...xs), miny = Math.min(...ys), maxy = Math.max(...ys);
    const span = Math.max(maxx - minx, maxy - miny, 1e-4);
    const s = Math.min((w - 2 * pad) / span, (h - 2 * pad) / span);
    const ox = (w - (maxx - minx) * s) / 2, oy = (h - (maxy - miny) * s) / 2;
    const f = (lat, lon) => [ox + (lon * k - minx) * s, h - (oy + (lat - miny) * s)];
    f.metres = s / 111000; // pixels per metre (latitude degrees ~ 111 km)
    return f;
  }
  function drawNetwork(svgEl, opts) {
    const { cams, links, colourBy, cones, showLinks, route, onPick } = opts;
    const box = svgEl.viewBox.baseVal;
    svgEl.replaceChildren(svg("rect", { x: 0, y: 0, width: box.width, height: box.height, class: "mapbg" }));
    if (!cams.length) return {};
    const P = projector(cams, box.width, box.height);
    const byId = Object.fromEntries(cams.map((c) => [c.id, c]));
    const keys = [...new Set(cams.map((c) => c[colourBy] || "-"))];
    const colour = (c) => colourBy === "status" ? (STATUS_COLOURS[c.status] || "#999") : PALETTE[keys.indexOf(c[colourBy] || "-") % PALETTE.length];
    if (showLinks) {
      for (const l of links) {
        const a = byId[l.src], b = byId[l.dst];
        if (!a || !b || a.lat === null || b.lat === null) continue;
        const [x1, y1] = P(a.lat, a.lon), [x2, y2] = P(b.lat, b.lon);
        svgEl.append(svg("line", { x1, y1, x2, y2, class: "link" }));
      }
    }
    for (const c of cams) {
      if (c.lat === null || c.lon === null) continue;
      const [x, y] = P(c.lat, c.lon);
      if (cones && c.heading_deg !== null) {
        const r = Math.max(14, Math.min(60, 40 * P.metres * 40)), fov = (c.fov_deg || 60) * Math.PI / 180;
        const hd = c.heading_deg * Math.PI / 180;
        const a1 = hd - fov / 2, a2 = hd + fov / 2;
        const p1 = [x + r * Math.sin(a1), y - r * Math.cos(a1)], p2 = [x + r * Math.sin(a2), y - r * Math.cos(a2)];
        svgEl.append(svg("path", { d: `M${x},${y} L${p1[0]},${p1[1]} A${r},${r} 0 0 1 ${p2[0]},${p2[1]} Z`,
          fill: colour(c), class: "cone" }));
      }
      const g = svg("g", { class: "cam", "data-id": c.id, tabindex: 0 });
      g.append(svg("circle", { cx: x, cy: y, r: 7, fill: colour(c), class: "cam-dot status-" + c.status }));
      const label = svg("text", { x: x + 9, y: y - 9, class: "cam-label" });
      label.textContent = c.id;
      g.append(label);
      const title = svg("title");
      title.textContent = `${c.id} ${c.name || ""} · ${c.purpose || ""} · ${c.district || ""} · ${c.status}`;
      g.append(title);
      if (onPick) g.addEventListener("click", () => onPick(c));
      svgEl.append(g);
    }
    if (route) {
      const pts = route.hops.map((h) => byId[h.camera]).filter((c) => c && c.lat !== null).map((c) => P(c.lat, c.lon));
      const confirmedPts = route.hops.filter((h) => h.confirmed || h.direction === "origin").map((h) => byId[h.camera])
        .filter((c) => c && c.lat !== null).map((c) => P(c.lat, c.lon));
      if (pts.length > 1) svgEl.append(svg("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "route-proposed" }));
      if (confirmedPts.length > 1) svgEl.append(svg("polyline", { points: confirmedPts.map((p) => p.join(",")).join(" "), class: "route-confirmed" }));
      route.hops.forEach((h, i) => {
        const c = byId[h.camera];
        if (!c || c.lat === null) return;
        const [x, y] = P(c.lat, c.lon);
        const n = svg("text", { x: x - 4, y: y + 22, class: "hop-no" });
        n.textContent = String(i + 1);
        svgEl.append(n);
      });
    }
    return { keys, colour };
  }
  async function ensureCameras() {
    if (!S.cameras.length) {
      [S.cameras, S.links] = await Promise.all([api("GET", "/api/cameras", undefined, { noCase: true }),
        api("GET", "/api/links", undefined, { noCase: true })]);
    }
  }
  async function showMap() {
    await ensureCameras();
    const colourBy = $("#map-colour").value;
    const res = drawNetwork($("#camera-map"), { cams: S.cameras, links: S.links, colourBy, cones: $("#map-cones").checked,
      showLinks: $("#map-links").checked, onPick: pickCamera });
    const legend = $("#map-legend");
    legend.replaceChildren(...(res.keys || []).map((k) => {
      const sw = el("span", { class: "swatch" });
      sw.style.background = colourBy === "status" ? (STATUS_COLOURS[k] || "#999") : PALETTE[res.keys.indexOf(k) % PALETTE.length];
      return el("span", { class: "legend-item" }, sw, k);
    }));
    if (colourBy === "status") {
      legend.replaceChildren(...Object.entries(STATUS_COLOURS).map(([k, v]) => {
        const sw = el("span", { class: "swatch" }); sw.style.background = v; return el("span", { class: "legend-item" }, sw, k);
      }));
    }
  }
  async function pickCamera(c) {
    const d = $("#camera-detail");
    const info = await api("GET", "/api/cameras/" + encodeURIComponent(c.id), undefined, { noCase: true });
    const rows = [["ID", info.id], [t("map.purpose"), info.purpose], [t("map.district"), info.district],
      [t("map.status"), c.status], [t("map.sightings"), info.sightings], [t("map.sources"), info.sources.length],
      [t("map.lastseen"), fmtTime(c.last_seen)], [t("map.linksout"), info.links_out.map((l) => `${l.dst} (${l.mean_s}s)`).join(", ")]];
    d.replaceChildren(el("h3", { text: `${info.id} ${info.name || ""}` }),
      el("table", { class: "kv" }, ...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v ?? "" })))));
    if (info.sources.length) {
      d.append(el("h4", { text: t("map.recent") }));
      if (S.case) d.append(el("img", { id: "camera-video", class: "video", alt: info.id,
        src: media(`/api/video/camera/${encodeURIComponent(info.id)}.mjpeg?seconds=20`) }));
      else d.append(el("p", { class: "muted", text: t("search.needcase") }));
    }
  }

  // ---- search -------------------------------------------------------------------------------------------
  function hitCard(h) {
    return el("div", { class: "hit card", "data-sighting": h.sighting },
      el("img", { src: media(h.thumbnail), alt: "#" + h.sighting, loading: "lazy" }),
      el("div", { class: "hit-meta" },
        el("b", { text: `#${h.sighting} · ${h.camera}` }),
        el("div", { class: "muted", text: `${h.start.toFixed(1)}–${h.end.toFixed(1)} s · f${h.frames[0]}-${h.frames[1]}` }),
        el("div", { text: `${t("search.score")} ${h.score.toFixed(3)}` }),
        el("div", { class: "reasons", text: h.reasons.join(" · ") }),
        el("div", { class: "row" },
          el("button", { type: "button", class: "relay-btn", text: t("search.relay"), onclick: () => startRelay(h.sighting) }),
          el("button", { type: "button", class: "video-btn", text: t("search.video"), onclick: (ev) => {
            const card = ev.target.closest(".hit"); const img = card.querySelector("img");
            img.src = media(`/api/video/sighting/${h.sighting}.mjpeg`);
          } }))));
  }
  function isoOf(v) { return v ? v + ":00+09:00" : null; }
  async function search(ev) {
    ev.preventDefault();
    if (!S.case) { flash(t("search.needcase")); return; }
    const photo = $("#search-photo").files[0];
    const top = Number($("#search-top").value) || 20;
    let res;
    if (photo) {
      const fd = new FormData(); fd.append("file", photo); fd.append("top", String(top));
      res = await api("POST", "/api/search/photo", fd);
    } else {
      const body = { text: $("#search-text").value, top };
      if ($("#search-from").value) body.time_from = isoOf($("#search-from").value);
      if ($("#search-to").value) body.time_to = isoOf($("#search-to").value);
      res = await api("POST", "/api/search/text", body);
    }
    const parsed = $("#parsed");
    parsed.classList.toggle("hidden", !res.parsed);
    parsed.replaceChildren(el("b", { text: t("search.parsed") + ": " }), res.parsed || "",
      el("code", { text: JSON.stringify(res.query) }));
    $("#search-message").textContent = res.message || (res.hits.length ? "" : t("search.none"));
    $("#results").replaceChildren(...res.hits.map(hitCard));
  }

  // ---- relay --------------------------------------------------------------------------------------------
  async function startRelay(sid) {
    S.origin = sid; S.route = null;
    location.hash = "#relay";
    S.route = await api("POST", "/api/relay", { origin: sid, hops: 6 });
    $("#export-result").classList.add("hidden");
    renderRelay();
  }
  async function verdict(kind, sid) {
    S.route = await api("POST", `/api/relay/${S.origin}/${kind}`, { sightings: [sid], hops: 6 });
    renderRelay();
  }
  function playHop(h) {
    $("#relay-video").src = media(h.video);
    $("#relay-video-cap").textContent = `#${h.sighting} · ${h.camera} · ${fmtTime(h.wall_start)}`;
  }
  function renderTimeline(route) {
    const tl = $("#relay-timeline");
    tl.replaceChildren();
    if (!route || !route.hops.length) return;
    const t0 = Math.min(...route.hops.map((h) => h.true_start)), t1 = Math.max(...route.hops.map((h) => h.true_end));
    const span = Math.max(t1 - t0, 1), X = (v) => 20 + (v - t0) / span * 960;
    tl.append(svg("line", { x1: 20, y1: 60, x2: 980, y2: 60, class: "axis" }));
    route.hops.forEach((h, i) => {
      const state = h.direction === "origin" ? "origin" : h.confirmed ? "confirmed" : "proposed";
      tl.append(svg("rect", { x: X(h.true_start), y: 40, width: Math.max(4, X(h.true_end) - X(h.true_start)), height: 16,
        class: "tl-" + state }));
      const lab = svg("text", { x: X(h.true_start), y: 34, class: "tl-label" });
      lab.textContent = `${i + 1}. ${h.camera}`;
      tl.append(lab);
      const tm = svg("text", { x: X(h.true_start), y: 78, class: "tl-time" });
      tm.textContent = new Date(h.true_start * 1000).toLocaleTimeString("ko-KR", { timeZone: "Asia/Seoul", hour12: false });
      tl.append(tm);
    });
  }
  async function renderRelay() {
    await ensureCameras();
    const route = S.route;
    $("#relay-origin").textContent = route ? `${t("relay.origin")} #${route.origin} · ${route.case || ""}` : t("relay.empty");
    $("#export-btn").disabled = !route;
    drawNetwork($("#relay-map"), { cams: S.cameras, links: S.links, colourBy: "purpose", cones: false, showLinks: true, route });
    renderTimeline(route);
    const box = $("#relay-hops");
    if (!route) { box.replaceChildren(); return; }
    box.replaceChildren(...route.hops.map((h, i) => {
      const state = h.direction === "origin" ? "origin" : h.confirmed ? "confirmed" : "proposed";
      const label = state === "origin" ? t("relay.origin") : state === "confirmed" ? t("relay.confirmed") : t("relay.proposed");
      const card = el("div", { class: `hop card hop-${state}`, "data-sighting": h.sighting, "data-state": state },
        el("div", { class: "hop-head" }, el("b", { text: `${i + 1}. ${h.camera} #${h.sighting}` }), el("span", { class: "badge", text: label })),
        el("img", { src: media(h.thumbnail), alt: "#" + h.sighting, onclick: () => playHop(h) }),
        el("div", { class: "muted", text: `${fmtTime(h.wall_start)} · ${t("relay.conf")} ${h.confidence.toFixed(2)}` }),
        el("div", { class: "reasons", text: (h.reasons || []).join(" · ") }));
      if (state === "proposed") {
        card.append(el("div", { class: "row" },
          el("button", { type: "button", class: "confirm-btn", text: t("relay.confirm"), onclick: () => verdict("confirm", h.sighting) }),
          el("button", { type: "button", class: "reject-btn", text: t("relay.reject"), onclick: () => verdict("reject", h.sighting) })));
      }
      if (h.alternatives && h.alternatives.length) {
        card.append(el("div", { class: "alts" }, el("small", { text: t("relay.alts") }),
          ...h.alternatives.filter((a) => a.sighting).map((a) => el("figure", { class: "alt" },
            el("img", { src: media(a.thumbnail), alt: "#" + a.sighting }),
            el("figcaption", { text: `#${a.sighting} ${a.camera || ""} ${(a.confidence ?? 0).toFixed ? (a.confidence ?? 0).toFixed(2) : ""}` }),
            el("button", { type: "button", class: "confirm-alt-btn", text: t("relay.confirm"), onclick: () => verdict("confirm", a.sighting) })))));
      }
      return card;
    }));
    box.append(el("p", { class: "muted", text: `${t("relay.stopped")}: ${JSON.stringify(route.stopped)}` }));
  }
  async function exportRoute() {
    $("#export-btn").disabled = true;
    try {
      const r = await api("POST", "/api/exports", { origin: S.route.origin });
      const box = $("#export-result");
      box.classList.remove("hidden");
      box.replaceChildren(el("h3", { text: t("relay.exported") }),
        el("div", { id: "export-package", text: r.package }),
        el("div", { text: "SHA-256 manifest: " + r.manifest_sha256 }),
        el("div", { text: `audit #${r.audit_seq} · export ${r.export_id}` }),
        el("ul", {}, ...r.files.filter((f) => f.endsWith(".mp4") || f.endsWith(".json")).map((f) => el("li", { text: f }))));
    } finally { $("#export-btn").disabled = false; }
  }

  // ---- alerts -------------------------------------------------------------------------------------------
  function alertCard(a) {
    return el("div", { class: "alert card", "data-alert": a.id, onclick: () => showAlert(a) },
      el("b", { text: `#${a.id} · ${a.camera}${a.kind && a.kind !== "courier" ? " · " + a.kind : ""} · ${a.status || ""}` }),
      el("div", { class: "muted", text: `${fmtTime(a.wall)} · ${a.start ?? ""}–${a.end ?? ""} s` }),
      el("div", { text: `${t("alerts.score")} ${a.score !== null && a.score !== undefined ? Number(a.score).toFixed(2) : "-"}` }),
      el("div", { class: "reasons", text: (a.reasons || []).join(" · ") }));
  }
  async function alertVerdict(a, verdict) {
    const updated = await api("POST", `/api/alerts/${a.id}/verdict`, { verdict }, { noCase: true });
    const card = document.querySelector(`#alert-wall [data-alert="${a.id}"]`);
    if (card) card.replaceWith(alertCard(updated));
    showAlert(updated);
  }
  function showAlert(a) {
    $("#alert-video").src = media(a.video);
    $("#alert-detail").replaceChildren(el("h4", { text: t("alerts.reasons") }),
      el("p", { text: a.explanation || "" }),
      el("div", { class: "row" }, el("span", { class: "badge", id: "alert-status", text: a.status }),
        el("button", { type: "button", class: "ack-btn", text: t("alerts.ack"), onclick: () => alertVerdict(a, "ack") }),
        el("button", { type: "button", class: "reject-btn false-btn", text: t("alerts.false"), onclick: () => alertVerdict(a, "false_alarm") })),
      el("ul", {}, ...(a.reasons || []).map((r) => el("li", { text: r }))),
      ...(a.thumbnails || []).map((u) => el("img", { src: media(u), class: "thumb", alt: "" })));
  }
  async function showAlerts() {
    const wall = $("#alert-wall");
    const list = await api("GET", "/api/alerts?limit=60", undefined, { noCase: true });
    wall.replaceChildren(...(list.length ? list.map(alertCard) : [el("p", { class: "muted", text: t("alerts.none") })]));
    if (S.es) S.es.close();
    const last = list.length ? list[0].id : 0;
    S.es = new EventSource(media(`/api/alerts/stream?after=${last}`));
    S.es.addEventListener("hello", () => { $("#alert-live").textContent = t("alerts.live"); $("#alert-live").className = "badge ok"; });
    S.es.addEventListener("alert", (ev) => {
      const a = JSON.parse(ev.data);
      if (wall.querySelector(`[data-alert="${a.id}"]`)) return;
      wall.querySelector("p.muted")?.remove();
      const card = alertCard(a); card.classList.add("new");
      wall.prepend(card);
    });
    S.es.onerror = () => { $("#alert-live").textContent = t("alerts.off"); $("#alert-live").className = "badge bad"; };
  }

  // ---- cases, requests, exports -------------------------------------------------------------------------
  async function showCases() {
    await loadMe();
    const tbl = $("#case-list");
    tbl.replaceChildren(el("tr", {}, ...["cases.no", "cases.basis", "cases.purpose", "cases.status", "cases.members", ""].map((k) => el("th", { text: k ? t(k) : "" }))),
      ...S.me.cases.map((c) => el("tr", { "data-case": c.case_no },
        el("td", { text: c.case_no }), el("td", { text: c.legal_basis }), el("td", { text: c.purpose }),
        el("td", { text: c.status + (c.legal_hold ? " · hold" : "") }), el("td", { text: c.members.join(", ") }),
        el("td", {}, c.status === "open" ? el("button", { type: "button", class: "open-case", text: c.case_no === S.case ? t("cases.acting") : t("cases.open"),
          onclick: () => { setCase(c.case_no); showCases(); } }) : ""))));
    if (S.me.permissions.includes("request")) {
      const reqs = await api("GET", "/api/requests", undefined, { noCase: true });
      const canApprove = S.me.permissions.includes("approve");
      $("#request-list").replaceChildren(el("tr", {}, ...["#", "agency", "case", "cameras", "status", ""].map((k) => el("th", { text: k }))),
        ...reqs.map((r) => el("tr", { "data-request": r.id }, el("td", { text: r.id }), el("td", { text: r.agency }),
          el("td", { text: r.case_no }), el("td", { text: r.cameras.join(", ") }), el("td", { text: r.status + (r.reason ? ` (${r.reason})` : "") }),
          el("td", {}, canApprove && r.status === "requested" ? el("span", {},
            el("button", { type: "button", class: "approve-btn", text: t("req.approve"), onclick: async () => { await api("POST", `/api/requests/${r.id}/approve`, {}); showCases(); } }),
            el("button", { type: "button", class: "refuse-btn", text: t("req.refuse"), onclick: async () => {
              const reason = prompt(t("req.reason")); if (reason) { await api("POST", `/api/requests/${r.id}/refuse`, { reason }); showCases(); } } })) : ""))));
    }
    const ex = $("#exports");
    ex.replaceChildren();
    if (S.case && S.me.permissions.includes("export")) {
      const list = await api("GET", "/api/exports");
      ex.append(el("h3", { text: `${t("exports.title")} · ${S.case}` }), el("ul", { id: "export-list" }, ...list.map((e) => el("li", {},
        `#${e.id} ${fmtTime(e.created_at)} ${e.user} `, el("code", { text: e.manifest_sha256.slice(0, 16) + "…" }), " ",
        el("button", { type: "button", text: t("exports.verify"), onclick: async (ev) => {
          const v = await api("GET", `/api/exports/${e.id}/verify`); ev.target.textContent = v.ok ? "✔ OK" : "✘ " + (v.problems || []).join("; "); } })))));
    }
  }
  async function createCase(ev) {
    ev.preventDefault();
    await api("POST", "/api/cases", { case_no: $("#case-no").value, legal_basis: $("#case-basis").value,
      purpose: $("#case-purpose").value, members: $("#case-members").value.split(",").map((s) => s.trim()).filter(Boolean) }, { noCase: true });
    showCases();
  }
  async function fileRequest(ev) {
    ev.preventDefault();
    await api("POST", "/api/requests", { agency: $("#req-agency").value, purpose: $("#req-purpose").value,
      cameras: $("#req-cameras").value.split(",").map((s) => s.trim()).filter(Boolean),
      start: isoOf($("#req-start").value) || "", end: isoOf($("#req-end").value) || "", drug_related: $("#req-drug").checked });
    showCases();
  }

  // ---- audit --------------------------------------------------------------------------------------------
  async function showAudit() {
    const c = $("#audit-case").value.trim();
    const [rows, v] = await Promise.all([
      api("GET", "/api/audit?limit=200" + (c ? "&of_case=" + encodeURIComponent(c) : ""), undefined, { noCase: true }),
      api("GET", "/api/audit/verify", undefined, { noCase: true })]);
    const badge = $("#audit-verify");
    badge.textContent = v.ok ? `✔ ${t("audit.ok")} (${v.entries})` : `✘ ${t("audit.bad")}: ${v.problem}`;
    badge.className = "badge " + (v.ok ? "ok" : "bad");
    $("#audit-table").replaceChildren(el("tr", {}, ...["audit.seq", "audit.time", "audit.user", "case.acting", "audit.action", "audit.outcome", "audit.detail"].map((k) => el("th", { text: t(k) }))),
      ...rows.map((r) => el("tr", { class: "outcome-" + r.outcome, "data-action": r.action, "data-case": r.case || "" },
        el("td", { text: r.seq }), el("td", { text: fmtTime(r.ts) }), el("td", { text: r.user || "" }), el("td", { text: r.case || "" }),
        el("td", { text: r.action }), el("td", { text: r.outcome }),
        el("td", { class: "detail", text: JSON.stringify(r.detail).slice(0, 200) + (r.result_ids.length ? ` → ${r.result_ids.length} ids` : "") }))));
  }

  // ---- routing ------------------------------------------------------------------------------------------
  const PAGES = { login: null, map: showMap, search: null, relay: renderRelay, alerts: showAlerts, cases: showCases, audit: showAudit };
  async function route() {
    let page = (location.hash || "#").slice(1) || "cases";
    if (!S.token) page = "login";
    if (!(page in PAGES)) page = "cases";
    $("#topbar").classList.toggle("hidden", page === "login");
    document.querySelectorAll(".page").forEach((p) => p.classList.toggle("hidden", p.id !== "page-" + page));
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
    if (page !== "alerts" && S.es) { S.es.close(); S.es = null; }
    if (page === "login") return;
    try {
      if (!S.me) await loadMe();
      if (PAGES[page]) await PAGES[page]();
    } catch (e) { if (e.message !== "unauthorised") console.warn(e); }
    document.body.dataset.page = page;
  }

  document.addEventListener("DOMContentLoaded", () => {
    applyLang();
    $("#login-form").addEventListener("submit", login);
    $("#logout").addEventListener("click", () => logout(true));
    $("#lang-toggle").addEventListener("click", toggleLang);
    $("#lang-toggle-login").addEventListener("click", toggleLang);
    $("#case-select").addEventListener("change", (e) => { setCase(e.target.value); route(); });
    $("#search-form").addEventListener("submit", (e) => search(e).catch(() => {}));
    $("#export-btn").addEventListener("click", () => exportRoute().catch(() => {}));
    $("#case-form").addEventListener("submit", (e) => createCase(e).catch(() => {}));
    $("#request-form").addEventListener("submit", (e) => fileRequest(e).catch(() => {}));
    $("#audit-refresh").addEventListener("click", () => showAudit().catch(() => {}));
    ["#map-colour", "#map-cones", "#map-links"].forEach((s) => $(s).addEventListener("change", () => showMap()));
    window.addEventListener("hashchange", route);
    route();
  });
})();
