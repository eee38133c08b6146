"""One clock (issue 19): every timestamp a person or a court reads in an evidence package and in the audit
export is Seoul time with its offset, whatever the host's zone; none is UTC ("Z", "+00:00") or naive."""

from __future__ import annotations

import json
import re

from test_evidence_export import NO_MODELS, footage, sids  # noqa: F401 (fixtures)
from typer.testing import CliRunner

from relaytrack.evidence.export import export_evidence, hops_from_sightings

ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")


def _timestamps(doc, path="$"):
    """(json path, text) of every string in `doc` that is an ISO date-time."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _timestamps(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _timestamps(v, f"{path}[{i}]")
    elif isinstance(doc, str) and ISO.fullmatch(doc):
        yield path, doc


def _not_seoul(doc) -> list[tuple[str, str]]:
    return [(p, t) for p, t in _timestamps(doc) if not t.endswith("+09:00")]


def test_the_scanner_catches_utc_and_naive_times():
    doc = {"a": "2026-12-05T09:00:00+09:00", "b": ["2026-12-05T00:00:00Z"], "c": {"d": "2026-12-05 00:00:00"}}
    assert [p for p, _ in _not_seoul(doc)] == ["$.b[0]", "$.c.d"]


def test_package_and_audit_export_speak_seoul_time(store, sids, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TZ", "UTC")  # a host in another zone must not leak its clock
    res = export_evidence(
        store, tmp_path / "pkg", hops_from_sightings(store.conn, [sids[0]]), user="kim", case="C-1",
        pre_roll=0, post_roll=0, settings=NO_MODELS,
    )  # fmt: skip
    seen = 0
    for f in sorted(res.path.rglob("*.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))
        seen += sum(1 for _ in _timestamps(doc))
        assert not _not_seoul(doc), (f.name, _not_seoul(doc)[:3])
    custody = json.loads((res.path / "custody.json").read_text(encoding="utf-8"))
    # Each epoch a reader meets has its Seoul time beside it.
    assert custody["events"][0]["at_time"].endswith("+09:00")
    assert custody["sources"][0]["start_time"].endswith("+09:00")
    assert seen >= 3
    from relaytrack.cli import app

    store.close()
    out = CliRunner().invoke(app, ["audit", "export", "--case", "C-1", "--user", "kim", "--db", store.url])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert any(True for _ in _timestamps(doc["entries"]))
    assert not _not_seoul(doc), _not_seoul(doc)[:3]
