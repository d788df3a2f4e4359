"""A bulk export's CSV file as a stream of row batches, each with the byte offset just after its last row.

The file comes in chunks (byte ranges, `bulk.LeadExports.lead_export_file`) and may be far larger than memory, so
it is never held whole: at most one chunk and the rows not yet handed over are. Rows are cut in the bytes, not in
decoded text, because the checkpoint is a byte offset the download resumes from: a row ends at a newline outside
quotes (an even count of `"` since the row began; a doubled `""` inside a quoted value keeps the count even), and a
newline byte is never part of a multi-byte UTF-8 character, so every cut is on a character boundary. A row split
across two chunks waits for the rest of it. Each batch's bytes are then decoded and read by the `csv` module, which
handles quoting, delimiters in values and new lines inside quoted values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from overture.integrations.marketo.errors import MalformedAnswer

NULL = "null"  # how a bulk file writes an empty value
FILE_ENDPOINT = "the bulk lead export's file"


@dataclass(frozen=True)
class RowBatch:
    """Rows of the file (field to value, None where empty) and the byte offset just after the last of them."""

    rows: list[dict[str, str | None]]
    end: int


def _row_ends(data: bytes) -> Iterator[int]:
    """The offsets just after each complete row of `data` (which starts at a row's first byte)."""
    cursor = 0
    quotes = 0
    for piece in data.split(b"\n")[:-1]:
        cursor += len(piece) + 1
        quotes += piece.count(b'"')
        if quotes % 2 == 0:
            yield cursor
            quotes = 0


def _parse(data: bytes, fields: Sequence[str], first_line: int) -> list[dict[str, str | None]]:
    """The rows of `data` (complete rows) as dicts. Raises `MalformedAnswer` for text that is not UTF-8 or a row
    with another number of values than the header."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedAnswer(FILE_ENDPOINT, f"bytes near row {first_line} are not UTF-8") from None
    rows: list[dict[str, str | None]] = []
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=first_line):
        if not cells:
            continue
        if len(cells) != len(fields):
            raise MalformedAnswer(FILE_ENDPOINT, f"row {number} has {len(cells)} values for {len(fields)} columns")
        rows.append({name: (None if cell in (NULL, "") else cell) for name, cell in zip(fields, cells, strict=True)})
    return rows


def row_batches(chunks: Iterable[bytes], fields: Sequence[str], *, offset: int, size: int) -> Iterator[RowBatch]:
    """The rows of a file whose `chunks` start at byte `offset`, in batches of at most `size` rows. At offset 0
    the first row is the header: it must name `fields` in order (the export's fields; a resumed download does not
    see the header again). Raises `MalformedAnswer` for a header that does not match or a malformed row."""
    pending = b""
    base = offset  # the file offset of pending's first byte
    header_seen = offset > 0
    rows_seen = 0
    for chunk in chunks:
        data = pending + chunk
        start = 0
        count = 0
        for end in _row_ends(data):
            if not header_seen:
                header = data[start:end].decode("utf-8", "replace").lstrip("\ufeff").strip()
                found = next(csv.reader([header]), [])
                if found != list(fields):
                    raise MalformedAnswer(FILE_ENDPOINT, f"its header names {found[:5]!r}, not {list(fields)[:5]!r}")
                header_seen = True
                start = end
                continue
            count += 1
            if count == size:
                rows = _parse(data[start:end], fields, rows_seen + 1)
                rows_seen += len(rows)
                yield RowBatch(rows, base + end)
                start, count = end, 0
        pending = data[start:]
        base += start
    if pending.strip() and header_seen:
        # The last row may end without a newline (a file of a header alone has no rows).
        rows = _parse(pending, fields, rows_seen + 1)
        yield RowBatch(rows, base + len(pending))
