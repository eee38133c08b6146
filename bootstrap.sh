#!/usr/bin/env bash
# One entry point for a fresh machine: builds .venv at the repository root (once), then runs
#   ./bootstrap.sh demo [ARGS]  - the main job end to end on embedded defaults
#   ./bootstrap.sh test [ARGS]  - the test suite
#   ./bootstrap.sh install      - only the install
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
cmd="${1:-demo}"; shift || true
# The demo needs the package; the tests also need the dev extra (pytest, ruff, browser and fuzz tools, ray).
if [ "$cmd" = "test" ]; then target='.[dev]'; stamp=.venv/.relaytrack-installed-dev; else target='.'; stamp=.venv/.relaytrack-installed; fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -c constraints.txt -e "$target"
  touch "$stamp"
  [ "$target" = '.[dev]' ] && touch .venv/.relaytrack-installed
fi
case "$cmd" in
  demo) exec .venv/bin/relaytrack demo "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  install) echo "installed: .venv/bin/relaytrack" ;;
  *) exec .venv/bin/relaytrack "$cmd" "$@" ;;
esac
