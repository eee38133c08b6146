"""The relay stage's modules import one way: no two import each other (lazy imports inside functions count),
so the network, the route record and persistence sit below the search that uses them."""

import ast
from pathlib import Path

import relaytrack.relay

RELAY = Path(relaytrack.relay.__file__).parent


def _relay_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out.update(
            n.split(".")[2] for n in names if n.startswith("relaytrack.relay.") and len(n.split(".")) > 2
        )
    return out


def test_no_import_cycle_in_relay():
    graph = {p.stem: _relay_imports(p) - {p.stem} for p in RELAY.glob("*.py") if p.stem != "__init__"}
    graph = {m: {d for d in deps if d in graph} for m, deps in graph.items()}

    def reaches(a: str, b: str, seen: set[str]) -> bool:
        return any(d == b or (d not in seen and reaches(d, b, seen | {d})) for d in graph[a])

    cycles = sorted(m for m in graph if reaches(m, m, set()))
    assert not cycles, cycles
    assert "engine" not in graph["network"] and "network" not in graph["engine"]
