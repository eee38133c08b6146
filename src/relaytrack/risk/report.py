"""Outputs of a build: cells.geojson, per-layer GeoJSON, CSV rankings, offline map.html, summary.json.

The map is one self-contained HTML file (canvas + inline JS, data inlined as base64 arrays): it opens
in a control room with no internet, and no tile server ever sees where the cameras are.
"""

from __future__ import annotations

import base64
import csv
import json
import time
from pathlib import Path

import numpy as np
from pyproj import Transformer

from relaytrack.errors import InputError
from relaytrack.risk.score import RiskResult, city_time_profile, rank_areas, rank_cameras, rank_cells
from relaytrack.risk.validate import backtest

RANKING_FILES = {
    "cell": "cells.csv",
    "dong": "dongs.csv",
    "district": "districts.csv",
    "camera": "cameras.csv",
    "gap": "gaps.csv",
}


def _r(v: float, nd: int = 3) -> float:
    return round(float(v), nd)


def write_cells_geojson(res: RiskResult, path: Path) -> None:
    g = res.grid
    tr = Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True)
    x0, y0, s = g.x0, g.y0, g.cell_m
    lon0, lat0 = tr.transform(x0, y0)
    lon1, lat1 = tr.transform(x0 + s, y0)
    lon2, lat2 = tr.transform(x0 + s, y0 + s)
    lon3, lat3 = tr.transform(x0, y0 + s)
    order = np.argsort(-res.score, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    lift = res.contrib - res.contrib.mean(axis=0)
    top = np.argsort(-lift, axis=1)[:, :3]
    names = res.names()
    dnames, onames = g.districts.names, g.dongs.names
    raws = [np.round(iv.raw, 3).tolist() for iv in res.indicators]
    score, rank_l = np.round(res.score, 2).tolist(), rank.tolist()
    gap, cam = res.gap.tolist(), np.round(res.cam_dist, 1).tolist()
    resid, dist_l, dong_l = np.round(res.residential, 2).tolist(), g.district.tolist(), g.dong.tolist()
    lifted = (lift > 0).tolist()
    top_l = top.tolist()
    ring_xy = np.round(np.column_stack([lon0, lat0, lon1, lat1, lon2, lat2, lon3, lat3]), 6).tolist()
    with path.open("w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","name":"relaytrack risk cells","features":[\n')
        for i in range(len(g)):
            props = {
                "id": res.ids[i],
                "district": dnames[dist_l[i]],
                "dong": onames[dong_l[i]] if dong_l[i] >= 0 else "",
                "score": score[i],
                "rank": rank_l[i],
                "gap": gap[i],
                "nearest_camera_m": cam[i],
                "residential": resid[i],
            }
            for n, raw in zip(names, raws, strict=True):
                props[n] = raw[i]
            props["reasons"] = [names[j] for j in top_l[i] if lifted[i][j]]
            a = ring_xy[i]
            ring = f"[[{a[0]},{a[1]}],[{a[2]},{a[3]}],[{a[4]},{a[5]}],[{a[6]},{a[7]}],[{a[0]},{a[1]}]]"
            sep = ",\n" if i < len(g) - 1 else "\n"
            f.write(
                '{"type":"Feature","geometry":{"type":"Polygon","coordinates":['
                + ring
                + ']},"properties":'
                + json.dumps(props, ensure_ascii=False, separators=(",", ":"))
                + "}"
                + sep
            )
        f.write("]}\n")


def write_points_geojson(res: RiskResult, name: str, path: Path) -> None:
    p = res.points[name]
    with path.open("w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n')
        lon, lat, rows = np.round(p.lon, 6).tolist(), np.round(p.lat, 6).tolist(), p.rows.tolist()
        for i in range(len(p)):
            props = {"id": p.ids[i], "row": rows[i]}
            for k, v in p.labels.items():
                props[k] = v[i]
            sep = ",\n" if i < len(p) - 1 else "\n"
            f.write(
                f'{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon[i]},{lat[i]}]}},'
                f'"properties":{json.dumps(props, ensure_ascii=False)}}}{sep}'
            )
        f.write("]}\n")


def write_csv(rows: list[dict], path: Path) -> None:
    if not rows:
        path.write_text("", encoding="utf-8")
        return
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: " | ".join(v) if isinstance(v, list) else v for k, v in r.items()})


def read_ranking(out: Path, by: str, n: int) -> list[dict]:
    """Top n rows of a ranking CSV written by a build (reasons split back into a list)."""
    path = out / RANKING_FILES[by]
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            row: dict = {}
            for k, v in r.items():
                if k == "reasons":
                    row[k] = [s for s in v.split(" | ") if s]
                elif k in ("rank", "cells", "gap_cells", "cameras"):
                    row[k] = int(v)
                elif k in ("score", "lat", "lon", "nearest_camera_m", "cell_score", "residential"):
                    row[k] = float(v) if v not in ("", "None") else None
                elif k == "gap":
                    row[k] = v == "True"
                else:
                    row[k] = v
            rows.append(row)
            if len(rows) >= n:
                break
    return rows


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def write_map(res: RiskResult, path: Path, summary: dict) -> None:
    g = res.grid
    s = g.cell_m
    minx, miny = float(g.x0.min()), float(g.y0.min())
    ix = np.round((g.x0 - minx) / s).astype(np.uint16)
    iy = np.round((g.y0 - miny) / s).astype(np.uint16)
    layers = {"score": np.clip(np.round(res.score / 100 * 255), 0, 255).astype(np.uint8)}
    for iv in res.indicators:
        layers[iv.name] = np.clip(np.round(iv.norm * 255), 0, 255).astype(np.uint8)
    raw = {"score": np.round(res.score, 1)} | {iv.name: np.round(iv.raw, 2) for iv in res.indicators}
    cams = res.points.get("cameras")
    cam_xy = np.zeros(0, dtype=np.uint16)
    if cams is not None and len(cams):
        cam_xy = (
            np.column_stack(
                [np.clip((cams.x - minx) / 10, 0, 65535), np.clip((cams.y - miny) / 10, 0, 65535)]
            )
            .astype(np.uint16)
            .ravel()
        )
    outlines = []
    for geom in g.districts.geoms:
        polys = getattr(geom, "geoms", [geom])
        for poly in polys:
            if poly.geom_type != "Polygon":
                continue
            xy = np.asarray(poly.exterior.coords)
            outlines.append([[round((x - minx) / s, 2), round((y - miny) / s, 2)] for x, y in xy])
    data = {
        "n": len(g),
        "w": int(ix.max()) + 1,
        "h": int(iy.max()) + 1,
        "ix": _b64(ix),
        "iy": _b64(iy),
        "district": _b64(g.district.astype(np.uint8)),
        "dong": _b64(np.where(g.dong < 0, 65535, g.dong).astype(np.uint16)),
        "gap": _b64(res.gap.astype(np.uint8)),
        "layers": {k: _b64(v) for k, v in layers.items()},
        "raw": {k: _b64(v.astype(np.float32)) for k, v in raw.items()},
        "cams": _b64(cam_xy),
        "districts": g.districts.names,
        "dongs": g.dongs.names,
        "outlines": outlines,
        "ids_base": [minx, miny, s],
        "status": {iv.name: iv.spec.status for iv in res.indicators},
        "notes": {iv.name: iv.spec.note for iv in res.indicators},
        "top_districts": summary.get("top_districts", []),
        "backtest": summary.get("backtest", {}).get("count", {}),
    }
    html = _MAP_HTML.replace("__DATA__", json.dumps(data, ensure_ascii=False))
    path.write_text(html, encoding="utf-8")


def write_outputs(res: RiskResult, out: Path) -> dict:
    """Write every output file into `out` and return summary.json's content."""
    t = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / "layers").mkdir(exist_ok=True)
    bt = backtest(res)
    res.seconds["backtest"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    cells = rank_cells(res, len(res.score))
    write_csv(cells, out / "cells.csv")
    write_csv([c for c in cells if c["gap"]], out / "gaps.csv")
    dongs = rank_areas(res, "dong")
    districts = rank_areas(res, "district")
    write_csv(dongs, out / "dongs.csv")
    write_csv(districts, out / "districts.csv")
    write_csv(rank_cameras(res), out / "cameras.csv")
    write_cells_geojson(res, out / "cells.geojson")
    for name, p in res.points.items():
        if len(p):
            write_points_geojson(res, name, out / "layers" / f"{name}.geojson")
    res.seconds["write"] = round(time.perf_counter() - t, 3)
    ledgers = {n: p.ledger.as_dict() for n, p in res.points.items() if p.ledger} | {
        led.layer: led.as_dict() for led in res.stats.ledgers
    }
    summary = {
        "cells": len(res.score),
        "cell_m": res.grid.cell_m,
        "crs": res.grid.crs,
        "cameras": len(res.points["cameras"]) if "cameras" in res.points else 0,
        "indicators": {iv.name: iv.spec.status for iv in res.indicators},
        "indicator_details": {
            iv.name: {
                "status": iv.spec.status,
                "method": iv.spec.method,
                "source": iv.spec.source,
                "weight": iv.spec.weight,
                "higher_is_riskier": iv.spec.higher_is_riskier,
                "unit": iv.unit,
                "note": iv.spec.note,
            }
            for iv in res.indicators
        },
        "skipped_indicators": res.skipped,
        "coverage_radius_m": res.cfg.coverage_radius_m,
        "gaps": int(res.gap.sum()),
        "uncovered_cells": int((res.cam_dist > res.cfg.coverage_radius_m).sum()),
        "layers": {n: len(p) for n, p in res.points.items()},
        "bad_rows": {n: led["bad"] for n, led in ledgers.items() if led["bad"]},
        "bad_rows_total": int(sum(led["bad_total"] for led in ledgers.values())),
        "inputs": ledgers,
        "top_districts": [{"district": d["district"], "score": d["score"]} for d in districts[:5]],
        "time_of_day": city_time_profile(res),
        "backtest": bt,
        "stage_seconds": dict(res.seconds),
    }
    t2 = time.perf_counter()
    write_map(res, out / "map.html", summary)
    res.seconds["write"] = round(res.seconds["write"] + time.perf_counter() - t2, 3)
    summary["stage_seconds"] = dict(res.seconds)
    return summary


_MAP_HTML = r"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>relaytrack · Seoul crime-risk index</title>
<style>
body{margin:0;font:13px system-ui,sans-serif;background:#111;color:#ddd;display:flex;height:100vh}
#side{width:320px;padding:10px;overflow:auto;background:#1b1b1b}#wrap{flex:1;position:relative}
canvas{position:absolute;left:0;top:0}#tip{position:absolute;pointer-events:none;background:#000c;padding:6px;
border-radius:4px;display:none;white-space:pre}h1{font-size:15px;margin:4px 0 8px}select,label{display:block;margin:6px 0}
table{border-collapse:collapse;width:100%}td{padding:2px 4px;border-bottom:1px solid #333}.k{color:#999}
#legend{height:12px;background:linear-gradient(90deg,#2c7bb6,#abd9e9,#ffffbf,#fdae61,#d7191c);margin:4px 0}
</style></head><body>
<div id="side"><h1>Seoul crime-risk index (100 m)</h1>
<select id="layer"></select><div id="legend"></div><div class="k">low &larr; percentile within Seoul &rarr; high</div>
<label><input type="checkbox" id="gaps" checked> coverage gaps (high risk, no camera within radius)</label>
<label><input type="checkbox" id="cams"> cameras</label><label><input type="checkbox" id="lines" checked> 구 outlines</label>
<div id="note" class="k"></div><h1>Top districts</h1><table id="top"></table>
<h1>Backtest (구, later crime counts)</h1><table id="bt"></table>
<p class="k">Offline map: no tiles, no network. Data: Seoul open data (see summary.json).</p></div>
<div id="wrap"><canvas id="c"></canvas><canvas id="o"></canvas><div id="tip"></div></div>
<script>
const D=__DATA__;
function dec(b,T){const s=atob(b),u=new Uint8Array(s.length);for(let i=0;i<s.length;i++)u[i]=s.charCodeAt(i);return new T(u.buffer)}
const ix=dec(D.ix,Uint16Array),iy=dec(D.iy,Uint16Array),dist=dec(D.district,Uint8Array),dong=dec(D.dong,Uint16Array),
gap=dec(D.gap,Uint8Array),cams=dec(D.cams,Uint16Array);const L={},R={};
for(const k in D.layers){L[k]=dec(D.layers[k],Uint8Array);R[k]=dec(D.raw[k],Float32Array)}
const idx=new Int32Array(D.w*D.h).fill(-1);for(let i=0;i<D.n;i++)idx[iy[i]*D.w+ix[i]]=i;
const stops=[[44,123,182],[171,217,233],[255,255,191],[253,174,97],[215,25,28]];
function col(v){const t=v/255*4,i=Math.min(3,Math.floor(t)),f=t-i,a=stops[i],b=stops[i+1];
return [0,1,2].map(j=>Math.round(a[j]+(b[j]-a[j])*f))}
const sel=document.getElementById('layer');for(const k in D.layers){const o=document.createElement('option');
o.value=k;o.textContent=k+(D.status[k]?' ('+D.status[k]+')':'');sel.appendChild(o)}
const c=document.getElementById('c'),o=document.getElementById('o'),wrap=document.getElementById('wrap'),tip=document.getElementById('tip');
let px=1,ox=0,oy=0;
function draw(){const W=wrap.clientWidth,H=wrap.clientHeight;for(const cv of [c,o]){cv.width=W;cv.height=H}
px=Math.min(W/D.w,H/D.h);ox=(W-D.w*px)/2;oy=(H-D.h*px)/2;const k=sel.value,v=L[k];
const img=c.getContext('2d').createImageData(W,H),d=img.data;
for(let i=0;i<D.n;i++){const [r,g,b]=col(v[i]);const x0=Math.floor(ox+ix[i]*px),x1=Math.floor(ox+(ix[i]+1)*px),
y1=Math.floor(oy+(D.h-iy[i])*px),y0=Math.floor(oy+(D.h-iy[i]-1)*px);
for(let y=Math.max(0,y0);y<Math.min(H,y1);y++)for(let x=Math.max(0,x0);x<Math.min(W,x1);x++){const p=(y*W+x)*4;d[p]=r;d[p+1]=g;d[p+2]=b;d[p+3]=255}}
c.getContext('2d').putImageData(img,0,0);const g2=o.getContext('2d');
if(document.getElementById('gaps').checked){g2.strokeStyle='#fff';g2.lineWidth=1;
for(let i=0;i<D.n;i++)if(gap[i])g2.strokeRect(ox+ix[i]*px+.5,oy+(D.h-iy[i]-1)*px+.5,Math.max(px-1,1),Math.max(px-1,1))}
if(document.getElementById('cams').checked){g2.fillStyle='#0f0';const f=10/(D.ids_base[2]);
for(let i=0;i<cams.length;i+=2)g2.fillRect(ox+cams[i]*f*px,oy+(D.h-cams[i+1]*f)*px,1,1)}
if(document.getElementById('lines').checked){g2.strokeStyle='#000';g2.lineWidth=1.2;for(const ring of D.outlines){g2.beginPath();
ring.forEach((q,j)=>{const X=ox+q[0]*px,Y=oy+(D.h-q[1])*px;j?g2.lineTo(X,Y):g2.moveTo(X,Y)});g2.stroke()}}
document.getElementById('note').textContent=D.notes[k]||'composite score 0-100 (weighted mean of normalised indicators)'}
function cellid(i){const x=D.ids_base[0]+ix[i]*D.ids_base[2]-700000,y=D.ids_base[1]+iy[i]*D.ids_base[2]-1300000,
A='가나다라마바사아',p=n=>String(Math.floor((n%100000)/10)).padStart(4,'0');return A[Math.floor(x/100000)]+A[Math.floor(y/100000)]+' '+p(x)+' '+p(y)}
o.onmousemove=e=>{const r=o.getBoundingClientRect(),gx=Math.floor((e.clientX-r.left-ox)/px),gy=D.h-1-Math.floor((e.clientY-r.top-oy)/px);
const i=(gx>=0&&gy>=0&&gx<D.w&&gy<D.h)?idx[gy*D.w+gx]:-1;if(i<0){tip.style.display='none';return}
let t=cellid(i)+'\n'+D.districts[dist[i]]+' '+(dong[i]<65535?D.dongs[dong[i]]:'')+'\nscore '+R.score[i].toFixed(1)+(gap[i]?'  · coverage gap':'');
for(const k in R)if(k!=='score')t+='\n'+k+': '+(+R[k][i].toFixed(2));tip.textContent=t;tip.style.display='block';
tip.style.left=(e.clientX-r.left+12)+'px';tip.style.top=(e.clientY-r.top+12)+'px'};
o.onmouseleave=()=>tip.style.display='none';
for(const id of ['layer','gaps','cams','lines'])document.getElementById(id).onchange=draw;window.onresize=draw;
document.getElementById('top').innerHTML=D.top_districts.map(d=>'<tr><td>'+d.district+'</td><td>'+d.score+'</td></tr>').join('');
document.getElementById('bt').innerHTML='<tr class="k"><td></td><td>Spearman</td><td>top-k hit</td></tr>'+Object.entries(D.backtest).map(([k,v])=>
'<tr><td>'+k+'</td><td>'+v.spearman+'</td><td>'+v.top_k_hit+'</td></tr>').join('');draw();
</script></body></html>
"""


def read_alerts(path: Path) -> list[dict]:
    """Confirmed alerts from JSON (a list of objects) or CSV with camera_id, lat, lon, time columns."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InputError(f"{path}: alerts JSON must be a list of objects")
            return data
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read alerts: {err}") from err


def run_build(config: Path | None, out: Path, alerts: Path | None = None) -> dict:
    """Build the index from a config file, write every output and summary.json; returns the summary."""
    from relaytrack.risk.config import load_config
    from relaytrack.risk.index import build

    cfg = load_config(config)
    t0 = time.perf_counter()
    res = build(cfg, alerts=read_alerts(alerts) if alerts else None)
    summary = write_outputs(res, out)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["build_seconds"] = res.seconds.get("build")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary
