"""`overture demo`: a demo website and a demo admin on SQLite in one process, and what the demo starts with (the
example dialogues live on the demo website, a sales team on the built-in calendar, fictional customers, and a fake
Marketo beside it for the admin to connect)."""

from __future__ import annotations

import secrets
import shutil
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from sqlalchemy.orm import Session

from overture.cli.common import (
    console,
    data_dir_or_exit,
    fail,
    port_or_exit,
    settings_or_exit,
)
from overture.db import Database, migrate, utcnow

if TYPE_CHECKING:
    from overture.integrations.marketo.fake import FakeMarketo

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_DATA_DIR = Path("overture-demo")
OUR_FILES = ("overture.db", "secret_key", "jobs.db")
# Left in the folders `overture demo` makes: --reset deletes only those (OVERTURE_DATA_DIR may name a real install).
DEMO_MARK = ".overture-demo"


def _reset_demo_folder(data_dir: Path) -> None:
    if not data_dir.exists():
        return
    contents = {path.name for path in data_dir.iterdir()}
    if contents and not contents & set(OUR_FILES):
        fail(f"{data_dir} holds files that are not Overture's; not deleting it. Choose another --data-dir.")
    # Folders of demos started before the mark existed are recognised by the default name.
    if contents and DEMO_MARK not in contents and data_dir.resolve() != DEMO_DATA_DIR.resolve():
        fail(f"{data_dir} holds data `overture demo` did not make; not deleting it. Choose another --data-dir.")
    shutil.rmtree(data_dir)


def _seed_demo(db: Database, console: Console) -> str | None:
    """Creates the demo admin on a new database; returns its password, or None when the data already existed."""
    from overture.users import service as users

    with db.write() as session:
        if users.count_users(session):
            return None
        password = secrets.token_urlsafe(12)
        users.create_user(session, DEMO_ADMIN_EMAIL, "admin", name="Demo Admin", password=password)
        seed_demo_content(session)
    return password


def seed_demo_content(session: Session) -> None:
    """What the demo starts with besides its admin: the example dialogues, live on the demo website, and a few
    people of fictional companies so the admin's People and Companies pages are not empty."""
    seed_example_dialogues(session)
    seed_demo_people(session)
    seed_demo_agents(session)


def example_dialogues_folder() -> Path | None:
    """examples/dialogues: inside the installed package, or in the source tree when installed for development."""
    for candidate in (
        Path(__file__).resolve().parents[1] / "examples" / "dialogues",
        Path(__file__).resolve().parents[3] / "examples" / "dialogues",
    ):
        if candidate.is_dir():
            return candidate
    return None


def seed_example_dialogues(session: Session) -> None:
    """Imports and publishes the example dialogues and flows (flows first), so the demo has something to show."""
    from overture.cli.dialogues import read, yaml_files
    from overture.conversations.scenarios import scenario_check
    from overture.dialogues import service as dialogues
    from overture.people.service import field_schema
    from overture.sites.models import Site

    folder = example_dialogues_folder()
    if folder is None:
        return
    # The examples belong to the demo website, served by Overture itself at /demo (its own origin is allowed).
    if session.query(Site).filter_by(key="www").one_or_none() is None:
        session.add(Site(key="www", name="Demo website", origins=[]))
        session.flush()
    for path in yaml_files((folder,)):
        loaded = read(path)
        dialogue = dialogues.create(session, loaded.data, loaded.kind, utcnow())
        dialogues.publish(session, dialogue, fields=field_schema(session), now=utcnow(), checks=[scenario_check])


# The demo's sales team: (name, email, zone). Each uses the built-in calendar, so visitors can book at once.
DEMO_AGENTS = (
    ("Rita Rep", "rita@demo.example", "Europe/London"),
    ("Sam Seller", "sam@demo.example", "Europe/Paris"),
    ("Alex Closer", "alex@demo.example", "America/New_York"),
)


def seed_demo_agents(session: Session) -> None:
    """Three agents in the "sales" rotation with the built-in calendar, working 09:00-17:00 on weekdays."""
    from overture.calendars import builtin
    from overture.calendars.models import CalendarConnection
    from overture.scheduling import rotation
    from overture.users import service as users

    team = rotation.create_team(session, "sales", "Sales")
    for name, email, zone in DEMO_AGENTS:
        agent = rotation.create_agent(session, users.create_user(session, email, "agent", name))
        agent.time_zone = zone
        session.add(CalendarConnection(agent_id=agent.id, provider=builtin.NAME, settings={}))
        rotation.add_member(session, team, agent)


# Fictional customers of the demo: (company name, domain, industry, employees, country, [(first, last, title)]).
DEMO_COMPANIES = (
    ("Northwind Freight", "northwind.example", "Logistics", 850, "GB", [("Nancy", "Davolio", "VP Sales")]),
    (
        "Globex Payments",
        "globex.example",
        "Fintech",
        240,
        "DE",
        [("Hank", "Scorpio", "CEO"), ("Frank", "Grimes", "Head of Marketing")],
    ),
    ("Initech Cloud", "initech.example", "Software", 45, "US", [("Peter", "Gibbons", "Engineering Manager")]),
    ("Soylent Foods", "soylent.example", "E-commerce", 12, "FR", [("Sol", "Roth", "Founder")]),
)


def seed_demo_people(session: Session) -> None:
    """A few known people and their companies, as a CRM import would leave them."""
    from overture.people.models import Company, CompanyDomain, Person

    now = utcnow()
    for name, domain, industry, employees, country, people in DEMO_COMPANIES:
        company = Company(name=name, domain=domain, industry=industry, employees=employees, country=country, fields={})
        session.add(company)
        session.flush()
        session.add(CompanyDomain(domain=domain, company_id=company.id))
        for first, last, title in people:
            email = f"{first.lower()}.{last.lower()}@{domain}"
            session.add(
                Person(
                    email=email,
                    first_name=first,
                    last_name=last,
                    title=title,
                    company_id=company.id,
                    fields={},
                    created_at=now,
                    last_seen_at=now,
                )
            )
    session.flush()


# The demo's fake Marketo: a small instance whose leads were all created in the last 60 days, so its initial sync
# takes two 31-day bulk windows (generated leads span two years: 24 windows, each an export to wait for).
DEMO_MARKETO_LEADS = 500
DEMO_MARKETO_COMPANIES = 40
DEMO_MARKETO_SEED = 1
DEMO_MARKETO_DAYS = 60


def demo_marketo() -> FakeMarketo:
    """A fake Marketo (client id "overture", secret "secret") holding 500 leads of 40 companies (seed 1), created
    evenly over the 60 days before now; not started."""
    from overture.integrations.marketo.fake import FakeMarketo
    from overture.integrations.marketo.fake_data import Generated

    fake = FakeMarketo(companies=DEMO_MARKETO_COMPANIES, seed=DEMO_MARKETO_SEED)
    now = fake.clock().replace(microsecond=0)
    # The fake's own companies come from the same seed and count, so each lead's externalCompanyId names one.
    people = Generated(DEMO_MARKETO_LEADS, DEMO_MARKETO_COMPANIES, DEMO_MARKETO_SEED, now)
    step = timedelta(days=DEMO_MARKETO_DAYS) / DEMO_MARKETO_LEADS
    for number in range(1, DEMO_MARKETO_LEADS + 1):
        lead = people.lead(number)
        assert lead is not None, "a generated lead exists for every id up to the count"
        created = now - timedelta(days=DEMO_MARKETO_DAYS) + step * (number - 1)
        fields = {name: value for name, value in lead.items() if name not in ("id", "email")}
        fields["createdAt"] = fields["updatedAt"] = created
        fake.add_lead(email=lead["email"], **fields)
    return fake


def start_demo_marketo() -> tuple[FakeMarketo | None, str]:
    """Starts the demo's fake Marketo on a free port of 127.0.0.1; returns it (None when it could not start) and
    the banner's line about it, which says why when it did not start."""
    try:
        fake = demo_marketo()
        url = fake.start("127.0.0.1", 0)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, f"Marketo (fake): not started ({reason}); the demo runs without it"
    line = f"Marketo (fake): {url}  client id {fake.client_id}, secret {fake.client_secret}"
    return fake, f"{line} — connect it on Integrations > Marketo"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEMO_DATA_DIR,
    show_default=True,
    envvar="OVERTURE_DATA_DIR",
    show_envvar=True,
    help="Folder for the demo's SQLite database and keys; the option wins over the variable.",
)
@click.option("--reset", is_flag=True, help="Delete the demo data and start afresh (only in a folder the demo made).")
@click.option(
    "--marketo/--no-marketo",
    default=True,
    show_default=True,
    help="Also run a fake Marketo (500 leads, 40 companies) on a free local port, to connect on Integrations.",
)
def demo(host: str, port: int, data_dir: Path, reset: bool, marketo: bool) -> None:
    """Start Overture with a demo website and a demo admin, on SQLite, in one process.

    The first start creates the data folder, migrates it, creates the admin user and prints its password once.
    Later starts keep the data; --reset starts afresh. The data folder is the one --data-dir names, else
    OVERTURE_DATA_DIR, else overture-demo in the current folder; the demo always uses SQLite there.

    A fake Marketo runs beside it (unless --no-marketo) and stops with it; the banner prints its URL, client id and
    secret. Nothing is connected to it until the admin connects it on Integrations > Marketo.
    """
    import uvicorn

    from overture.logs import configure_logging
    from overture.web.app import create_app

    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    # The fake Marketo listens on 127.0.0.1, which integrations may not reach unless the demo's settings allow it.
    reach_fake = {"integrations_private_addresses": True} if marketo else {}
    settings = settings_or_exit(data_dir=data_dir, database_url="", base_url=base_url, demo=True, **reach_fake)
    port_or_exit(host, port)
    if reset:
        _reset_demo_folder(data_dir)
    configure_logging(settings)
    data_dir_or_exit(settings)
    if not any(data_dir.iterdir()):
        (data_dir / DEMO_MARK).touch()
    db = Database.from_url(settings.database_url)
    with console.status("Preparing the demo database..."):
        migrate(db.engine)
        password = _seed_demo(db, console)
    db.dispose()
    fake, marketo_line = start_demo_marketo() if marketo else (None, "")

    console.rule("[bold]Overture demo")
    console.print(f"Demo website:  {base_url}/demo")
    console.print(f"Admin:         {base_url}/admin")
    if password:
        console.print(f"Sign in as     [bold]{DEMO_ADMIN_EMAIL}[/] with the password [bold]{password}[/]")
        console.print("               (shown only now: keep it)")
    else:
        console.print(f"Data kept from an earlier run in {data_dir}. Sign in as {DEMO_ADMIN_EMAIL} with the password")
        console.print("printed then, or set a new one with:")
        console.print(f"  OVERTURE_DATA_DIR={data_dir} overture users password {DEMO_ADMIN_EMAIL}")
        console.print("or start afresh with `overture demo --reset`.")
    if marketo_line:
        console.print(marketo_line)
    console.print("Mail is kept in the admin's Outbox. Stop with Ctrl+C.")
    console.rule()
    sys.stdout.flush()  # the banner is read as soon as it is printed, also through a pipe
    try:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="warning", server_header=False, proxy_headers=False
        )
    finally:
        if fake is not None:
            fake.stop()


# --- users --------------------------------------------------------------------------------------------------
