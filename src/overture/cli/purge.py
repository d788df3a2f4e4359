"""`overture purge [--dry-run]`: delete what is older than its retention window now, as the daily job does."""

from __future__ import annotations

from datetime import datetime

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from overture.analytics import retention
from overture.cli.common import console, errors, migrated_database, settings_or_exit
from overture.cli.tables import print_table
from overture.db import Database, utcnow


def _when(cutoff: datetime | None) -> str:
    return f"{cutoff:%Y-%m-%d %H:%M} UTC" if cutoff is not None else "kept for ever"


def _window(days: int, months: int) -> str:
    raw = f"{days} days" if days else "for ever"
    outcomes = f"{months} months" if months else "for ever"
    return f"Raw data is kept {raw}, outcomes {outcomes}."


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted, by kind; delete nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete the data older than its retention window, as the daily job does, and print what went by kind.

    Raw data (activities other than goals, meetings and email captures; page views; the transcripts of anonymous
    visitors) goes after OVERTURE_RAW_DATA_RETENTION_DAYS (90); goal, meeting and email-capture activities after
    OVERTURE_OUTCOME_RETENTION_MONTHS (24). People, companies, meetings and program memberships are never purged.
    Rows are deleted in small batches, each its own transaction: the service keeps running meanwhile.
    """
    settings = settings_or_exit()
    db = migrated_database(settings)
    windows = retention.Windows.of(settings)
    now = utcnow()
    try:
        with db.read() as session:
            planned = retention.plan(session, windows, now)
        console.print(_window(settings.raw_data_retention_days, settings.outcome_retention_months))
        print_table(
            console,
            ("Kind", "Older than", "Rows" if dry_run else "Rows to delete"),
            [(item.kind.name, _when(item.cutoff), str(item.count)) for item in planned],
        )
        if dry_run:
            console.print("Dry run: nothing was deleted.")
            return
        if not any(item.count for item in planned):
            console.print("Nothing to delete.")
            return
        deleted = _purge_with_progress(db, windows, now, planned)
    finally:
        db.dispose()
    counts = ", ".join(f"{name} {count}" for name, count in deleted.items())
    console.print(f"Deleted {sum(deleted.values())} rows ({counts}).")


def _purge_with_progress(
    db: Database, windows: retention.Windows, now: datetime, planned: list[retention.Planned]
) -> dict[str, int]:
    """The purge with a bar per kind on stderr (each batch moves it), gone once done."""
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )
    tasks: dict[str, TaskID] = {
        item.kind.name: progress.add_task(item.kind.name, total=item.count) for item in planned if item.count
    }

    def advance(kind: retention.Kind, done: int) -> None:
        task = tasks.get(kind.name)
        if task is not None:
            progress.update(task, completed=done)

    with progress:
        return retention.purge(db, windows, now, progress=advance)
