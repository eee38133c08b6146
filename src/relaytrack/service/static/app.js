// relaytrack console: plain JS, no build step, no external assets. Talks to /api with a bearer token kept in
// sessionStorage; media URLs (<img> MJPEG/thumbnails, EventSource) carry a short-lived media grant (mg=, from
// POST /api/auth/media-grant), never the token. Every request says
// the console's language (Accept-Language; `lang=` where a URL cannot send headers), so reasons, sentences and
// errors come back in it. The core (state, API, map, alerts, cases, audit, routing) is here; search, relay and
// route comparison are in search.js, which uses window.RT.
"use strict";
(function () {
  const S = {
    token: sessionStorage.getItem("rt.token"), me: null, case: sessionStorage.getItem("rt.case") || "",
    // the person's choice, else the server's (`serve --lang`, RELAYTRACK_LANG: the page's lang attribute)
    lang: localStorage.getItem("rt.lang") || document.documentElement.lang || "ko",
    cameras: [], links: [], route: null, origin: null, es: null,
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
  // A closed set's value (a role, a status) by its label key, else the value itself (data, e.g. a name).
  const lbl = (group, value) => {
    const k = group + "." + value;
    return (window.I18N[S.lang] && window.I18N[S.lang][k]) || value || "";
  };
  const fill = (key, vars) => t(key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
  const fmtTime = (epoch) => epoch ? new Date(epoch * 1000).toLocaleString(S.lang === "ko" ? "ko-KR" : "en-GB",
    { timeZone: "Asia/Seoul", hour12: false }) : "";
  const fmtIso = (iso) => iso ? fmtTime(Date.parse(iso) / 1000) : "";
  const secs = (a, b) => fill("time.clip", { a: Number(a).toFixed(1), b: Number(b).toFixed(1) });

  function applyLang() {
    document.documentElement.lang = S.lang;
    document.querySelectorAll("[data-i18n]").forEach((e) => { e.textContent = t(e.dataset.i18n); });
    document.querySelectorAll("[data-i18n-ph]").forEach((e) => { e.placeholder = t(e.dataset.i18nPh); });
    document.querySelectorAll("[data-i18n-title]").forEach((e) => { e.title = t(e.dataset.i18nTitle); });
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
    const headers = { "Accept-Language": S.lang };
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
      // The server words errors in the console's language; a validation error names the field (`message`).
      const msg = typeof data === "object" ? (data.message || (Array.isArray(data.detail)
        ? data.detail.map((d) => d.msg).join("; ") : data.detail)) : t("err.server");
      if (!opts.quiet) flash(String(msg));
      const err = new Error(String(msg)); err.status = r.status; throw err;
    }
    return data;
  }
  // A token never goes into a URL (logs, history, Referer): media URLs carry a grant that opens media only, for
  // minutes, while this session's token is valid. It is renewed well before it expires.
  const media = (url) => url + (url.includes("?") ? "&" : "?") + "mg=" + encodeURIComponent(S.grant || "") +
    (S.case ? "&case=" + encodeURIComponent(S.case) : "");
  async function refreshGrant() {
    try {
      S.grant = (await api("POST", "/api/auth/media-grant", undefined, { quiet: true, noCase: true })).grant;
    } catch (e) { S.grant = ""; }
  }
  setInterval(() => { if (S.token) refreshGrant(); }, 5 * 60 * 1000);
  const withLang = (url) => url + (url.includes("?") ? "&" : "?") + "lang=" + S.lang;

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
      // Each role lands where its day starts (the server says where): an operator on the alert wall, an
      // investigator on search, an auditor on the audit log.
      location.hash = "#" + (S.me.landing || "cases");
      route();
    } catch (e) { $("#login-error").textContent = e.message; }
  }
  async function logout(callApi = true) {
    if (callApi && S.token) { try { await api("POST", "/api/auth/logout", undefined, { quiet: true }); } catch (e) { /* gone */ } }
    S.token = null; S.me = null; S.case = "";
    sessionStorage.removeItem("rt.token"); sessionStorage.removeItem("rt.case");
    if (S.es) { S.es.close(); S.es = null; }
    if (S.pes) { S.pes.close(); S.pes = null; }
    location.hash = "#login";
    route();
  }
  async function loadMe() {
    S.me = await api("GET", "/api/me", undefined, { noCase: true });
    await refreshGrant();
    const cases = S.me.cases.filter((c) => c.status === "open");
    if (S.case && !cases.some((c) => c.case_no === S.case)) S.case = "";
    if (!S.case && S.me.default_case) setCase(S.me.default_case); // the only case is the one they work on
    const sel = $("#case-select");
    sel.replaceChildren(el("option", { value: "", text: t("case.none") }),
      ...cases.map((c) => el("option", { value: c.case_no, text: c.case_no })));
    sel.value = S.case;
    $("#whoami").textContent = `${S.me.user} (${lbl("role", S.me.role)})`;
    const can = (p) => S.me.permissions.includes(p);
    // What a role cannot use is not shown: its pages (the server's list), the case picker for a role that
    // never acts for a case, forms of actions it may not take.
    const pages = S.me.pages || Object.keys(PAGES);
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("hidden", !pages.includes(a.dataset.page)));
    $(".casepick").classList.toggle("hidden", !["search", "relay", "view", "export", "request"].some(can));
    $("#case-form").classList.toggle("hidden", !can("case_admin"));
    ["#req-title", "#request-list", "#request-form"].forEach((s) => $(s).classList.toggle("hidden", !can("request")));
  }
  function setCase(c) {
    S.case = c; sessionStorage.setItem("rt.case", c); $("#case-select").value = c;
  }

  // ---- map ----------------------------------------------------------------------------------------------
  // Drawing the maps (base layer, cameras, routes, labels): static/map.js, as RT.drawNetwork.
  async function ensureCameras() {
    if (!S.cameras.length) {
      [S.cameras, S.links] = await Promise.all([api("GET", "/api/cameras", undefined, { noCase: true }),
        api("GET", "/api/links", undefined, { noCase: true })]);
    }
  }
  async function showMap() {
    await ensureCameras();
    const colourBy = $("#map-colour").value;
    const res = window.RT.drawNetwork($("#camera-map"), { cams: S.cameras, links: S.links, colourBy, cones: $("#map-cones").checked,
      showLinks: $("#map-links").checked, onPick: pickCamera });
    const legend = $("#map-legend");
    legend.replaceChildren(...(res.keys || []).map((k) => {
      const sw = el("span", { class: "swatch" });
      sw.style.background = res.keyColour(k);
      return el("span", { class: "legend-item" }, sw, colourBy === "status" ? lbl("status", k) : k);
    }));
    if (colourBy === "status") {
      legend.replaceChildren(...Object.entries(window.RT.STATUS_COLOURS).map(([k, v]) => {
        const sw = el("span", { class: "swatch" }); sw.style.background = v; return el("span", { class: "legend-item" }, sw, lbl("status", k));
      }));
    }
  }
  async function pickCamera(c) {
    const d = $("#camera-detail");
    const info = await api("GET", "/api/cameras/" + encodeURIComponent(c.id), undefined, { noCase: true });
    const rows = [["ID", info.id], [t("map.purpose"), info.purpose], [t("map.district"), info.district],
      [t("map.status"), lbl("status", c.status)], [t("map.sightings"), info.sightings], [t("map.sources"), info.sources.length],
      [t("map.lastseen"), fmtTime(c.last_seen)],
      [t("map.linksout"), info.links_out.map((l) => `${l.dst} (${fill("time.secs", { s: Math.round(l.mean_s) })})`).join(", ")]];
    d.replaceChildren(el("h3", { text: `${info.id} ${info.name || ""}` }),
      el("table", { class: "kv" }, ...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v ?? "" })))));
    if (info.sources.length) {
      d.append(el("h4", { text: t("map.recent") }));
      if (S.case) d.append(el("img", { id: "camera-video", class: "video", alt: info.id,
        src: media(`/api/video/camera/${encodeURIComponent(info.id)}.mjpeg?seconds=20`) }));
      else d.append(el("p", { class: "muted", text: t("search.needcase") }));
    }
  }

  // ---- alerts -------------------------------------------------------------------------------------------
  const txt = (a, key) => a[key + "_text"] ?? a[key]; // the server's words for the person, else the raw value
  function alertCard(a) {
    return el("div", { class: "alert card", "data-alert": a.id, "data-status": a.status, onclick: () => showAlert(a) },
      el("b", { text: `#${a.id} · ${a.camera}${a.kind && a.kind !== "courier" ? " · " + txt(a, "kind") : ""} · ${txt(a, "status") || ""}` }),
      el("div", { class: "muted", text: `${fmtTime(a.wall)} · ${secs(a.start ?? 0, a.end ?? 0)}` }),
      el("div", { text: `${t("alerts.score")} ${a.score !== null && a.score !== undefined ? Number(a.score).toFixed(2) : "-"}` }),
      el("div", { class: "reasons", text: (txt(a, "reasons") || []).join(" · ") }));
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
      el("p", { text: txt(a, "explanation") || "" }),
      el("div", { class: "row" }, el("span", { class: "badge", id: "alert-status", "data-status": a.status, text: txt(a, "status") }),
        el("button", { type: "button", class: "ack-btn", text: t("alerts.ack"), onclick: () => alertVerdict(a, "ack") }),
        el("button", { type: "button", class: "reject-btn false-btn", text: t("alerts.false"), onclick: () => alertVerdict(a, "false_alarm") })),
      el("ul", {}, ...(txt(a, "reasons") || []).map((r) => el("li", { text: r }))),
      el("div", { id: "alert-keyframes", class: "keyframes" }),
      ...(a.thumbnails || []).map((u) => el("img", { src: media(u), class: "thumb", alt: "" })));
    // The moments the watch kept (the crouch, the reach, the decision frame), beside the clip.
    api("GET", `/api/alerts/${a.id}/keyframes`, undefined, { noCase: true, quiet: true }).then((frames) => {
      const box = document.querySelector("#alert-keyframes");
      if (box && frames.length) box.replaceChildren(el("h4", { text: t("alerts.keyframes") }),
        ...frames.map((f) => el("figure", { class: "keyframe", "data-moment": f.moment },
          el("img", { src: f.image, alt: f.label }), el("figcaption", { text: f.label }))));
    }).catch(() => {});
  }
  async function showAlerts() {
    const wall = $("#alert-wall");
    const list = await api("GET", "/api/alerts?limit=60", undefined, { noCase: true });
    wall.replaceChildren(...(list.length ? list.map(alertCard) : [el("p", { class: "muted", text: t("alerts.none") })]));
    if (S.es) S.es.close();
    const last = list.length ? list[0].id : 0;
    S.es = new EventSource(withLang(media(`/api/alerts/stream?after=${last}`)));
    S.es.addEventListener("hello", () => { $("#alert-live").textContent = t("alerts.live"); $("#alert-live").className = "badge ok"; });
    S.es.addEventListener("alert", (ev) => {
      const a = JSON.parse(ev.data);
      if (wall.querySelector(`[data-alert="${a.id}"]`)) return;
      wall.querySelector("p.muted")?.remove();
      const card = alertCard(a); card.classList.add("new");
      wall.prepend(card);
    });
    S.es.onerror = () => {
      $("#alert-live").textContent = t("alerts.off"); $("#alert-live").className = "badge bad";
      // Refused for good (e.g. its grant expired while the network was down): reopen with a fresh grant.
      const es = S.es;
      if (es && es.readyState === EventSource.CLOSED) {
        setTimeout(async () => { if (S.es === es && location.hash === "#alerts") { await refreshGrant(); showAlerts(); } }, 3000);
      }
    };
  }

  // ---- cases, requests, exports -------------------------------------------------------------------------
  async function showCases() {
    await loadMe();
    const tbl = $("#case-list");
    tbl.replaceChildren(el("tr", {}, ...["cases.no", "cases.basis", "cases.purpose", "cases.status", "cases.members", ""].map((k) => el("th", { text: k ? t(k) : "" }))),
      ...S.me.cases.map((c) => el("tr", { "data-case": c.case_no },
        el("td", { text: c.case_no }), el("td", { text: c.legal_basis }), el("td", { text: c.purpose }),
        el("td", { text: lbl("status", c.status) + (c.legal_hold ? " · " + t("cases.hold") : "") }), el("td", { text: c.members.join(", ") }),
        el("td", {}, c.status === "open" ? el("button", { type: "button", class: "open-case", text: c.case_no === S.case ? t("cases.acting") : t("cases.open"),
          onclick: () => { setCase(c.case_no); showCases(); } }) : ""))));
    if (S.me.permissions.includes("request")) {
      const reqs = await api("GET", "/api/requests", undefined, { noCase: true });
      const canApprove = S.me.permissions.includes("approve");
      $("#request-list").replaceChildren(el("tr", {}, ...["#", t("req.agency"), t("case.acting"), t("req.cameras.col"), t("cases.status"), t("req.period"), ""]
        .map((k) => el("th", { text: k }))),
        ...reqs.map((r) => el("tr", { "data-request": r.id, "data-status": r.status }, el("td", { text: r.id }), el("td", { text: r.agency }),
          el("td", { text: r.case_no }), el("td", { text: r.cameras.join(", ") }),
          el("td", { text: lbl("status", r.status) + (r.reason ? ` (${r.reason})` : "") }),
          el("td", { text: `${fmtTime(r.t_start)} – ${fmtTime(r.t_end)}` }),
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
          const v = await api("GET", `/api/exports/${e.id}/verify`);
          ev.target.textContent = v.ok ? "✔ " + t("exports.ok") : "✘ " + t("exports.bad") + " (" + (v.problems || []).length + ")"; } }),
        " ", el("button", { type: "button", class: "link download-btn", text: t("exports.download"),
          onclick: () => window.RT.download(e.id).catch(() => {}) })))));
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

  // ---- case folder --------------------------------------------------------------------------------------
  // What was done in the acting case, oldest first (GET /api/cases/{no}/folder): searches, routes, verdicts,
  // notes, and exports with their download. Each look is audited, so the page does not poll.
  function folderLine(it) {
    let what = "", extra = null;
    if (it.kind === "search") {
      what = it.search_kind === "text" ? fill("folder.search_text", { q: it.query, n: it.hits })
        : it.search_kind === "sighting" ? fill("folder.search_sighting", { s: it.sighting, n: it.hits })
          : fill("folder.search_photo", { n: it.hits });
    } else if (it.kind === "route") {
      what = fill("folder.route", { o: it.origin, n: it.hops });
      extra = el("button", { type: "button", class: "link open-route", text: t("folder.route.open"), onclick: () => openRoute(it.origin).catch(() => {}) });
    } else if (it.kind === "verdict") {
      what = fill(it.verdict === "confirm" ? "folder.confirm" : "folder.reject", { ids: (it.sightings || []).map((i) => "#" + i).join(", ") });
    } else if (it.kind === "note") {
      what = t("folder.note") + ":"; extra = el("span", { class: "note-text", text: it.text });
    } else if (it.status === "done") {
      what = fill("folder.export_done", { id: it.export_id });
      extra = el("button", { type: "button", class: "link download-btn", text: t("exports.download"),
        onclick: () => window.RT.download(it.export_id).catch(() => {}) });
    } else if (it.status === "running") {
      what = fill("folder.export_running", { p: Math.round(it.percent || 0) });
      extra = el("progress", { max: 100, value: it.percent || 0 });
    } else {
      what = t("folder.export_failed"); extra = el("span", { class: "error", text: it.error || "" });
    }
    return el("li", { "data-kind": it.kind }, el("span", { class: "when", text: fmtTime(it.at) }),
      el("b", { text: it.user || "" }), el("span", { text: what }), extra);
  }
  async function showFolder() {
    const list = $("#folder-items");
    $("#note-form").classList.toggle("hidden", !S.case);
    $("#folder-case").textContent = ""; $("#folder-counts").textContent = "";
    if (!S.case) { list.replaceChildren(el("li", { class: "muted", text: t("search.needcase") })); return; }
    const f = await api("GET", `/api/cases/${encodeURIComponent(S.case)}/folder`);
    const c = f.counts;
    $("#folder-case").textContent = fill("folder.of", { c: f.case.case_no });
    $("#folder-counts").textContent = fill("folder.counts", { s: c.search, r: c.route, v: c.verdict, n: c.note, e: c.export });
    list.replaceChildren(...(f.items.length ? f.items.map(folderLine) : [el("li", { class: "muted", text: t("folder.empty") })]));
  }
  async function openRoute(origin) {
    S.origin = origin; S.compare = null;
    S.route = await api("GET", `/api/relay/${origin}`);
    location.hash = "#relay";
  }
  async function addNote(ev) {
    ev.preventDefault();
    const text = $("#note-text").value.trim();
    if (!text || !S.case) return;
    await api("POST", `/api/cases/${encodeURIComponent(S.case)}/notes`, { text });
    $("#note-text").value = "";
    flash(t("folder.saved"), "ok");
    await showFolder();
  }

  // ---- audit --------------------------------------------------------------------------------------------
  async function showAudit() {
    const c = $("#audit-case").value.trim();
    const [rows, v] = await Promise.all([
      api("GET", "/api/audit?limit=200" + (c ? "&of_case=" + encodeURIComponent(c) : ""), undefined, { noCase: true }),
      api("GET", "/api/audit/verify", undefined, { noCase: true })]);
    const badge = $("#audit-verify");
    badge.textContent = v.ok ? `✔ ${t("audit.ok")} (${v.entries})` : `✘ ${t("audit.bad")}: #${v.bad_seq ?? "?"}`;
    badge.className = "badge " + (v.ok ? "ok" : "bad");
    // "누가 어떤 사건으로 무엇을 봤는지": the server's sentence; the raw entry stays in the tooltip for an expert.
    $("#audit-table").replaceChildren(el("tr", {}, ...["audit.seq", "audit.time", "audit.user", "case.acting", "audit.action", "audit.outcome", "audit.detail"].map((k) => el("th", { text: t(k) }))),
      ...rows.map((r) => el("tr", { class: "outcome-" + r.outcome, "data-action": r.action, "data-case": r.case || "" },
        el("td", { text: r.seq }), el("td", { text: fmtTime(r.ts) }), el("td", { text: r.user || "" }), el("td", { text: r.case || "" }),
        el("td", { text: r.action_text || r.action }), el("td", { text: r.outcome_text || r.outcome }),
        el("td", { class: "summary", title: JSON.stringify(r.detail).slice(0, 500), text: r.summary_text || "" }))));
  }

  // ---- routing ------------------------------------------------------------------------------------------
  const PAGES = { login: null, map: showMap, search: null, relay: null, pursuit: null, alerts: showAlerts, cases: showCases, folder: showFolder, audit: showAudit };
  async function route() {
    let page = (location.hash || "#").slice(1);
    if (S.token && !S.me) {
      try { await loadMe(); } catch (e) { if (e.message !== "unauthorised") console.warn(e); }
    }
    if (!S.token) page = "login";
    else if (S.me && (!(page in PAGES) || page === "login" || !(S.me.pages || [page]).includes(page))) {
      // No page, an unknown one or one the role does not use: the role's own landing page.
      page = S.me.landing || "cases";
      history.replaceState(null, "", "#" + page);
    } else if (!(page in PAGES) || page === "login") page = "cases";
    $("#topbar").classList.toggle("hidden", page === "login");
    document.querySelectorAll(".page").forEach((p) => p.classList.toggle("hidden", p.id !== "page-" + page));
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
    if (page !== "alerts" && S.es) { S.es.close(); S.es = null; }
    if (page !== "pursuit" && S.pes) { S.pes.close(); S.pes = null; } // the pursuit's stream (pursuit.js)
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
    $("#case-form").addEventListener("submit", (e) => createCase(e).catch(() => {}));
    $("#request-form").addEventListener("submit", (e) => fileRequest(e).catch(() => {}));
    $("#audit-refresh").addEventListener("click", () => showAudit().catch(() => {}));
    $("#note-form").addEventListener("submit", (e) => addNote(e).catch(() => {}));
    ["#map-colour", "#map-cones", "#map-links"].forEach((s) => $(s).addEventListener("change", () => showMap()));
    window.addEventListener("hashchange", route);
    route();
  });

  // What search.js builds on (it adds the search and relay pages to PAGES).
  window.RT = { S, $, el, svg, t, lbl, fill, api, media, withLang, refreshGrant, flash, fmtTime, fmtIso, secs, ensureCameras, PAGES, route }; // map.js adds drawNetwork
})();
