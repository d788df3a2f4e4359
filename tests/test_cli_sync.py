"""`overture sync marketo`: runs the sync against a Marketo (here the fake) and prints what it created, updated
and skipped, with the reasons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from overture.cli import main
from overture.db import Database
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.marketo.fake_data import stamp


def test_sync_marketo_prints_the_records_created_and_each_skipped_one_with_its_reason(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    # On the real clock (the command's client sleeps for real), over two months of leads: three exports.
    fake = FakeMarketo(leads=2000, companies=5)
    anchor = fake.store.generated.anchor
    since = anchor - timedelta(days=62)
    bad = fake.add_lead(email="nobody@", createdAt=stamp(anchor - timedelta(days=1)))
    leads = sum(1 for _ in fake.store.leads_created_between(since, anchor)) - 1
    env = {
        "OVERTURE_DATABASE_URL": database_url,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "MARKETO_CLIENT_SECRET": "secret",
    }
    with fake.running() as base_url:
        result = CliRunner().invoke(
            main,
            ["sync", "marketo", "--base-url", base_url, "--client-id", "overture", "--since", since.isoformat(),
             "--allow-private"],
            env=env,
            catch_exceptions=False,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line] == [
        f"Leads: {leads} created, 0 updated, 0 unchanged, 1 skipped.",
        "Companies: 5 created, 0 updated, 0 unchanged, 0 skipped.",
        "Lead changes applied: 0.",
        "Skipped:",
        f"  lead {bad}: email: 'nobody@' is not a valid email address.",
    ]
