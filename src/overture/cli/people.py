"""`overture people ...`: (being written)."""

from __future__ import annotations

import click


@click.group("people")
def people_group() -> None:
    """People and companies: import from CSV, export or delete one person's data."""
