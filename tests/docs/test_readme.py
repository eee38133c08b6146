"""Every CLI command is documented in the README, and the README opens with the two commands."""

import re
from pathlib import Path

import typer.main

from relaytrack.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(cmd, prefix):
    subs = getattr(cmd, "commands", None)
    if not subs:
        yield prefix
        return
    for name, sub in subs.items():
        yield from _commands(sub, [*prefix, name])


def test_every_command_is_documented():
    missing = []
    for path in _commands(typer.main.get_command(app), []):
        *group, last = path
        pattern = r"relaytrack " + "".join(re.escape(g) + " " for g in group)
        pattern += r"(?:[\w-]+\|)*" + re.escape(last) + r"(?![\w-])"
        if not re.search(pattern, README):
            missing.append("relaytrack " + " ".join(path))
    assert not missing, f"undocumented commands: {missing}"


def test_readme_opens_with_the_two_commands():
    block = README.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].startswith("./bootstrap.sh demo") and block[1].startswith("./bootstrap.sh test")
