"""Imports run one way: the edges (cli, bench, demo, service) import the stages, never the reverse; the store
calls up into no layer (the evidence layer hooks into it)."""

import ast
from pathlib import Path

import relaytrack
from relaytrack.store import Store, on_commit
from relaytrack.store import db as store_db

PKG = Path(relaytrack.__file__).parent
EDGES = ("relaytrack.cli", "relaytrack.bench", "relaytrack.demo", "relaytrack.service")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_no_stage_imports_an_edge():
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        mod = _module(path)
        if _is(mod, EDGES):
            continue
        bad += [f"{mod} -> {imp}" for imp in sorted(_imports(path)) if _is(imp, EDGES)]
    assert not bad, bad


def test_store_imports_no_layer_above_it():
    bad = []
    for path in sorted((PKG / "store").rglob("*.py")):
        bad += [f"{_module(path)} -> {imp}" for imp in sorted(_imports(path))
                if imp.startswith("relaytrack.") and not _is(imp, ("relaytrack.store", "relaytrack.errors",
                                                                  "relaytrack.paths", "relaytrack.records",
                                                                  "relaytrack.config"))]
    assert not bad, bad


def test_commit_hooks_run_after_each_transaction(tmp_path):
    seen = []

    def hook(store):
        seen.append(store.conn.in_transaction)

    on_commit(hook)
    on_commit(hook)  # registered once
    try:
        with Store(tmp_path / "s.db") as store:
            with store.tx() as conn:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('k', 'v')")
        assert seen == [False]
    finally:
        store_db._COMMIT_HOOKS.remove(hook)
