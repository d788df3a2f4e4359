"""`python -m overture` is the `overture` command."""

from overture.cli import main

main()
