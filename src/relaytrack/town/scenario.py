"""Training scenarios: short rendered clips of chosen situations with an answer key (answer.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from relaytrack.errors import InputError
from relaytrack.town.generate import Progress, generate_town
from relaytrack.town.plan import TownSpec


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title_ko: str
    title_en: str
    spec: TownSpec
    question_ko: str
    question_en: str


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "mailbox-night",
            "야간 우편함 투척",
            "Drop at a mailbox at night",
            TownSpec(
                seed=11,
                cameras=2,
                minutes=0.75,
                lighting="night",
                couriers=1,
                courier_stops=1,
                courier_spot="mailbox",
                crowd=0.5,
            ),
            "우편함에 물건을 넣고 사진을 찍는 사람은 언제, 어느 카메라에 나타나는가?",
            "When and in which camera does someone put something into the mailbox and photograph it?",
        ),
        Scenario(
            "courier-stops",
            "여러 곳에 들르는 운반책",
            "Courier with many stops",
            TownSpec(
                seed=12, cameras=3, minutes=1.5, lighting="dusk", couriers=1, courier_stops=4, crowd=0.8
            ),
            "운반책이 들른 은닉 장소를 순서대로 모두 찾으시오.",
            "Find every hiding spot the courier visits, in order.",
        ),
        Scenario(
            "decoys",
            "닮은 사람 구별",
            "Look-alike decoys",
            TownSpec(seed=13, cameras=4, minutes=1.0, lighting="day", decoys=3, couriers=0, crowd=0.8),
            "설명과 일치하는 용의자를 닮은 사람들과 구별하여 이동 경로를 찾으시오.",
            "Tell the suspect from the look-alikes and find the suspect's route.",
        ),
        Scenario(
            "suspect-drives",
            "차량에 탑승한 용의자",
            "The suspect drives off",
            TownSpec(
                seed=14,
                cameras=4,
                minutes=1.0,
                lighting="day",
                couriers=0,
                crowd=0.6,
                suspect_drives=True,
                plate_cameras=2,
            ),
            "용의자는 어디에서 어떤 차량에 탔으며(번호판), 그 차량은 어느 카메라를 지나갔는가?",
            "Where did the suspect get into which vehicle (plate), and which cameras did it pass?",
        ),
    )
}


def scenario(
    name: str, out_dir: str | Path, progress: Progress | None = None, seed: int | None = None
) -> Path:
    """Render scenario `name` into out_dir (a town folder plus answer.json); returns the folder."""
    if name not in SCENARIOS:
        raise InputError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIOS)}")
    sc = SCENARIOS[name]
    spec = replace(sc.spec) if seed is None else replace(sc.spec, seed=seed)
    out, _meta = generate_town(spec, out_dir, progress)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    answer: dict = {
        "scenario": name,
        "title_ko": sc.title_ko,
        "title_en": sc.title_en,
        "question_ko": sc.question_ko,
        "question_en": sc.question_en,
    }
    if name in ("mailbox-night", "courier-stops"):
        answer["answer"] = [
            {
                "courier": c["id"],
                "camera": e["camera"],
                "zone": e["zone"],
                "spot_kind": e["spot_kind"],
                "start": e["start"],
                "end": e["end"],
                "photo": e["photo"],
            }
            for c in truth["couriers"]
            for e in c["events"]
        ]
    elif name == "suspect-drives":
        sid = truth["suspect"]["id"]
        car = next((v for v in truth["vehicles"].values() if sid in v["riders"]), None)
        if car is None:
            raise InputError(
                f"seed {spec.seed}: the suspect's walk passes no kerb to park a car at; try another"
            )
        answer["answer"] = {
            "suspect": sid,
            "description_ko": truth["suspect"]["description_ko"],
            "route": [
                {"camera": v["camera"], "start": v["start"], "end": v["end"]}
                for v in truth["suspect"]["route"]
            ],
            "vehicle": {
                "id": car["id"],
                "type": car["type"],
                "color": car["color"],
                "plate": car["plate"],
                "boarding": car["boarding"],
                "route": [
                    {"camera": v["camera"], "start": v["start"], "end": v["end"]}
                    for v in car["route"]["visits"]
                ],
            },
        }
    else:
        answer["answer"] = {
            "suspect": truth["suspect"]["id"],
            "description_ko": truth["suspect"]["description_ko"],
            "route": [
                {"camera": v["camera"], "start": v["start"], "end": v["end"]}
                for v in truth["suspect"]["route"]
            ],
            "decoys": truth["decoys"],
        }
    (out / "answer.json").write_text(json.dumps(answer, ensure_ascii=False, indent=1), encoding="utf-8")
    return out
