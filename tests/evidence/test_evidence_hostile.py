"""Hostile input: refused with a clear error, logged, and nothing stored changed."""

import hashlib
import json

import pytest
from typer.testing import CliRunner

from relaytrack.cli import app
from relaytrack.errors import InputError
from relaytrack.evidence import access as acc
from relaytrack.evidence.guard import check_name, check_text, check_upload, safe_join

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100


def _snapshot(store):
    """Digest of every non-audit table's content."""
    out = {}
    for (name,) in store.query(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '%audit%'"
        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'vec_%' ORDER BY name"
    ):
        h = hashlib.sha256()
        for row in store.query(f'SELECT * FROM "{name}" ORDER BY 1'):
            h.update(repr(tuple(row)).encode())
        out[name] = h.hexdigest()[:16]
    return out


@pytest.mark.parametrize(
    "name",
    [
        "robert'); DROP TABLE users;--",
        "<script>x</script>",
        "a b",
        "",
        "..",
        "a/b",
        "x" * 65,
        "user\x00",
        'ann"',
        "semi;colon",
    ],
)
def test_bad_names_refused(store, name):
    before = _snapshot(store)
    with pytest.raises(InputError, match="not allowed"):
        acc.create_user(store.conn, name, "investigator")
    with pytest.raises(InputError, match="not allowed"):
        acc.create_case(store.conn, name, legal_basis="w", purpose="p")
    assert _snapshot(store) == before


@pytest.mark.parametrize("name", ["kim", "DEMO-0001", "2026-형제-1234", "police.seoul", "a@b"])
def test_good_names_pass(name):
    assert check_name(name, "name") == name


@pytest.mark.parametrize(
    "text",
    [
        "red'; DROP TABLE sightings;--",
        "x' OR '1'='1",
        "1 UNION SELECT password_hash",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "a\x00b",
        "z" * 600,
        "   ",
    ],
)
def test_bad_text_refused_and_logged(store, text):
    n = store.one("SELECT COUNT(*) FROM audit_log")[0]
    with pytest.raises(InputError, match="refused"):
        check_text(
            text, "query", conn=store.conn, db_path=store.path, user="kim", case="C-1", action="search"
        )
    row = store.one("SELECT outcome, action FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert tuple(row) == ("denied", "search") and store.one("SELECT COUNT(*) FROM audit_log")[0] == n + 1


@pytest.mark.parametrize(
    "text",
    [
        "빨간 상의, 검정 바지, 백팩",
        "man in a red jacket with a grey backpack",
        "tall person, 20-30s, blue cap",
    ],
)
def test_ordinary_queries_pass(text):
    assert check_text(text, "query") == text


def test_upload_limits(store):
    assert check_upload(JPEG, 1000) == JPEG
    with pytest.raises(InputError, match="limit"):
        check_upload(
            JPEG + b"\0" * 2000, 1000, conn=store.conn, db_path=store.path, user="kim", action="search"
        )
    with pytest.raises(InputError, match="not a jpeg or png"):
        check_upload(b"GIF89a" + b"\0" * 10, 1000)
    with pytest.raises(InputError, match="empty"):
        check_upload(b"", 1000)
    assert store.one("SELECT detail FROM audit_log ORDER BY seq DESC LIMIT 1")[0].count("limit") >= 1


def test_safe_join(tmp_path):
    assert safe_join(tmp_path, "pkg-1") == tmp_path.resolve() / "pkg-1"
    (tmp_path / "link").symlink_to("/")
    for bad in ("../x", "/etc", "a/../../x", "link/etc", "C:\\x", ""):
        with pytest.raises(InputError):
            safe_join(tmp_path, bad)


def test_cli_refusals_leave_store_unchanged(store, tmp_path):
    store.close()
    db = store.url
    runner = CliRunner()
    from relaytrack.store import Store

    with Store(db) as s:
        before = _snapshot(s)
    cases = [
        ["users", "add", "x'; DROP TABLE users;--", "--role", "investigator", "--db", db],
        ["users", "add", "mallory", "--role", "god", "--db", db],
        ["cases", "add", "C<9>", "--basis", "w", "--purpose", "p", "--db", db],
        [
            "evidence",
            "export",
            "--sightings",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--user",
            "op",
            "--case",
            "C-1",
            "--db",
            db,
        ],
        ["evidence", "export", "--sightings", "1", "--out", str(tmp_path / "o"), "--user", "kim", "--db", db],
        ["requests", "stats", "--user", "kim", "--db", db],
        ["audit", "export", "--case", "C-2", "--user", "kim", "--db", db],
        ["retention", "purge", "--user", "aud", "--db", db],
    ]
    for argv in cases:
        r = runner.invoke(app, argv)
        assert r.exit_code != 0, argv
    with Store(db) as s:
        assert _snapshot(s) == before
        assert s.one("SELECT COUNT(*) FROM audit_log WHERE outcome='denied'")[0] >= 5
    assert not (tmp_path / "o").exists()


def test_cli_audit_export_for_member_and_auditor(store, tmp_path):
    from relaytrack.store import Store

    store.close()
    db = store.url
    r = CliRunner().invoke(app, ["audit", "export", "--case", "C-1", "--user", "kim", "--db", db])
    assert r.exit_code == 0 and '"case": "C-1"' in r.output
    out = tmp_path / "a.json"
    # An auditor reads the trails of the cases assigned to them only.
    r = CliRunner().invoke(
        app, ["audit", "export", "--case", "C-2", "--user", "aud", "--db", db, "--out", str(out)]
    )
    assert r.exit_code != 0 and not out.exists()
    with Store(db) as s, s.tx() as conn:
        acc.assign(conn, "C-2", "aud")
    r = CliRunner().invoke(
        app, ["audit", "export", "--case", "C-2", "--user", "aud", "--db", db, "--out", str(out)]
    )
    assert r.exit_code == 0 and '"chain_ok": true' in out.read_text()
    # one clock: the export's times are Seoul time; --lang ko says in Korean who did what on which case
    r = CliRunner().invoke(
        app,
        ["--lang", "ko", "audit", "export", "--case", "C-2", "--user", "aud", "--db", db, "--out", str(out)],
    )
    entries = json.loads(out.read_text())["entries"]
    assert r.exit_code == 0 and entries and all(e["time"].endswith("+09:00") for e in entries)
    assert all("사건 C-2에서" in e["summary"] for e in entries)
