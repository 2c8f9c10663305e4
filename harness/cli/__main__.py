"""``python -m harness.cli``: the harness command."""

from harness.cli.app import main

main()
