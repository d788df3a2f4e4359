"""Tables the commands print: boxed for a person at a terminal, plain columns when piped, never a value cut short.

An email, a key or a URL cut to "admin@example…" cannot be copied or grepped, and one folded over two lines cannot
be copied either. So a boxed table is drawn only in a terminal wide enough for every row on one line; otherwise,
and whenever the output is piped, the rows are plain columns padded with spaces, one line per row (the terminal
wraps what it must), with no box drawing and no colour.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


def print_table(console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Prints `rows` (plain strings, no markup) under `headers`, each value whole."""
    if console.is_terminal:
        table = Table(*headers)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        unbounded = console.options.update_width(sys.maxsize)  # measured against the terminal, not within it
        if Measurement.get(console, unbounded, table).maximum <= console.width:
            console.print(table)
            return
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    for line in (headers, *rows):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        console.out("  ".join(cells).rstrip(), highlight=False)
