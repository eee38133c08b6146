"""The app factory: `create_app(db)` builds the FastAPI app on one store with explicit dependencies (no
globals), mounts one router per resource, the bundled console at `/` and its assets at `/static`.

Errors of the library map to HTTP statuses (AccessDenied 403, NotFound 404, InputError 422, unavailable
source/model 409), so hostile input gets a clear 4xx, never a 500. Messages never carry absolute server paths
(relaytrack.service.redact).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import relaytrack.evidence  # noqa: F401  (registers the audit anchor's store commit hook)
from relaytrack.errors import (
    AccessDenied,
    ConfigError,
    InputError,
    ModelError,
    NotFound,
    RelaytrackError,
    SourceError,
    StoreBusy,
    StoreError,
)
from relaytrack.evidence.mask import MaskSettings
from relaytrack.paths import home_dir
from relaytrack.service.deps import ServiceConfig, StorePool
from relaytrack.service.limits import BodyLimit
from relaytrack.service.live import AlertHub
from relaytrack.service.localize import LangMiddleware, error_body, http_error, validation_error
from relaytrack.service.pursuit_runs import PursuitRunner
from relaytrack.service.redact import scrub_paths
from relaytrack.service.routers import alerts, audit, auth, cameras, cases, exports, relay, requests, search
from relaytrack.service.routers import basemap as basemap_router
from relaytrack.service.routers import folder as folder_router
from relaytrack.service.routers import pursuits as pursuits_router
from relaytrack.service.routers import sightings as sightings_router
from relaytrack.service.routers import video as video_router
from relaytrack.store.db import Error as StoreDbErrors
from relaytrack.store.db import side_path as store_side_path
from relaytrack.store.pg import is_url

STATIC = Path(__file__).resolve().parent / "static"
ROUTERS = (
    auth,
    cameras,
    basemap_router,
    search,
    sightings_router,
    relay,
    alerts,
    pursuits_router,
    cases,
    folder_router,
    requests,
    exports,
    audit,
    video_router,
)
STATUS = (
    (AccessDenied, 403),
    (NotFound, 404),
    (InputError, 422),
    (SourceError, 409),
    (ModelError, 409),
    (StoreError, 409),
    (ConfigError, 409),
)
# The console loads nothing from elsewhere: every asset is bundled, the map is drawn from camera positions.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(
    db: str | Path | None = None,
    *,
    export_root: Path | None = None,
    mask: MaskSettings | None = None,
    upload_limit: int = 8 * 1024 * 1024,
    alert_poll_s: float = 1.0,
    keepalive_s: float = 15.0,
    pursuit_cameras: Path | None = None,
) -> FastAPI:
    """The service on store `db` (default: relaytrack.paths.default_db()). Exports are written under
    `export_root` (default: <home>/exports); `mask` overrides the exporter's masking settings;
    `pursuit_cameras` is the cameras file the console's pursuits read (none: the console cannot start one)."""
    from relaytrack.paths import default_db

    db_path = db if is_url(db) else Path(db) if db else default_db()
    root = Path(export_root) if export_root else home_dir() / "exports"
    cfg = ServiceConfig(
        db=db_path,
        export_root=root,
        mask=mask,
        upload_limit=upload_limit,
        alert_poll_s=alert_poll_s,
        keepalive_s=keepalive_s,
        clip_roots=[store_side_path(db_path).parent, home_dir()],
        pursuit_cameras=Path(pursuit_cameras) if pursuit_cameras else None,
    )
    pool = StorePool(db_path)
    hub = AlertHub(pool, alert_poll_s)
    pursuits = PursuitRunner(db_path, cfg.pursuit_cameras)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await hub.stop()
        pursuits.close()  # the console's pursuits end (saying "stopped") before their store goes
        pool.close()

    app = FastAPI(
        title="relaytrack",
        version="0.1.0",
        summary="Case-bound suspect search, relay tracking, live alerts and evidence for CCTV control rooms.",
        description="Every endpoint that returns or changes data needs `Authorization: Bearer <token>` "
        "(POST /api/auth/login) and, for search/relay/view/export, the case it is for (`X-Case` "
        "header or `case` query parameter). Every access is written to the hash-chained audit log.",
        lifespan=lifespan,
    )
    app.state.cfg, app.state.pool, app.state.hub, app.state.pursuits = cfg, pool, hub, pursuits

    for exc, status in STATUS:
        app.add_exception_handler(exc, _handler(status))
    app.add_exception_handler(RelaytrackError, _handler(400))
    for err_type in (*StoreDbErrors, StoreBusy):  # SQLite's and PostgreSQL's, and a pool with none free
        app.add_exception_handler(err_type, _db_busy)
    # Errors in the caller's language (lang= or Accept-Language), validation errors naming the field.
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # tokens may sit in media URLs
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Added last, so outermost: oversized bodies (declared or chunked) are refused before anything else runs;
    # photo uploads are the only large bodies, multipart framing gets 64 KiB on top.
    app.add_middleware(BodyLimit, limit=cfg.upload_limit + 64 * 1024)
    app.add_middleware(LangMiddleware)  # outermost: even a refused body is answered in the caller's language
    for mod in ROUTERS:
        app.include_router(mod.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def console() -> HTMLResponse:
        # The console starts in the language chosen for the server (`serve --lang`, RELAYTRACK_LANG), else
        # Korean; the person's own choice (the toggle, kept in the browser) wins over both.
        from relaytrack.i18n import chosen_lang

        html = (STATIC / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html.replace('<html lang="ko">', f'<html lang="{chosen_lang() or "ko"}">', 1))

    return app


def _handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(status, scrub_paths(str(exc)), type(exc).__name__), status)

    return handle


async def _db_busy(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        error_body(503, f"store busy, try again ({scrub_paths(str(exc))})", "StoreBusy"),
        503,
        headers={"Retry-After": "1"},
    )


def serve(
    db: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    cameras: Path | None = None,
) -> None:
    """Run the app with Uvicorn until interrupted (what `relaytrack serve` does)."""
    import uvicorn

    app = create_app(db, pursuit_cameras=cameras)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3)
