// The console's maps (camera page, relay page), drawn offline by this script: Seoul's 구/동 outlines from
// /api/basemap (clipped to the view by the server; cameras only, and a note saying so, without them), cameras
// coloured by purpose (or district, or status), a route zoomed to, drawn hop to hop with an arrow on each leg
// and each hop's number and Seoul time, and labels placed greedily so none collide (the report's map,
// relaytrack.relay.labels, places them the same way).
"use strict";
(() => {
  // ---- pure helpers (also run by the tests under node) ------------------------------------------------
  const SPOTS = [[1, -0.3], [1, 1.0], [-1, -0.3], [-1, 1.0], [0, -1.0], [0, 1.6], [2, -1.2], [2, 2.0], [-2, -1.2]];
  const textWidth = (text, size) => [...text].reduce((s, ch) => s + size * (ch.codePointAt(0) >= 0x1100 ? 1.0 : 0.62), 0);
  function textBox(text, x, y, size, anchor) {
    const w = textWidth(text, size);
    const x0 = anchor === "middle" ? x - w / 2 : anchor === "end" ? x - w : x;
    return [x0, y - 0.9 * size, x0 + w, y + 0.25 * size];
  }
  const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  // labels: [{text, x, y, size, cls, centred}] most important first -> the placed ones with x, y, anchor, box.
  function placeLabels(labels, width, height, reserved = [], pad = 1) {
    const taken = [...reserved], out = [];
    for (const lb of labels) {
      const size = lb.size || 11, gap = 4 + size * 0.2, tries = [];
      if (lb.centred) tries.push([lb.x, lb.y + size * 0.35, "middle"], [lb.x, lb.y - size, "middle"], [lb.x, lb.y + size * 1.6, "middle"]);
      for (const [dx, dy] of SPOTS) tries.push([lb.x + dx * gap, lb.y + dy * size, dx > 0 ? "start" : dx < 0 ? "end" : "middle"]);
      for (const [x, y, anchor] of tries) {
        const b = textBox(lb.text, x, y, size, anchor);
        if (b[0] < 0 || b[1] < 0 || b[2] > width || b[3] > height) continue;
        const g = [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad];
        if (taken.some((r) => overlaps(g, r))) continue;
        taken.push(b);
        out.push({ ...lb, x, y, anchor, box: b });
        break;
      }
    }
    return out;
  }
  window.RTMap = { placeLabels, textBox, textWidth, overlaps };
  if (!window.RT) return; // loaded alone (tests): the helpers only

  // ---- drawing -----------------------------------------------------------------------------------------
  const RT = window.RT;
  const { S, svg, t, lbl, api } = RT;
  // The register's purposes (relay.netfile.PURPOSES), coloured as in the HTML report (relay.report_text).
  const PURPOSE_COLOURS = { "방범": "#d1495b", "어린이보호구역": "#edae49", "도시공원·놀이터": "#66a182", "쓰레기무단투기": "#8d6a9f",
    "시설안전·화재예방": "#e07a5f", "교통단속": "#30638e", "교통정보수집": "#00798c", "기타": "#6c757d" };
  const NO_PURPOSE = "#a0a0a0";
  const PALETTE = ["#d1495b", "#00798c", "#edae49", "#30638e", "#66a182", "#8d6a9f", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f"];
  const STATUS_COLOURS = { up: "#2a9d8f", recording: "#2a9d8f", recorded: "#457b9d", starting: "#a8dadc", ended: "#457b9d",
    idle: "#999999", stalled: "#e9a23b", down: "#e63946", failed: "#e63946" };
  const M_PER_DEG = 111195;
  const hms = (epoch) => new Date(epoch * 1000).toLocaleTimeString("en-GB", { timeZone: "Asia/Seoul", hour12: false });

  // Fit `pts` (cameras) into w x h with a margin of `margin` metres; f(lat, lon) -> [x, y]; f.inv(x, y) -> [lat, lon].
  function projector(pts, w, h, margin = 0, pad = 24) {
    const lat0 = pts.reduce((s, c) => s + c.lat, 0) / Math.max(pts.length, 1);
    const k = Math.cos(lat0 * Math.PI / 180);
    const xs = pts.map((c) => c.lon * k * M_PER_DEG), ys = pts.map((c) => c.lat * M_PER_DEG);
    const minx = Math.min(...xs) - margin, maxx = Math.max(...xs) + margin;
    const miny = Math.min(...ys) - margin, maxy = Math.max(...ys) + margin;
    const s = Math.min((w - 2 * pad) / Math.max(maxx - minx, 1), (h - 2 * pad) / Math.max(maxy - miny, 1));
    const cx = (minx + maxx) / 2, cy = (miny + maxy) / 2;
    const f = (lat, lon) => [w / 2 + (lon * k * M_PER_DEG - cx) * s, h / 2 - (lat * M_PER_DEG - cy) * s];
    f.inv = (x, y) => [(cy + (h / 2 - y) / s) / M_PER_DEG, (cx + (x - w / 2) / s) / (k * M_PER_DEG)];
    f.metres = s; // pixels per metre
    return f;
  }

  const baseCache = new Map();
  function baseLayer(svgEl, P, w, h, redraw) {
    const [south, west] = P.inv(0, h), [north, east] = P.inv(w, 0);
    const q = `west=${west.toFixed(5)}&south=${south.toFixed(5)}&east=${east.toFixed(5)}&north=${north.toFixed(5)}&px=${Math.round(w)}`;
    if (baseCache.has(q)) return baseCache.get(q);
    if (east - west > 2 || north - south > 2) return null; // wider than Seoul: no outlines
    baseCache.set(q, null);
    api("GET", "/api/basemap?" + q, undefined, { noCase: true })
      .then((b) => { baseCache.set(q, b); redraw(); })
      .catch(() => baseCache.delete(q));
    return null;
  }

  function drawNetwork(svgEl, opts) {
    const { cams, links, colourBy, cones, showLinks, route, onPick } = opts;
    svgEl._rtOpts = opts;
    const box = svgEl.viewBox.baseVal, W = box.width, H = box.height;
    svgEl.replaceChildren(svg("rect", { x: 0, y: 0, width: W, height: H, class: "mapbg" }));
    const placedCams = cams.filter((c) => c.lat !== null && c.lon !== null);
    if (!placedCams.length) return {};
    const byId = Object.fromEntries(cams.map((c) => [c.id, c]));
    // Zoom to the route (its cameras plus a margin) when there is one, else show every camera.
    const routeCams = route ? [...new Set(route.hops.map((h) => h.camera))].map((id) => byId[id]).filter((c) => c && c.lat !== null) : [];
    let P;
    if (routeCams.length) {
      const k0 = Math.cos(routeCams[0].lat * Math.PI / 180);
      const xs = routeCams.map((c) => c.lon * k0 * M_PER_DEG), ys = routeCams.map((c) => c.lat * M_PER_DEG);
      const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
      P = projector(routeCams, W, H, Math.max(120, 0.2 * span));
    } else P = projector(placedCams, W, H, 30);
    const keys = [...new Set(cams.map((c) => c[colourBy] || "-"))];
    const colour = (c) => colourBy === "status" ? (STATUS_COLOURS[c.status] || "#999")
      : colourBy === "purpose" ? (PURPOSE_COLOURS[c.purpose] || NO_PURPOSE) : PALETTE[keys.indexOf(c[colourBy] || "-") % PALETTE.length];
    const keyColour = (k) => colourBy === "status" ? (STATUS_COLOURS[k] || "#999")
      : colourBy === "purpose" ? (PURPOSE_COLOURS[k] || NO_PURPOSE) : PALETTE[keys.indexOf(k) % PALETTE.length];
    const labels = [], reserved = [];
    // Base layer: 동 then 구 outlines, their names as labels (구 before the cameras' ids, 동 after).
    const base = baseLayer(svgEl, P, W, H, () => { if (svgEl._rtOpts === opts) drawNetwork(svgEl, opts); });
    const areaLabels = { gu: [], dong: [] };
    if (base && base.available) {
      for (const [cls, areas] of [["dong", base.dongs], ["gu", base.districts]]) {
        for (const a of areas) {
          const d = a.rings.map((r) => "M" + r.map(([lon, lat]) => P(lat, lon).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join("");
          svgEl.append(svg("path", { d, class: "area-" + cls, "data-code": a.code }));
          if (a.label_at) {
            const [x, y] = P(a.label_at[1], a.label_at[0]);
            areaLabels[cls].push({ text: S.lang === "ko" ? a.name : (a.name_eng || a.name), x, y,
              size: cls === "gu" ? 13 : 9.5, cls: "map-label label-" + cls, centred: true });
          }
        }
      }
    }
    svgEl.dataset.base = base ? (base.available ? "1" : "0") : "";
    if (showLinks) {
      for (const l of links) {
        const a = byId[l.src], b = byId[l.dst];
        if (!a || !b || a.lat === null || b.lat === null) continue;
        const [x1, y1] = P(a.lat, a.lon), [x2, y2] = P(b.lat, b.lon);
        svgEl.append(svg("line", { x1, y1, x2, y2, class: "link" }));
      }
    }
    const camLabels = [];
    for (const c of placedCams) {
      const [x, y] = P(c.lat, c.lon);
      if (x < -20 || y < -20 || x > W + 20 || y > H + 20) continue;
      if (cones && c.heading_deg !== null) {
        const r = Math.max(14, Math.min(60, 40 * P.metres)), fov = (c.fov_deg || 60) * Math.PI / 180;
        const hd = c.heading_deg * Math.PI / 180;
        const a1 = hd - fov / 2, a2 = hd + fov / 2;
        const p1 = [x + r * Math.sin(a1), y - r * Math.cos(a1)], p2 = [x + r * Math.sin(a2), y - r * Math.cos(a2)];
        svgEl.append(svg("path", { d: `M${x},${y} L${p1[0]},${p1[1]} A${r},${r} 0 0 1 ${p2[0]},${p2[1]} Z`,
          fill: colour(c), class: "cone" }));
      }
      const g = svg("g", { class: "cam", "data-id": c.id, "data-purpose": c.purpose || "", tabindex: 0 });
      g.append(svg("circle", { cx: x, cy: y, r: 7, fill: colour(c), class: "cam-dot status-" + c.status }));
      const title = svg("title");
      title.textContent = `${c.id} ${c.name || ""} · ${c.purpose || ""} · ${c.district || ""} · ${lbl("status", c.status)}`;
      g.append(title);
      if (onPick) g.addEventListener("click", () => onPick(c));
      svgEl.append(g);
      reserved.push([x - 7, y - 7, x + 7, y + 7]);
      camLabels.push({ text: c.id, x, y, size: 11, cls: "map-label cam-label", cam: c.id });
    }
    const hopLabels = [];
    if (route) {
      const hops = route.hops.filter((h) => byId[h.camera] && byId[h.camera].lat !== null);
      const pts = hops.map((h) => P(byId[h.camera].lat, byId[h.camera].lon));
      const confirmedPts = hops.filter((h) => h.confirmed || h.direction === "origin").map((h) => P(byId[h.camera].lat, byId[h.camera].lon));
      if (pts.length > 1) svgEl.append(svg("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "route-proposed" }));
      if (confirmedPts.length > 1) svgEl.append(svg("polyline", { points: confirmedPts.map((p) => p.join(",")).join(" "), class: "route-confirmed" }));
      for (let i = 1; i < pts.length; i++) { // an arrow at the middle of each leg, pointing the way walked
        const [x1, y1] = pts[i - 1], [x2, y2] = pts[i], len = Math.hypot(x2 - x1, y2 - y1);
        if (len < 1) continue;
        const ux = (x2 - x1) / len, uy = (y2 - y1) / len, mx = (x1 + x2) / 2, my = (y1 + y2) / 2, s = 7;
        svgEl.append(svg("polygon", { class: "route-arrow", points: [[mx + ux * s, my + uy * s],
          [mx - ux * s - uy * s * 0.7, my - uy * s + ux * s * 0.7], [mx - ux * s + uy * s * 0.7, my - uy * s - ux * s * 0.7]]
          .map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" ") }));
        const n = Math.max(1, Math.floor(len / 6));
        for (let j = 0; j <= n; j++) { const x = x1 + (x2 - x1) * j / n, y = y1 + (y2 - y1) * j / n; reserved.push([x - 3, y - 3, x + 3, y + 3]); }
      }
      hops.forEach((h, i) => hopLabels.push({ text: `${route.hops.indexOf(h) + 1} ${hms(h.true_start || h.wall_start)}`,
        x: pts[i][0], y: pts[i][1], size: 12, cls: "map-label hop-no" }));
    }
    // A page's own layer above the cameras (the pursuit's predicted cameras), redrawn with the map.
    if (opts.overlay) opts.overlay(svgEl, P, byId, reserved);
    const onRoute = new Set(routeCams.map((c) => c.id));
    const offRoute = camLabels.filter((l) => !onRoute.has(l.cam));
    // A city's worth of cameras in view: only the route's are named (placing thousands would stall the page).
    const placed = placeLabels([...hopLabels, ...camLabels.filter((l) => onRoute.has(l.cam)), ...areaLabels.gu,
      ...(offRoute.length <= 400 ? offRoute : []), ...areaLabels.dong], W, H, reserved.length <= 2000 ? reserved : []);
    const layer = svg("g", { class: "labels" });
    for (const p of placed) {
      const e = svg("text", { x: p.x.toFixed(1), y: p.y.toFixed(1), class: p.cls, "font-size": p.size, "text-anchor": p.anchor });
      e.textContent = p.text;
      layer.append(e);
    }
    svgEl.append(layer);
    if (base) { // the base layer's source, or why there is none
      const note = svg("text", { x: 8, y: H - 8, class: "map-note" + (base.available ? "" : " map-nobase") });
      note.textContent = t(base.available ? "map.base" : "map.nobase");
      svgEl.append(note);
    }
    return { keys, colour, keyColour, base };
  }
  RT.drawNetwork = drawNetwork;
  RT.STATUS_COLOURS = STATUS_COLOURS;
})();
