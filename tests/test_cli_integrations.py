"""`overture integrations marketo connect / status / test / disconnect` end to end against the fake Marketo: the
secret prompted for (hidden) or read from a file, never an argument; one-line errors and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from integrations.connect_support import SECRET, running_marketo
from overture.cli import main
from overture.db import Database
from overture.integrations import service
from overture.integrations.marketo.fake import FakeMarketo


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["integrations", "marketo", *args], env=env, input=input, catch_exceptions=False)


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {
        "OVERTURE_DATABASE_URL": database_url,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "OVERTURE_SECRET_KEY": "cli-secret-key-" + "z" * 32,
        "OVERTURE_INTEGRATIONS_PRIVATE_ADDRESSES": "true",
    }


@pytest.fixture
def fake() -> Iterator[FakeMarketo]:
    with running_marketo() as running:
        yield running


def test_connect_prompts_for_the_secret_hidden_and_connects(
    env: dict[str, str], db: Database, fake: FakeMarketo
) -> None:
    result = run(env, "connect", "--base-url", fake.url, "--client-id", "overture", input=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert "Client secret: \n" in result.output and SECRET not in result.output, "the typed secret is not echoed"
    assert "is connected. Connected to Marketo at 127.0.0.1: 29 lead fields" in result.output
    with db.read() as session:
        row = service.find(session, "marketo")
    assert row is not None and row.connected_by == "the command line"


def test_connect_reads_the_secret_from_a_file_and_status_shows_it(
    env: dict[str, str], fake: FakeMarketo, tmp_path: Path
) -> None:
    secret_file = tmp_path / "marketo-secret"
    secret_file.write_text(SECRET + "\n")
    connect = run(env, "connect", "--base-url", fake.url, "--client-id", "overture", "--client-secret-file",
                  str(secret_file))  # fmt: skip
    assert connect.exit_code == 0, connect.output
    status = run(env, "status")
    assert status.exit_code == 0
    assert "Status:     connected since" in status.output and "by the command line" in status.output
    assert "Last check:" in status.output and "worked" in status.output


def test_a_wrong_secret_fails_with_one_line_and_exit_1(env: dict[str, str], fake: FakeMarketo) -> None:
    result = run(env, "connect", "--base-url", fake.url, "--client-id", "overture", input="wrong\n")
    assert result.exit_code == 1
    assert "Error: Marketo is not connected. Marketo refused the client id and client secret" in result.output
    assert run(env, "status").exit_code == 1


def test_giving_both_or_neither_instance_option_is_a_usage_error(env: dict[str, str]) -> None:
    result = run(env, "connect", "--client-id", "overture", input="x\n")
    assert result.exit_code == 2 and "exactly one of --munchkin-id and --base-url" in result.output


def test_test_says_what_failed_and_disconnect_stops_it(env: dict[str, str], fake: FakeMarketo) -> None:
    assert run(env, "connect", "--base-url", fake.url, "--client-id", "overture", input=SECRET + "\n").exit_code == 0
    assert run(env, "test").exit_code == 0
    fake.fail_next("603", path="describe2")
    failed = run(env, "test")
    assert (
        failed.exit_code == 1 and "the test failed. Marketo did not let Overture read the lead fields" in failed.output
    )
    gone = run(env, "disconnect", "--yes")
    assert gone.exit_code == 0 and "is disconnected; its client secret is forgotten" in gone.output
    again = run(env, "test")
    assert again.exit_code == 1 and "Marketo is not connected" in again.output
