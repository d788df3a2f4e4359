"""`overture targeting ...`: ask why a dialogue would or would not show."""

from __future__ import annotations

import click
from sqlalchemy import select

from overture.cli.common import console, fail, migrated_database, settings_or_exit
from overture.cli.tables import print_table
from overture.db import utcnow
from overture.errors import OvertureError
from overture.people.models import Person
from overture.sites.demo import demo_pages
from overture.visits.explain import explain
from overture.visits.schemas import parsable_url
from overture.visits.selector_cache import SelectorCache


@click.group("targeting")
def targeting_group() -> None:
    """Targeting: which dialogue shows to whom, on which page."""


@targeting_group.command("explain")
@click.option("--url", required=True, help="The page's full URL, e.g. https://www.example.com/pricing.")
@click.option("--person", "person_id", type=click.IntRange(1), help="The person's id (from the People page).")
@click.option("--email", help="Or the person's email.")
@click.option("--site", help="The site's key. Default: the site whose allowed origins hold the URL.")
def explain_command(url: str, person_id: int | None, email: str | None, site: str | None) -> None:
    """Say which published dialogue the person would see on URL, and why each other one would not.

    Without --person or --email, explains for a new anonymous visitor. Nothing is recorded.
    """
    if not url.lower().startswith(("http://", "https://")):
        fail(f"--url must be a full http(s) address, not '{url}'.")
    try:
        url = parsable_url(url)
    except ValueError as exc:
        fail(f"--url cannot be read: {exc}.")
    settings = settings_or_exit()
    db = migrated_database(settings)
    try:
        with db.engine.connect() as connection:
            if email:
                found = connection.scalar(select(Person.id).where(Person.email == email.strip().lower()))
                if found is None:
                    fail(f"no person has the email {email}.")
                person_id = found
            explained = explain(connection, SelectorCache(), url=url, person_id=person_id, site=site, now=utcnow(),
                                embedded=demo_pages(settings.base_url))  # fmt: skip
    except OvertureError as exc:
        fail(exc.message)
    finally:
        db.dispose()
    who = f"person {explained.person_id}" if explained.person_id else "a new anonymous visitor"
    console.print(f"{explained.url} on site [bold]{explained.site or '(none: no site allows it)'}[/] for {who}:")
    columns = ("Dialogue", "Site", "Shown", "Why")
    rows = [(v.key, v.site, "yes" if v.shown else "no", v.reason) for v in explained.verdicts]
    print_table(console, columns, rows)
    if explained.continuing:
        console.print(f"The visitor's engaged conversation with {explained.continuing} goes on instead.")
    elif not any(verdict.shown for verdict in explained.verdicts):
        console.print("No dialogue would show.")
