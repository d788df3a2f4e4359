"""A bulk file read as a stream: rows cut across chunks (inside a quoted new line, inside a multi-byte character)
come out whole, and each batch's offset is where a resumed download starts."""

from __future__ import annotations

from overture.integrations.marketo.csv_stream import row_batches

FILE = 'id,email,title\n1,a@x.io,"Head of\nGrowth"\n2,b@x.io,"Zoë ""Z"" Lead"\n3,c@x.io,null\n'.encode()
FIELDS = ["id", "email", "title"]


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def test_rows_cut_anywhere_across_chunks_come_out_whole_with_the_offset_after_each_batch() -> None:
    for size in range(1, len(FILE) + 1):
        batches = list(row_batches(chunks(FILE, size), FIELDS, offset=0, size=2))
        assert [batch.rows for batch in batches] == [
            [{"id": "1", "email": "a@x.io", "title": "Head of\nGrowth"},
             {"id": "2", "email": "b@x.io", "title": 'Zoë "Z" Lead'}],
            [{"id": "3", "email": "c@x.io", "title": None}],
        ], size  # fmt: skip
        assert [batch.end for batch in batches] == [FILE.index(b"3,c"), len(FILE)]


def test_reading_from_a_batchs_offset_gives_the_rows_after_it_without_a_header() -> None:
    offset = FILE.index(b"3,c")
    [batch] = row_batches(chunks(FILE[offset:], 4), FIELDS, offset=offset, size=2)
    assert batch.rows == [{"id": "3", "email": "c@x.io", "title": None}] and batch.end == len(FILE)
