"""`overture integrations ...`: commands about the systems Overture connects to; for now the fake Marketo that the
demo, the benchmarks and anyone evaluating the Marketo connector run against."""

from __future__ import annotations

import sys
import threading

import click

from overture.cli.common import console, fail


@click.group("integrations")
def integrations_group() -> None:
    """Work with the systems Overture connects to (Marketo)."""


@integrations_group.group("marketo")
def marketo_group() -> None:
    """Marketo: a local fake of its REST and Bulk APIs to try the connector against."""


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
