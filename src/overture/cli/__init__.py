"""The `overture` command line. Every command and option explains itself in --help; docs/cli.md is made from it."""

from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from sqlalchemy.orm import Session

from overture import __version__
from overture.cli.common import (
    console,
    data_dir_or_exit,
    errors,
    fail,
    migrated_database,
    port_or_exit,
    settings_or_exit,
    with_session,
)
from overture.cli.dialogues import dialogues_group
from overture.cli.people import people_group
from overture.cli.tables import print_table
from overture.cli.targeting import targeting_group
from overture.db import Database, current_revision, head_revision, migrate, utcnow
from overture.settings import Settings

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_DATA_DIR = Path("overture-demo")
OUR_FILES = ("overture.db", "secret_key", "jobs.db")
# Left in the folders `overture demo` makes: --reset deletes only those (OVERTURE_DATA_DIR may name a real install).
DEMO_MARK = ".overture-demo"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="overture")
def main() -> None:
    """Overture: conversational marketing you host yourself.

    Settings come from OVERTURE_* environment variables and an optional overture.toml (see
    docs/configuration.md). Start with `overture demo`.
    """


# --- serving ------------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Web processes to run.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the production web server, with settings from the environment.

    Refuses to start on a database that is not migrated: run `overture migrate` first. With Redis configured,
    run background jobs with `overture worker`; without it they run inside the web process.
    """
    import uvicorn

    settings = settings_or_exit()
    migrated_database(settings).dispose()
    data_dir_or_exit(settings)
    port_or_exit(host, port)
    uvicorn.run(
        "overture.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app reads forwarded headers itself, from OVERTURE_FORWARDED_ALLOW_IPS only
        log_level=settings.log_level.lower(),
        server_header=False,
    )


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
def worker(workers: int) -> None:
    """Run background jobs (mail delivery, ...) in their own process; use with Redis at scale."""
    from overture.jobs import create_jobs, run_worker
    from overture.logs import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    db = migrated_database(settings)
    run_worker(create_jobs(settings, db), workers)


@main.command(name="migrate")
def migrate_command() -> None:
    """Apply database migrations (safe to run at every upgrade; does nothing when up to date)."""
    settings = settings_or_exit()
    data_dir_or_exit(settings)
    db = Database.from_url(settings.database_url)
    try:
        before = current_revision(db.engine)
        target = head_revision(db.engine)
        if before == target:
            console.print(f"The database is up to date (migration {target}).")
            return
        with console.status("Migrating the database..."):
            migrate(db.engine)
        console.print(f"Migrated the database from {before or 'empty'} to {target}.")
    finally:
        db.dispose()


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
    from overture.calendars.models import CalendarConnection
    from overture.scheduling import rotation
    from overture.users import service as users

    team = rotation.create_team(session, "sales", "Sales")
    for name, email, zone in DEMO_AGENTS:
        agent = rotation.create_agent(session, users.create_user(session, email, "agent", name))
        agent.time_zone = zone
        session.add(CalendarConnection(agent_id=agent.id, provider="builtin", settings={}))
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


@main.command()
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
def demo(host: str, port: int, data_dir: Path, reset: bool) -> None:
    """Start Overture with a demo website and a demo admin, on SQLite, in one process.

    The first start creates the data folder, migrates it, creates the admin user and prints its password once.
    Later starts keep the data; --reset starts afresh. The data folder is the one --data-dir names, else
    OVERTURE_DATA_DIR, else overture-demo in the current folder; the demo always uses SQLite there.
    """
    import uvicorn

    from overture.logs import configure_logging
    from overture.web.app import create_app

    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    settings = settings_or_exit(data_dir=data_dir, database_url="", base_url=base_url, demo=True)
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
    console.print("Mail is kept in the admin's Outbox. Stop with Ctrl+C.")
    console.rule()
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning", server_header=False, proxy_headers=False
    )


# --- users --------------------------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Manage the people who sign in to the admin, and their API tokens."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command(name="create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "marketer", "sales_admin", "agent"]),
    required=True,
    help="admin: everything; marketer: dialogues, configuration, people, reports; "
    "sales_admin: routing, calendars, meetings; agent: own calendar and meetings.",
)
@click.option("--name", default="", help="The person's name, shown in the admin and in invitations.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.option("--no-password", is_flag=True, help="Set no password; print a one-time link to choose one instead.")
def users_create(email: str, role: str, name: str, password_stdin: bool, no_password: bool) -> None:
    """Add a user who signs in with EMAIL. Asks for the password unless told otherwise."""
    from overture.users import service as service

    password = None if no_password else _read_password(password_stdin)

    def create(session: Any, settings: Settings) -> None:
        user = service.create_user(session, email, role, name=name, password=password)
        console.print(f"Created {user.email} ({user.role}).")
        if no_password:
            link = service.start_password_reset(session, user, settings.base_url, utcnow(), invited=True)
            console.print(f"Password link (works once, for 24 hours): {link.url}")

    with_session(create)


@users.command(name="password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def users_password(email: str, password_stdin: bool) -> None:
    """Set a new password for EMAIL (signs the user out everywhere)."""
    from overture.users import service as service

    password = _read_password(password_stdin)

    def change(session: Any, _settings: Settings) -> None:
        service.set_password(session, service.get_user_by_email(session, email), password)
        console.print(f"The password of {email} is changed.")

    with_session(change)


@users.command(name="token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. 'reporting script'.")
def users_token(email: str, name: str) -> None:
    """Create an API token for EMAIL and print it once (only its hash is stored).

    Use it as `Authorization: Bearer TOKEN` on /api/v1/admin/...; it acts with the user's role.
    """
    from overture.users import service as service

    def create(session: Any, _settings: Settings) -> None:
        user = service.get_user_by_email(session, email)
        if not user.is_active:
            fail(f"{user.email} is deactivated; activate the user first.")
        token, secret = service.create_token(session, user, name, utcnow())
        errors.print(f"API token '{token.name}' for {user.email} ({user.role}); it is not shown again:")
        click.echo(secret)

    with_session(create)


@users.command(name="list")
def users_list() -> None:
    """List users with their role and state."""
    from overture.users import service as service

    def show(session: Any, _settings: Settings) -> None:
        columns = ("Email", "Name", "Role", "State", "Active tokens", "Last sign-in")
        rows = [
            (
                user.email,
                user.name,
                user.role,
                "active" if user.is_active else "deactivated",
                str(sum(1 for t in user.tokens if t.revoked_at is None)),
                f"{user.last_login_at:%Y-%m-%d %H:%M} UTC" if user.last_login_at else "never",
            )
            for user in service.list_users(session)
        ]
        print_table(console, columns, rows)

    with_session(show)


main.add_command(dialogues_group)
main.add_command(people_group)
main.add_command(targeting_group)
