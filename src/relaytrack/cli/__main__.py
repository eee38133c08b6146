"""`python -m relaytrack.cli ...` runs the `relaytrack` command."""

from relaytrack.cli import main

main()
