"""`overture integrations ...`: commands about the systems Overture connects to. For Marketo: connect it (the
client secret prompted for, hidden, or read from a file: never on the command line), show its status, test the
connection again, disconnect it; and a local fake Marketo that the demo, the benchmarks and anyone evaluating the
connector run against."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from overture.cli.common import console, fail, migrated_database, settings_or_exit
from overture.db import Database, utcnow
from overture.errors import OvertureError
from overture.integrations import marketo, service
from overture.integrations.models import CONNECTED
from overture.integrations.world import integration_world
from overture.settings import Settings, resolve_secret_key

BY = "the command line"  # who connected or disconnected, for the page's status


@click.group("integrations")
def integrations_group() -> None:
    """Work with the systems Overture connects to (Marketo)."""


@integrations_group.group("marketo")
def marketo_group() -> None:
    """Marketo: connect it, see its status, test it, disconnect it; or run a local fake of its APIs."""


def _open() -> tuple[Settings, Database, str]:
    settings = settings_or_exit()
    db = migrated_database(settings)
    return settings, db, resolve_secret_key(settings)


def _secret(secret_file: Path | None) -> str:
    if secret_file is None:
        return str(click.prompt("Client secret", hide_input=True))
    try:
        text = secret_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the client secret from {secret_file}: {exc}.")
    lines = text.splitlines()
    if len(lines) != 1:
        fail(f"{secret_file} must hold the client secret alone, on one line.")
    return lines[0]


@marketo_group.command("connect")
@click.option("--munchkin-id", default="", help="The instance's Munchkin id (Admin > Munchkin), like 123-ABC-456.")
@click.option("--base-url", default="", help="Or its REST API endpoint (Admin > Web Services), without /rest.")
@click.option("--client-id", required=True, help="The client id of Overture's LaunchPoint custom service.")
@click.option(
    "--client-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file holding the client secret on one line; without it the secret is asked for, hidden.",
)
def connect_command(munchkin_id: str, base_url: str, client_id: str, client_secret_file: Path | None) -> None:
    """Connect Marketo: sign in and read its lead and company fields, then keep the connection (the client secret
    encrypted) with a proposed field mapping. Give --munchkin-id or --base-url. Exits 1, saying exactly what failed
    (bad credentials, an API user without permission, a wrong instance, the network), with nothing kept."""
    if bool(munchkin_id) == bool(base_url):
        fail("give the instance with exactly one of --munchkin-id and --base-url.", 2)
    settings, db, secret_key = _open()
    given = {"munchkin_id": munchkin_id, "base_url": base_url, "client_id": client_id,
             "client_secret": _secret(client_secret_file)}  # fmt: skip
    world = integration_world(settings, secret_key)
    try:
        account = service.check_account(world, marketo.NAME, given)
        with db.write() as session:
            row = service.connect(session, account, by=BY, now=utcnow(), secret_key=secret_key)
            mapped = sum(1 for fields in row.mapping.values() for target in fields.values() if target)
            described = marketo.describe(row.settings)
    except OvertureError as exc:
        fail(exc.message)
    finally:
        world.close()
        db.dispose()
    console.print(f"{described} is connected. {account.message}")
    console.print(f"{mapped} fields are mapped to Overture fields; review the mapping on /admin/integrations/marketo.")


@marketo_group.command("status")
def status_command() -> None:
    """Show whether Marketo is connected, since when and by whom, and the last check. Exits 1 when it is not
    connected."""
    _settings, db, _key = _open()
    try:
        with db.read() as session:
            row = service.find(session, marketo.NAME)
            if row is None:
                fail(
                    "Marketo is not connected (it never was). Connect it with `overture integrations marketo connect`."
                )
            described = marketo.describe(row.settings or {})
            lines = [f"Instance:   {described} ({row.settings.get('base_url', '')})"]
            if row.status != CONNECTED:
                when = row.disconnected_at.strftime("%Y-%m-%d %H:%M UTC") if row.disconnected_at else "?"
                console.print(f"Status:     disconnected on {when} by {row.disconnected_by or '?'}")
                console.print(lines[0])
                raise SystemExit(1)
            mapped = sum(1 for fields in (row.mapping or {}).values() for target in fields.values() if target)
            lines = [
                f"Status:     connected since {row.connected_at:%Y-%m-%d %H:%M} UTC by {row.connected_by}",
                *lines,
                f"Client id:  {row.settings.get('client_id', '')}",
                f"Mapped:     {mapped} fields",
            ]
            if row.checked_at is not None:
                verdict = "worked" if row.check_ok else "failed"
                lines.append(f"Last check: {row.checked_at:%Y-%m-%d %H:%M} UTC, {verdict}: {row.check_message}")
    finally:
        db.dispose()
    for line in lines:
        console.print(line)


@marketo_group.command("test")
def test_command() -> None:
    """Sign in to Marketo and read its fields again, as the page's "Test connection" does; says exactly what failed
    and exits 1 when it did."""
    settings, db, secret_key = _open()
    world = integration_world(settings, secret_key)
    try:
        with db.read() as session:
            found = service.stored(session, marketo.NAME, secret_key)
        if found is None:
            fail("Marketo is not connected. Connect it with `overture integrations marketo connect`.")
        check = service.check_again(world, marketo.NAME, found)  # no transaction open: a network call
        with db.write() as session:
            service.record_check(session, marketo.NAME, check, utcnow())
    except OvertureError as exc:
        fail(exc.message)
    finally:
        world.close()
        db.dispose()
    if not check.ok:
        fail(f"the test failed. {check.message}")
    console.print(f"The test worked. {check.message}")


@marketo_group.command("disconnect")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def disconnect_command(yes: bool) -> None:
    """Disconnect Marketo: every Marketo job stops and the client secret is forgotten; the field mapping is kept.
    Exits 1 when it is not connected."""
    if not yes:
        click.confirm("Disconnect Marketo? Nothing is synced until it is connected again", abort=True)
    _settings, db, _key = _open()
    try:
        with db.write() as session:
            row = service.disconnect(session, marketo.NAME, by=BY, now=utcnow())
            described = marketo.describe(row.settings or {})
    except OvertureError as exc:
        fail(exc.message)
    finally:
        db.dispose()
    console.print(f"{described} is disconnected; its client secret is forgotten.")


@marketo_group.command("fake")
@click.option(
    "--port",
    default=8081,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
@click.option("--leads", default=1000, show_default=True, type=click.IntRange(0), help="Generated leads.")
@click.option("--companies", default=100, show_default=True, type=click.IntRange(0), help="Generated companies.")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed gives the same data set.")
def fake_command(port: int, host: str, leads: int, companies: int, seed: int) -> None:
    """Run a fake Marketo in the foreground with a generated data set, until Ctrl+C.

    It answers the REST and Bulk API calls the connector makes, as Marketo does (envelopes, error codes, paging
    tokens, bulk export files, the 100 calls per 20 s, 10 concurrent and 50,000 a day limits), with program 1001
    (statuses Not in Program, Invited, Registered, Attended). Generated records are derived from the seed when
    read, so a million leads start at once.
    """
    from overture.integrations.marketo.fake import FakeMarketo

    fake = FakeMarketo(leads=leads, companies=companies, seed=seed)
    try:
        url = fake.start(host, port)
    except OSError as exc:
        fail(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another --port.")
    console.print(f"Fake Marketo with {leads:,} leads and {companies:,} companies (seed {seed}).")
    console.print(f"REST base URL: {url}")
    console.print(f"Client id:     {fake.client_id}")
    console.print(f"Client secret: {fake.client_secret}")
    console.print("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("Stopped.")
    finally:
        fake.stop()
