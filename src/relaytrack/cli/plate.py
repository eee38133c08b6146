"""CLI: `relaytrack plate read|train`: read Korean plates in images; train the plate character model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from relaytrack.cli.common import JsonFlag
from relaytrack.ui import console, console_err, print_json

plate_app = typer.Typer(
    help="Korean licence plates: read them in images, train the character model.", no_args_is_help=True
)


def _plate_json(read) -> dict:
    from relaytrack.describe.plate_grammar import vote

    v = vote([read])
    alts = v.alternatives if v is not None else []
    return {
        "text": read.text,
        "confidence": round(read.confidence, 3),
        "box": [int(v) for v in read.box] if read.box else None,
        "chars": [{"char": c.char, "confidence": round(c.conf, 3)} for c in read.chars],
        "alternatives": [{"text": t, "confidence": round(p, 3)} for t, p in alts if round(p, 3) > 0],
    }


@plate_app.command("read")
def read_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files: plate crops, vehicle crops or scenes")],
    json_out: JsonFlag = False,
) -> None:
    """Every plate read in each image, best first, with its confidence (the weakest character's), its box
    [x, y, w, h] and the likeliest other readings. An image without a plate has an empty list; an unreadable
    file is named in a one-line error and the others are still read (exit code 1 when none could be read)."""
    import cv2

    from relaytrack.describe import plate as reader
    from relaytrack.errors import InputError

    why = reader.status()
    if why:
        raise InputError(why)
    out, unreadable = [], 0
    for path in images:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if img is None:
            unreadable += 1
            console_err.print(f"error: {path}: not a readable image", highlight=False, soft_wrap=True)
            out.append({"file": str(path), "plates": [], "error": "not a readable image"})
            continue
        out.append({"file": str(path), "plates": [_plate_json(r) for r in reader.read_image(img)]})
    if json_out:
        print_json(out)
    else:
        for item in out:
            if "error" in item:
                continue
            plates = item["plates"]
            if not plates:
                console.print(f"{item['file']}: no plate", highlight=False)
            for p in plates:
                alts = ", ".join(f"{a['text']} {a['confidence']:.2f}" for a in p["alternatives"])
                console.print(
                    f"{item['file']}: {p['text']} ({p['confidence']:.2f}) at {p['box']}"
                    + (f"; or {alts}" if alts else ""),
                    highlight=False,
                )
    if images and unreadable == len(images):
        raise typer.Exit(1)


@plate_app.command("train")
def train_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model file (default: the project's models folder, plate-chars.npz)"),
    ] = None,
    per_class: Annotated[int, typer.Option("--per-class", min=20, help="Rendered glyphs per class")] = 400,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs")] = 15,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same model)")] = 0,
    dev_tune: Annotated[
        bool,
        typer.Option(
            "--dev-tune",
            help="Also train on glyphs cut from the TUNE part "
            "of ../shared/data/korean-plates-dev (never the held-out part)",
        ),
    ] = False,
    data: Annotated[
        Path | None, typer.Option("--data", help="korean-plates-dev folder for --dev-tune")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Train the plate character classifier (digits, class syllables, "no character") on characters
    rendered from the machine's fonts (fonts-noto-cjk, fonts-dejavu-core) with plate-like distortions; a
    couple of minutes on 2 cores. The reader trains it on first use when the file is missing."""
    import time

    from relaytrack.describe import plate_chars
    from relaytrack.paths import data_dir

    why = plate_chars.fonts_status()
    if why:
        from relaytrack.errors import InputError

        raise InputError(why)
    target = out or plate_chars.model_path()
    extra = None
    t0 = time.perf_counter()
    if dev_tune:
        from relaytrack.bench.plates import tune_glyphs

        extra = tune_glyphs(data or data_dir() / "korean-plates-dev")
        console_err.print(f"{len(extra[0])} glyphs cut from the tune part", highlight=False)
    plate_chars.train(
        target,
        n_per_class=per_class,
        epochs=epochs,
        seed=seed,
        extra=extra,
        say=lambda m: console_err.print(f"[dim]{m}[/dim]", highlight=False),
    )
    res = {
        "model": str(target),
        "classes": len(plate_chars.CLASSES),
        "per_class": per_class,
        "epochs": epochs,
        "seed": seed,
        "real_glyphs": 0 if extra is None else len(extra[0]),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if json_out:
        print_json(res)
    else:
        console.print(
            f"wrote {target} ({res['classes']} classes, {res['real_glyphs']} real glyphs) "
            f"in {res['seconds']} s",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(plate_app, name="plate")
