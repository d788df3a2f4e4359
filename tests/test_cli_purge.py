"""`overture purge [--dry-run]` on a moved clock: what goes, by kind, with its cut-off; a dry run deletes nothing;
the windows come from the settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result

from analytics.retention_rows import EVERYTHING, OUTCOMES, THEN, left, make_rows
from overture.cli import main
from overture.db import Database


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")}


def lines(result: Result) -> list[str]:
    return [" ".join(line.split()) for line in result.output.splitlines()]


def test_the_dry_run_prints_each_kind_with_its_cut_off_and_deletes_nothing(env: dict[str, str], db: Database) -> None:
    make_rows(db)
    with time_machine.travel(THEN + timedelta(days=91), tick=False):
        result = run(env, "purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert lines(result) == [
        "Raw data is kept 90 days, outcomes 24 months.",
        "Kind Older than Rows",
        "activities 2025-01-11 12:00 UTC 4",
        "page views 2025-01-11 12:00 UTC 1",
        "anonymous transcripts 2025-01-11 12:00 UTC 2",
        "outcome activities 2023-04-11 12:00 UTC 0",
        "report rollups 2023-04-11 12:00 UTC 0",
        "Dry run: nothing was deleted.",
    ]
    assert left(db) == EVERYTHING


def test_purge_deletes_what_is_older_than_its_window_and_says_how_much(env: dict[str, str], db: Database) -> None:
    make_rows(db)
    with time_machine.travel(THEN + timedelta(days=89), tick=False):
        kept = run(env, "purge")
    assert lines(kept)[-1] == "Nothing to delete."
    with time_machine.travel(THEN + timedelta(days=91), tick=False):
        result = run(env, "purge")
    assert result.exit_code == 0, result.output
    assert lines(result)[-1] == (
        "Deleted 7 rows (activities 4, page views 1, anonymous transcripts 2, outcome activities 0, report rollups 0)."
    )
    assert left(db).activities == OUTCOMES


def test_the_windows_are_settings(env: dict[str, str], db: Database) -> None:
    make_rows(db)
    settings = {"OVERTURE_RAW_DATA_RETENTION_DAYS": "7", "OVERTURE_OUTCOME_RETENTION_MONTHS": "0"}
    with time_machine.travel(THEN + timedelta(days=8), tick=False):
        result = run({**env, **settings}, "purge")
    assert lines(result)[:2] == ["Raw data is kept 7 days, outcomes for ever.", "Kind Older than Rows to delete"]
    assert "outcome activities kept for ever 0" in lines(result)
    assert left(db).activities == OUTCOMES


def test_a_bad_window_stops_the_command_with_one_line(env: dict[str, str], db: Database) -> None:
    result = CliRunner().invoke(main, ["purge"], env={**env, "OVERTURE_OUTCOME_RETENTION_MONTHS": "1"})
    assert result.exit_code == 2
    assert "OVERTURE_OUTCOME_RETENTION_MONTHS: 1 month is shorter than" in result.output
