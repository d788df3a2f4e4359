"""`overture people ...`: import people and companies from CSV; export or delete one person's data (privacy)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import structlog
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.cli.common import console, errors, fail, with_session
from overture.db import load_models, utcnow
from overture.errors import NotFound
from overture.logs import configure_logging
from overture.people import privacy
from overture.people.importing import KINDS, ImportOptions, ImportReport, import_csv
from overture.people.models import Person
from overture.settings import Settings

ACTOR = "cli"
# Files with fewer rows finish before a progress bar would be worth drawing.
PROGRESS_FROM_ROWS = 500


@contextlib.contextmanager
def audit_log(settings: Settings) -> Iterator[None]:
    """Privacy actions write a log line: configured as the server's, but on stderr so that JSON on stdout stays
    clean. The previous configuration comes back afterwards (tests run commands inside one process)."""
    before = structlog.get_config()
    configure_logging(settings)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        yield
    finally:
        structlog.configure(**before)


def parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, equals, name = pair.rpartition("=")
        if not equals or not column.strip():
            fail(f'--map "{pair}" should be COLUMN=FIELD, like --map "E-mail address=person.email".')
        mapping[column.strip()] = name.strip()
    return mapping


@click.group("people")
def people_group() -> None:
    """People and companies: import from CSV, export or delete one person's data."""


@people_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What each row is: a person or a company.")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Import COLUMN into FIELD (a dotted field name); COLUMN= ignores the column. Repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report the bad ones; write nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Write nothing if any row is bad (default: import the good rows).")
@click.option("--ignore-unknown", is_flag=True, help="Skip columns that are not fields instead of refusing the file.")
@click.option("--region", metavar="CC", help="Country of phone numbers written without a country code, e.g. US.")
def import_command(
    file: Path,
    kind: str,
    pairs: tuple[str, ...],
    dry_run: bool,
    all_or_nothing: bool,
    ignore_unknown: bool,
    region: str | None,
) -> None:
    """Create or update people (matched by email) or companies (matched by domain) from a CSV FILE.

    The file is UTF-8 (a BOM is fine), its delimiter a comma or a semicolon. The first line names the columns: a
    field's name (person.email), its short name (email) or its label (Email) maps itself, in any case; --map maps
    any other column. A column that is no field refuses the file, unless --ignore-unknown. Empty cells leave a field
    as it is. People need an email, companies a domain; a person's row may name their company (company.domain,
    company.name) and set company fields; company.owner is the email of an active user.

    Every bad row is listed with its line number (the header is line 1) and why. Exit status 1 when any row was bad.
    """
    options = ImportOptions(
        kind="person" if kind == "person" else "company",
        mapping=parse_mapping(pairs),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        ignore_unknown=ignore_unknown,
        region=region,
    )
    content = file.read_bytes()

    def run(session: Session, _settings: Settings) -> ImportReport:
        progress = Progress(
            TextColumn("Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
        )
        task = progress.add_task("rows", total=None)

        def advance(done: int, total: int) -> None:
            if done == 1 and total >= PROGRESS_FROM_ROWS:
                progress.start()
            progress.update(task, completed=done, total=total)

        try:
            return import_csv(session, content, options, utcnow(), advance)
        finally:
            progress.stop()

    report: ImportReport = with_session(run)
    print_report(report)
    if report.bad:
        raise SystemExit(1)


def print_report(report: ImportReport) -> None:
    for column, reason in report.ignored.items():
        console.print(f"Ignored column '{column}': {reason}")
    for problem in report.problems:
        console.print(f"[red]✗[/] {problem}")
    if report.dry_run:
        note = " (dry run: nothing was written)"
    elif not report.written:
        note = " (--all-or-nothing: nothing was written; fix the bad rows and import the file again)"
    else:
        note = ""
    console.print(f"{report.summary()}{note}")


def person_id_of(session: Session, email: str | None, person_id: int | None) -> int:
    if person_id is not None:
        return person_id
    assert email is not None
    found = session.scalar(select(Person.id).where(Person.email == email.strip().lower()))
    if found is None:
        raise NotFound(f"There is no person with the email {email}.")
    return found


def one_person(email: str | None, person_id: int | None) -> None:
    if (email is None) == (person_id is None):
        fail("name one person: --email EMAIL or --id ID")


@people_group.command(name="export")
@click.option("--email", help="The person's email.")
@click.option("--id", "person_id", type=int, help="The person's id.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON to this file (default: stdout)."
)
def export_command(email: str | None, person_id: int | None, output: Path | None) -> None:
    """Export everything Overture holds about one person as JSON: fields, company, visitor ids, page views,
    conversations with their transcripts, activities, merges. The export is recorded in the privacy log."""
    one_person(email, person_id)
    load_models()  # privacy sees every table that points at a person

    def run(session: Session, settings: Settings) -> dict[str, Any]:
        with audit_log(settings):
            return privacy.export_person(session, person_id_of(session, email, person_id), ACTOR, utcnow())

    data = with_session(run)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote the data of person {data['person']['id']} to {output}.")


@people_group.command(name="delete")
@click.option("--email", help="The person's email.")
@click.option("--id", "person_id", type=int, help="The person's id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(email: str | None, person_id: int | None, yes: bool) -> None:
    """Delete one person and all their data (page views, visitor ids, merges). Conversations and activities stay
    for reports, anonymised: no person, no transcript, no answers. The company stays. The deletion is recorded in
    the privacy log (with the email's SHA-256, not the email)."""
    one_person(email, person_id)
    load_models()  # privacy sees every table that points at a person
    who = f"the person with the email {email}" if email else f"person {person_id}"
    if not yes and not click.confirm(f"Delete {who} and all their data? This cannot be undone", default=False):
        fail("nothing was deleted.")

    def run(session: Session, settings: Settings) -> privacy.DeletionReport:
        with audit_log(settings):
            return privacy.delete_person(session, person_id_of(session, email, person_id), ACTOR, utcnow())

    report: privacy.DeletionReport = with_session(run)
    console.print(f"Deleted person {report.person_id}.")
    for table, count in sorted(report.deleted.items()):
        console.print(f"  deleted    {table}: {count}")
    for table, count in sorted(report.anonymised.items()):
        console.print(f"  anonymised {table}: {count}")
