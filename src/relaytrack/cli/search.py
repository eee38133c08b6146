"""CLI: `relaytrack search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import CaseOpt, DbOpt, JsonFlag, UserOpt, access, open_store
from relaytrack.clock import human_span
from relaytrack.errors import InputError, NotFound
from relaytrack.i18n import lang, t, tr_all
from relaytrack.ui import console, console_err, print_json


def _filters(from_: str | None, to: str | None, cameras: list[str] | None, kind: str | None):
    from relaytrack.search.engine import Filters
    from relaytrack.search.query import parse_iso

    if kind is not None and kind not in ("person", "vehicle"):
        raise InputError(f"--kind {kind!r}: use person or vehicle")
    return Filters(
        time_from=parse_iso(from_, "--from") if from_ else None,
        time_to=parse_iso(to, "--to") if to else None,
        cameras=list(cameras or []),
        kind=kind,
    )


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_cmd(
        text: Annotated[str | None, typer.Option("--text", help="Description, Korean or English")] = None,
        image: Annotated[Path | None, typer.Option("--image", help="Photo or crop of the suspect")] = None,
        sighting: Annotated[
            int | None, typer.Option("--sighting", help="Find sightings that look like this one")
        ] = None,
        plate: Annotated[
            str | None,
            typer.Option("--plate", help="Plate, full or partial: 3456, '12가*', '??가3456' (confusion-tolerant)"),
        ] = None,
        top: Annotated[int, typer.Option("--top", min=1, max=1000, help="How many results")] = 20,
        from_: Annotated[
            str | None, typer.Option("--from", help="ISO start of the time window (naive = KST)")
        ] = None,
        to: Annotated[str | None, typer.Option("--to", help="ISO end of the time window")] = None,
        camera: Annotated[
            list[str] | None, typer.Option("--camera", help="Only these cameras (repeatable)")
        ] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="person or vehicle")] = None,
        db: DbOpt = None,
        user: UserOpt = None,
        case: CaseOpt = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Ranked sightings for a description, a photo or a stored sighting (needs --user and --case)."""
        from relaytrack.evidence.access import authorize_sightings, case_search
        from relaytrack.search import engine
        from relaytrack.search.query import parse_text

        given = [x for x in (text, image, sighting, plate) if x is not None]
        if len(given) != 1:
            raise InputError("give exactly one of --text, --image, --sighting or --plate")
        flt = _filters(from_, to, camera, kind)
        store = open_store(db, readonly=True)
        try:
            detail = {
                "text": text,
                "image": str(image) if image else None,
                "sighting": sighting,
                "plate": plate,
                "top": top,
                "from": from_,
                "to": to,
                "cameras": camera or [],
                "kind": kind,
            }
            ctx = access(store, user, case, "search", detail={k: v for k, v in detail.items() if v})
            if sighting is not None:  # the example itself: another case's evidence is refused (logged)
                authorize_sightings(ctx, [sighting])
            parsed = None

            def run(k: int):
                if parsed is not None:
                    return engine.search_description(store.conn, parsed, top=k, filters=flt)
                if plate is not None:
                    from relaytrack.search.plate import search_plate

                    return search_plate(store.conn, plate, top=k, filters=flt)
                if image is not None:
                    if not image.is_file():
                        raise InputError(f"{image}: no such image file")
                    r = engine.search_example(
                        store.conn,
                        engine.embed_image(str(image), conn=store.conn),
                        top=k,
                        filters=flt.merged(engine.Filters(kind="person")),
                    )
                    r.query = {"image": str(image), **r.query}
                    return r
                return engine.search_sighting(store.conn, sighting, top=k, filters=flt)

            try:
                parsed = parse_text(text) if text is not None else None
                # Hits another case holds are left out, as in the service (the one gate, case_search).
                res, grant = case_search(ctx, run, top)
            except (InputError, NotFound) as err:
                ctx.log(detail={**detail, "error": str(err)}, result_ids=[], outcome="error")
                raise
            ids = [h.sighting.id for h in res.hits]
            ctx.log(
                detail={
                    k: v
                    for k, v in {
                        **detail,
                        "query": res.query,
                        "message": res.message,
                        "withheld": len(grant.withheld),
                    }.items()
                    if v
                },
                result_ids=ids,
            )
        finally:
            store.close()
        if res.message:
            console_err.print(f"[yellow]{res.message}[/yellow]", highlight=False)
        if json_out:
            print_json([h.public() for h in res.hits])
            return
        from rich.table import Table

        korean = lang() == "ko"
        if parsed is not None:
            console.print(
                f"[bold]{t('query')}:[/bold] {parsed.human_ko() if korean else parsed.human()}", highlight=False
            )
            if not korean:  # the parsed structure, for the English reader who checks the parser
                console.print(json.dumps(parsed.to_json(), ensure_ascii=False), highlight=False, soft_wrap=True)
        else:
            console.print(f"[bold]{t('query')}:[/bold] {json.dumps(res.query, ensure_ascii=False)}", highlight=False)
        table = Table(
            "#", t("sighting"), t("camera"), t("time_kst"), t("clip_s"), t("frames"), t("score"), t("reasons")
        )
        for i, h in enumerate(res.hits, 1):
            p = h.public()
            s = h.sighting
            table.add_row(
                str(i),
                str(p["sighting"]),
                p["camera"],
                human_span(s.wall_start, s.wall_end) if s.wall_start else "",
                f"{p['start']:.1f}-{p['end']:.1f}",
                f"{p['frames'][0]}-{p['frames'][1]}",
                f"{p['score']:.3f}",
                "; ".join(tr_all(p["reasons"])),
            )
        console.print(table)
