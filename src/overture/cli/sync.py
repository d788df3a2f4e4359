"""`overture sync marketo [--full]`: run the Marketo inbound sync now on the stored connection (the Integrations
page, `overture integrations marketo connect`), with a progress bar and a summary. One run at a time: the periodic
job and this command share the sync's lock (integrations/marketo/sync_run.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from overture.cli.common import console, errors, fail, migrated_database, settings_or_exit
from overture.errors import OvertureError
from overture.integrations.marketo import sync_run
from overture.integrations.marketo.leads_import import Counts
from overture.integrations.marketo.sync import DEFAULT_START, Summary
from overture.integrations.world import integration_world
from overture.settings import resolve_secret_key

SHOWN_REASONS = 10


@click.group("sync")
def sync_group() -> None:
    """Bring records in from the systems Overture is connected to."""


def _start(value: str | None) -> datetime:
    if value is None:
        return DEFAULT_START
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2006-01-01.", param_hint="--since") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@sync_group.command("marketo")
@click.option("--full", is_flag=True, help="Read every lead again from --since (nothing is created twice).")
@click.option("--since", default=None, help="The first createdAt of the initial sync [default: 2006-01-01].")
def sync_marketo_command(full: bool, since: str | None) -> None:
    """Sync Marketo leads and companies into people and companies now, as the periodic job does, on the stored
    connection and its field mapping. Exits 1 when Marketo is not connected or another sync is running.

    The first run reads every lead through Marketo's bulk export (31 days of leads at a time) and then the
    companies they name; later runs read the lead changes since the last one. A run stopped anywhere (even
    killed, or by a disconnect) resumes where it stopped. Prints created, updated and skipped records, with the
    reasons.
    """
    start = _start(since)
    settings = settings_or_exit()
    db = migrated_database(settings)
    world = integration_world(settings, resolve_secret_key(settings))
    bar = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}
    began: dict[str, datetime] = {}

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total, rate="")
            began[phase] = datetime.now(UTC)
        seconds = (datetime.now(UTC) - began[phase]).total_seconds()
        rate = f"{done / seconds:,.0f}/s" if seconds > 0 else ""
        bar.update(tasks[phase], completed=done, total=total, rate=rate)

    try:
        with bar:
            summary = sync_run.run(db, world, full=full, start=start, progress=progress)
    except OvertureError as exc:
        fail(exc.message)
    finally:
        world.close()
        db.dispose()
    _print_summary(summary)


def _line(kind: str, counts: Counts) -> str:
    return (
        f"{kind}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged, "
        f"{counts.skipped} skipped."
    )


def _print_summary(summary: Summary) -> None:
    console.print(_line("Leads", summary.leads))
    console.print(_line("Companies", summary.companies))
    console.print(f"Lead changes applied: {summary.changes}.")
    console.print(
        f"Marketo activities recorded: {summary.activities.recorded} "
        f"({summary.activities.not_a_person} of leads that are not people here left out)."
    )
    skips = [("lead", *skip) for skip in summary.leads.skips] + [("company", *skip) for skip in summary.companies.skips]
    if not skips:
        return
    console.print("Skipped:")
    for kind, remote_id, reason in skips[:SHOWN_REASONS]:
        console.print(f"  {kind} {remote_id}: {reason}")
    if len(skips) > SHOWN_REASONS:
        by_field = Counter(reason.split(":", 1)[0] for _, _, reason in skips[SHOWN_REASONS:])
        more = ", ".join(f"{count} for {name}" for name, count in by_field.most_common())
        console.print(f"  and {len(skips) - SHOWN_REASONS} more ({more}).")
