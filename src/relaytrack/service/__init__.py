"""HTTP service and web console (FastAPI + Uvicorn, bundled static console, no CDN, no map tiles).

Public API (for the demo and tests):

- `relaytrack.service.app.create_app(db=None, *, export_root=None, mask=None, upload_limit=8 MiB,
  alert_poll_s=1.0, keepalive_s=15.0) -> FastAPI`: the app on one store. `mask` (a
  relaytrack.evidence.mask.MaskSettings) overrides the exporter's masking; exports go under `export_root`
  (default <home>/exports).
- `relaytrack.service.app.serve(db, host="127.0.0.1", port=8000)`: run it with Uvicorn.
- `relaytrack.bench.service.run_bench(users=, subscribers=, duration_s=, ...) -> dict`: load figures.

Auth: POST /api/auth/login {"user", "password"} -> {"token", ...}; then `Authorization: Bearer <token>` and
the case as `X-Case` header or `case=` query parameter. A token is never accepted in a URL: media URLs (<img>,
EventSource) carry `mg=<grant>` from POST /api/auth/media-grant (relaytrack.service.media). Failed logins are
delayed per client (429, Retry-After) and summarised in the audit log (relaytrack.evidence.throttle). Every data
endpoint goes through relaytrack.evidence.access.authorize and is audit-logged; 401 without a token, 403
when the role or case refuses. Resources: /api/me, /api/cameras, /api/links, /api/search/{text,photo,
sighting}, /api/sightings/{id}[/thumbnail|/boxes], /api/relay (+ /{origin}/confirm|reject), /api/alerts
(+ /stream SSE, /{id}/verdict), /api/cases, /api/users, /api/requests (+ approve/refuse/deliver/outcome,
/stats), /api/exports (+ /{id}/verify, /{id}/file), /api/audit (+ /verify, /case/{no}), /api/video/
{sighting,camera,alert}/{id}.mjpeg. The OpenAPI spec is at /openapi.json, the console at /.

CLI: `relaytrack serve [--db PATH] [--host 127.0.0.1] [--port 8000]`, `relaytrack bench service`.
"""
