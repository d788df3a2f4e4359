"""The `overture` command line. Every command and option explains itself in --help; docs/cli.md is made from it."""

from __future__ import annotations

import sys
from typing import Any

import click

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
from overture.cli.demo import demo
from overture.cli.dialogues import dialogues_group
from overture.cli.integrations import integrations_group
from overture.cli.people import people_group
from overture.cli.purge import purge_command
from overture.cli.sync import sync_group
from overture.cli.tables import print_table
from overture.cli.targeting import targeting_group
from overture.db import Database, current_revision, head_revision, migrate, utcnow
from overture.settings import Settings


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


main.add_command(demo)
main.add_command(dialogues_group)
main.add_command(integrations_group)
main.add_command(people_group)
main.add_command(purge_command)
main.add_command(sync_group)
main.add_command(targeting_group)
