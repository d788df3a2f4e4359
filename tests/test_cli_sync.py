"""`overture sync marketo`: runs the sync on the stored connection against a Marketo (here the fake) and prints
what it created, updated and skipped, with the reasons; refuses in one line when Marketo is not connected."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from overture.activities.models import Activity
from overture.cli import main
from overture.db import Database
from overture.integrations import marketo, service
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.marketo.fake_data import stamp


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {
        "OVERTURE_DATABASE_URL": database_url,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "OVERTURE_SECRET_KEY": "cli-secret-key-" + "z" * 32,
        "OVERTURE_INTEGRATIONS_PRIVATE_ADDRESSES": "true",  # the fake listens on 127.0.0.1
    }


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_sync_marketo_on_the_stored_connection_prints_the_records_created_and_each_skipped_one_with_its_reason(
    env: dict[str, str], db: Database
) -> None:
    # On the real clock (the command's client sleeps for real), over two months of leads: three exports.
    fake = FakeMarketo(leads=2000, companies=5)
    anchor = fake.store.generated.anchor
    since = anchor - timedelta(days=62)
    bad = fake.add_lead(email="nobody@", createdAt=stamp(anchor - timedelta(days=1)))
    leads = sum(1 for _ in fake.store.leads_created_between(since, anchor)) - 1
    with fake.running() as base_url:
        connected = run(env, "integrations", "marketo", "connect", "--base-url", base_url, "--client-id", "overture",
                        input="secret\n")  # fmt: skip
        assert connected.exit_code == 0, connected.output
        with db.write() as session:  # Marketo's country names do not fit company.country's ISO codes
            service.set_mapping(session, marketo.NAME, {"company": {"billingCountry": None}})
        result = run(env, "sync", "marketo", "--since", since.isoformat())
    assert result.exit_code == 0, result.output
    with db.read() as session:
        recorded = session.scalar(select(func.count()).where(Activity.type.like("marketo.%")))
    lines = [line for line in result.stdout.splitlines() if line]
    activities_line = next(line for line in lines if line.startswith("Marketo activities recorded: "))
    assert recorded and activities_line.startswith(f"Marketo activities recorded: {recorded} (")
    assert [line for line in lines if line != activities_line] == [
        f"Leads: {leads} created, 0 updated, 0 unchanged, 1 skipped.",
        "Companies: 5 created, 0 updated, 0 unchanged, 0 skipped.",
        "Lead changes applied: 0.",
        "Skipped:",
        f"  lead {bad}: email: 'nobody@' is not a valid email address.",
    ]


def test_sync_marketo_refuses_in_one_line_with_exit_1_when_marketo_is_not_connected(env: dict[str, str]) -> None:
    result = run(env, "sync", "marketo")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: Marketo is not connected. Connect it first: overture integrations marketo connect --munchkin-id ID "
        "--client-id ID (or on the Integrations page)."
    )


def test_sync_marketo_takes_no_credentials_on_the_command_line(env: dict[str, str]) -> None:
    result = run(env, "sync", "marketo", "--base-url", "https://123-ABC-456.mktorest.com")
    assert result.exit_code == 2 and "No such option '--base-url'" in result.output
