// relaytrack console, search to route: description/photo search, "find similar" on every card, relaying from
// one hit or comparing the routes of the best few side by side, the relay workspace (confirm/reject, what a
// verdict changed, a dead end in plain words with the next candidates) and the evidence export.
// Builds on window.RT (app.js); every sentence a person reads comes from the server in the console's language.
"use strict";
(function () {
  const { S, $, el, t, fill, api, media, flash, fmtTime, fmtIso, secs, ensureCameras, drawNetwork, PAGES } = window.RT;
  const HOPS = 6;
  // The Seoul wall-clock time of day of an ISO time (the date is the route's, shown elsewhere).
  const clock = (iso) => iso ? new Date(Date.parse(iso)).toLocaleTimeString(S.lang === "ko" ? "ko-KR" : "en-GB",
    { timeZone: "Asia/Seoul", hour12: false }) : "";
  S.hits = []; S.compare = null;

  // ---- search -------------------------------------------------------------------------------------------
  function hitCard(h) {
    return el("div", { class: "hit card", "data-sighting": h.sighting },
      el("img", { src: media(h.thumbnail), alt: "#" + h.sighting, loading: "lazy" }),
      el("div", { class: "hit-meta" },
        el("b", { text: `#${h.sighting} · ${h.camera}` }),
        el("div", { text: h.start_time ? fmtIso(h.start_time) : "" }),
        el("div", { class: "muted small", text: secs(h.start, h.end) }),
        el("div", { text: `${t("search.score")} ${h.score.toFixed(3)}` }),
        el("div", { class: "reasons", text: (h.reasons_text || h.reasons).join(" · ") }),
        el("div", { class: "row" },
          el("button", { type: "button", class: "relay-btn", text: t("search.relay"), onclick: () => startRelay(h.sighting) }),
          el("button", { type: "button", class: "similar-btn", text: t("search.similar"), onclick: () => findSimilar(h.sighting).catch(() => {}) }),
          // A live pursuit from this hit (pursuit.js): the relay's action, as the pursuit page is.
          S.me?.permissions.includes("relay") && window.RT.startPursuit ? el("button", { type: "button", class: "pursue-btn",
            text: t("search.pursue"), onclick: () => window.RT.startPursuit(h.sighting).catch(() => {}) }) : null,
          el("button", { type: "button", class: "video-btn link", text: t("search.video"), onclick: (ev) => {
            const card = ev.target.closest(".hit"); const img = card.querySelector("img");
            img.src = media(`/api/video/sighting/${h.sighting}.mjpeg`);
          } }))));
  }
  function isoOf(v) { return v ? v + ":00+09:00" : null; }
  function showHits(res, heading) {
    const parsed = $("#parsed");
    // The parsed description as a sentence in the console's language (never the raw query JSON).
    parsed.classList.toggle("hidden", !res.parsed && !heading);
    parsed.replaceChildren(el("b", { text: (heading || t("search.parsed")) + (res.parsed ? ": " : "") }), res.parsed || "");
    $("#search-message").textContent = res.message_text || res.message || (res.hits.length ? "" : t("search.none"));
    S.hits = res.hits;
    $("#search-actions").classList.toggle("hidden", res.hits.length < 2);
    $("#results").replaceChildren(...res.hits.map(hitCard));
  }
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
    showHits(res);
  }
  // "비슷한 사람 찾기": the people who look most like this sighting (search by sighting).
  async function findSimilar(sid) {
    if (!S.case) { flash(t("search.needcase")); return; }
    const top = Number($("#search-top").value) || 20;
    location.hash = "#search";
    const res = await api("POST", "/api/search/sighting", { sighting: sid, top });
    showHits(res, fill("search.similarTo", { id: sid }));
  }

  // ---- relay --------------------------------------------------------------------------------------------
  async function startRelay(sid) {
    S.origin = sid; S.route = null; S.compare = null;
    location.hash = "#relay";
    S.route = await api("POST", "/api/relay", { origin: sid, hops: HOPS });
    $("#export-result").classList.add("hidden");
    $("#relay-changes").classList.add("hidden");
    renderRelay();
  }
  // Relay from the best few hits, one after another, and lay the routes side by side with their support.
  async function compareBest() {
    const n = Number($("#compare-n").value) || 3;
    const hits = S.hits.slice(0, n);
    if (!hits.length) return;
    const btn = $("#compare-btn"); btn.disabled = true;
    const routes = [];
    try {
      for (const [i, h] of hits.entries()) {
        $("#search-message").textContent = fill("compare.progress", { i: i + 1, n: hits.length });
        routes.push(await api("POST", "/api/relay", { origin: h.sighting, hops: HOPS }));
      }
    } finally { btn.disabled = false; $("#search-message").textContent = ""; }
    S.compare = routes; S.route = null; S.origin = null;
    location.hash = "#relay";
    renderRelay();
  }
  const rank = (r) => [r.support.dead_end ? 0 : 1, r.support.cameras, r.support.mean_confidence];
  function better(a, b) { const x = rank(a), y = rank(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i] - x[i]; return 0; }
  function renderCompare() {
    const box = $("#relay-compare");
    if (!S.compare) { box.classList.add("hidden"); box.replaceChildren(); return; }
    const best = [...S.compare].sort(better)[0];
    box.classList.remove("hidden");
    box.replaceChildren(el("h3", { text: t("compare.title") }), el("div", { class: "compare-cols" }, ...S.compare.map((r) => {
      const chain = r.hops.map((h) => `${h.camera} ${clock(h.start_time)}`).join(" → ");
      return el("div", { class: "card compare-col" + (r === best ? " best" : ""), "data-origin": r.origin },
        el("div", { class: "hop-head" }, el("b", { text: `${t("relay.origin")} #${r.origin}` }),
          r === best ? el("span", { class: "badge ok", text: t("compare.best") }) : null),
        el("img", { src: media(`/api/sightings/${r.origin}/thumbnail`), alt: "#" + r.origin }),
        el("div", { class: "support", text: r.support.text }),
        el("div", { class: "reasons", text: chain }),
        r.dead_end ? el("div", { class: "deadend-why", text: r.dead_end.why }) : null,
        el("button", { type: "button", class: "open-route-btn", text: t("compare.open"), onclick: () => {
          S.route = r; S.origin = r.origin; renderRelay(); } }));
    })));
  }
  async function verdict(kind, sid) {
    const before = S.route;
    S.route = await api("POST", `/api/relay/${S.origin}/${kind}`, { sightings: [sid], hops: HOPS });
    explainChange(before, S.route);
    renderRelay();
  }
  // A verdict re-scores the route: say which hops it dropped or added, so a lost correct hop is noticed.
  function explainChange(before, after) {
    const box = $("#relay-changes");
    if (!before) { box.classList.add("hidden"); return; }
    const had = new Map(before.hops.map((h) => [h.sighting, h])), has = new Set(after.hops.map((h) => h.sighting));
    const dropped = before.hops.filter((h) => !has.has(h.sighting) && h.direction !== "origin");
    const added = after.hops.filter((h) => !had.has(h.sighting));
    const lines = [];
    if (dropped.length) lines.push(fill("relay.dropped", { hops: dropped.map((h) => `#${h.sighting} (${h.camera})`).join(", ") }));
    if (added.length) lines.push(fill("relay.added", { hops: added.map((h) => `#${h.sighting} (${h.camera})`).join(", ") }));
    box.classList.toggle("hidden", !lines.length);
    box.replaceChildren(...lines.map((x) => el("p", { text: x })));
  }
  function playHop(h) {
    $("#relay-video").src = media(h.video);
    $("#relay-video-cap").textContent = `#${h.sighting} · ${h.camera} · ${fmtTime(h.wall_start)}`;
  }
  function renderTimeline(route) {
    const tl = $("#relay-timeline");
    tl.replaceChildren();
    if (!route || !route.hops.length) return;
    const { svg } = window.RT;
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
  function deadEndBox(route) {
    const d = route.dead_end;
    if (!d) return null;
    return el("div", { class: "card deadend", id: "relay-deadend" },
      el("h4", { text: t("relay.deadend") }), el("p", { class: "deadend-why", text: d.why }), el("p", { text: d.advice }),
      el("div", { class: "alts" }, ...d.next.map((c) => el("figure", { class: "alt next-candidate", "data-sighting": c.sighting },
        el("img", { src: media(c.thumbnail), alt: "#" + c.sighting }),
        el("figcaption", { text: `#${c.sighting} ${c.camera} ${clock(c.start_time)}` }),
        el("button", { type: "button", class: "relay-btn", text: t("search.relay"), onclick: () => startRelay(c.sighting) })))));
  }
  async function renderRelay() {
    await ensureCameras();
    renderCompare();
    const route = S.route;
    $("#relay-origin").textContent = route ? `${t("relay.origin")} #${route.origin} · ${route.case || ""}`
      : S.compare ? "" : t("relay.empty");
    $("#export-btn").disabled = !route;
    drawNetwork($("#relay-map"), { cams: S.cameras, links: S.links, colourBy: "purpose", cones: false, showLinks: true, route });
    renderTimeline(route);
    $("#relay-timeline").classList.toggle("hidden", !route);
    const box = $("#relay-hops");
    if (!route) { box.replaceChildren(); $("#relay-summary").replaceChildren(); return; }
    box.replaceChildren(...route.hops.map((h, i) => {
      const state = h.direction === "origin" ? "origin" : h.confirmed ? "confirmed" : "proposed";
      const label = state === "origin" ? t("relay.origin") : state === "confirmed" ? t("relay.confirmed") : t("relay.proposed");
      const card = el("div", { class: `hop card hop-${state}`, "data-sighting": h.sighting, "data-state": state },
        el("div", { class: "hop-head" }, el("b", { text: `${i + 1}. ${h.camera} #${h.sighting}` }), el("span", { class: "badge", text: label })),
        el("img", { src: media(h.thumbnail), alt: "#" + h.sighting, onclick: () => playHop(h) }),
        el("div", { text: `${fmtTime(h.wall_start)} · ${t("relay.conf")} ${h.confidence.toFixed(2)}` }),
        el("div", { class: "muted small", text: secs(h.start, h.end) }),
        el("div", { class: "reasons", text: (h.reasons_text || h.reasons || []).join(" · ") }));
      if (state === "proposed") {
        card.append(el("div", { class: "row" },
          el("button", { type: "button", class: "confirm-btn", text: t("relay.confirm"), onclick: () => verdict("confirm", h.sighting) }),
          el("button", { type: "button", class: "reject-btn", text: t("relay.reject"), onclick: () => verdict("reject", h.sighting) })));
      }
      if (h.alternatives && h.alternatives.length) {
        card.append(el("div", { class: "alts" }, el("small", { text: t("relay.alts") }),
          ...h.alternatives.filter((a) => a.sighting).map((a) => el("figure", { class: "alt" },
            el("img", { src: media(a.thumbnail), alt: "#" + a.sighting }),
            el("figcaption", { text: `#${a.sighting} ${a.camera || ""} ${typeof a.confidence === "number" ? a.confidence.toFixed(2) : ""}` }),
            el("button", { type: "button", class: "confirm-alt-btn", text: t("relay.confirm"), onclick: () => verdict("confirm", a.sighting) })))));
      }
      return card;
    }));
    // Why each direction ended, as sentences; the route's support; at a dead end, why and what to try next.
    $("#relay-summary").replaceChildren(
      el("p", { class: "support", text: route.support ? route.support.text : "" }),
      ...(route.stopped_text || []).map((x) => el("p", { class: "muted stopped", text: x })),
      deadEndBox(route) || "");
  }
  // The export runs on the server in the background: a progress bar while frames are cut and masked, then the
  // package's seal and a download of the whole package as one ZIP (never a path on the server).
  async function exportRoute() {
    $("#export-btn").disabled = true;
    const box = $("#export-result");
    const bar = el("progress", { id: "export-progress", max: 100, value: 0 });
    const label = el("span", { class: "muted", text: t("exports.running") });
    box.classList.remove("hidden");
    box.replaceChildren(el("h3", { text: t("relay.export") }), el("div", { class: "row" }, bar, label));
    try {
      let job = await api("POST", "/api/exports/jobs", { origin: S.route.origin });
      while (job.state === "running") {
        await new Promise((ok) => setTimeout(ok, 700));
        job = await api("GET", `/api/exports/jobs/${job.job}`);
        bar.value = job.percent;
        label.textContent = fill("exports.progress", { pct: Math.round(job.percent), done: job.frames_done, total: job.frames_total });
      }
      if (job.state !== "done") { label.textContent = job.error || t("err.server"); flash(job.error || t("err.server")); return; }
      const r = job.result;
      bar.value = 100;
      box.replaceChildren(el("h3", { text: t("relay.exported") }),
        el("div", { id: "export-package", "data-export": r.export_id, text: fill("exports.record", { seq: r.audit_seq, id: r.export_id }) }),
        el("div", { class: "small", text: `${t("exports.manifest")}: ${r.manifest_sha256}` }),
        el("button", { type: "button", id: "export-download", text: t("exports.download"), onclick: () => download(r.export_id).catch(() => {}) }),
        el("ul", { class: "small" }, ...r.files.filter((f) => f.endsWith(".mp4") || f.endsWith(".json")).map((f) => el("li", { text: f }))));
    } finally { $("#export-btn").disabled = false; }
  }
  // The browser saves the package: fetched with the session's token, handed over as a file.
  async function download(exportId) {
    const r = await fetch(`/api/exports/${exportId}/download`, { headers: { Authorization: "Bearer " + S.token,
      "X-Case": S.case, "Accept-Language": S.lang } });
    if (!r.ok) { flash(t("err.server")); return; }
    const blob = await r.blob();
    const name = (/filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "") || [])[1] || `export-${exportId}.zip`;
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }

  PAGES.relay = renderRelay;
  window.RT.download = download; // the case page's export list downloads the same way
  document.addEventListener("DOMContentLoaded", () => {
    $("#search-form").addEventListener("submit", (e) => search(e).catch(() => {}));
    $("#compare-btn").addEventListener("click", () => compareBest().catch(() => {}));
    $("#export-btn").addEventListener("click", () => exportRoute().catch(() => {}));
  });
})();
