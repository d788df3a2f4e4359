"""The `overture` command: migrate, serve's refusal of an old database, users, tokens, and every --help."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner, Result

from overture.cli import main
from overture.db import Database
from processes import free_port, running

from support import Personas

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")}


def test_migrate_creates_a_new_sqlite_database_then_has_nothing_to_do(tmp_path: Path) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path / "fresh")}
    first = run("migrate", env=env)
    assert first.exit_code == 0
    assert re.search(r"Migrated the database from empty to \w+", first.output)
    assert (tmp_path / "fresh" / "overture.db").exists()
    assert "The database is up to date" in run("migrate", env=env).output


def test_serve_refuses_an_unmigrated_database_and_names_the_command(tmp_path: Path) -> None:
    result = run("serve", env={"OVERTURE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "Run `overture migrate` first." in result.output


def test_a_bad_setting_stops_the_start_with_one_line(tmp_path: Path) -> None:
    result = run("serve", env={"OVERTURE_DATA_DIR": str(tmp_path), "OVERTURE_SMTP_PORT": "abc"})
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error: OVERTURE_SMTP_PORT: Input should be a valid integer")
    assert len(result.output.strip().splitlines()) == 1


def test_users_create_list_and_token(env: dict[str, str]) -> None:
    created = run(
        "users",
        "create",
        "Ana@Example.com",
        "--role",
        "admin",
        "--name",
        "Ana",
        "--password-stdin",
        env=env,
        stdin="a long enough password\n",
    )
    assert created.exit_code == 0, created.output
    assert "Created ana@example.com (admin)." in created.output
    listed = run("users", "list", env=env)
    assert "ana@example.com" in listed.output and "admin" in listed.output
    token = run("users", "token", "ana@example.com", "--name", "script", env=env)
    assert token.exit_code == 0
    assert re.search(r"^ovt_[\w-]{40,}$", token.stdout.strip()), "only the token on standard output"


def test_users_create_explains_a_duplicate_and_a_short_password(env: dict[str, str], personas: Personas) -> None:
    duplicate = run("users", "create", "bob@example.com", "--role", "agent", "--no-password", env=env)
    assert duplicate.exit_code == 1
    assert "A user with the email bob@example.com already exists." in duplicate.output
    short = run("users", "create", "new@example.com", "--role", "agent", "--password-stdin", env=env, stdin="short\n")
    assert short.exit_code == 1
    assert "password: Use at least 10 characters." in short.output


def test_users_create_without_password_prints_a_one_time_link(env: dict[str, str]) -> None:
    result = run("users", "create", "new@example.com", "--role", "agent", "--no-password", env=env)
    assert re.search(
        r"Password link \(works once, for 24 hours\): http://127.0.0.1:8000/admin/reset/\S+", result.output
    )


def test_users_token_for_an_unknown_email_says_so(env: dict[str, str]) -> None:
    result = run("users", "token", "ghost@example.com", env=env)
    assert result.exit_code == 1
    assert "There is no user with the email ghost@example.com." in result.output


def test_users_password_sets_a_new_password(env: dict[str, str], personas: Personas) -> None:
    result = run("users", "password", "bob@example.com", "--password-stdin", env=env, stdin="brand new password\n")
    assert result.exit_code == 0
    assert "The password of bob@example.com is changed." in result.output


def all_commands() -> list[list[str]]:
    found: list[list[str]] = [[]]
    for name, command in main.commands.items():
        found.append([name])
        for sub in getattr(command, "commands", {}):
            found.append([name, sub])
    return found


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c) or "overture")
def test_every_command_explains_itself(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) >= 4


def test_the_cli_reference_is_up_to_date() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_docs.py"), "--check"], capture_output=True, text=True
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr


# --- real processes -------------------------------------------------------------------------------------------


def output_of(process: subprocess.Popen[str]) -> str:
    """Stops the process and returns all it printed."""
    process.terminate()
    process.wait(timeout=20)
    return process.stdout.read() if process.stdout else ""


def test_demo_starts_prints_credentials_once_and_keeps_its_data(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "demo"
    args = ["demo", "--port", str(port), "--data-dir", str(data)]
    with running(args, {}, port) as process:
        base = f"http://127.0.0.1:{port}"
        assert '<script src="/widget.js" data-site="www" async>' in httpx2.get(f"{base}/demo").text
        assert httpx2.get(f"{base}/openapi.json").status_code == 200
        first = output_of(process)
    password = re.search(r"Sign in as\s+admin@example.com with the password (\S+)", first)
    assert password, first
    seeded = run("dialogues", "list", env={"OVERTURE_DATA_DIR": str(data)}).output
    assert re.search(r"dialogue\s+pricing-demo\s+published\s+v1", seeded), "the example dialogues are live"
    assert re.search(r"flow\s+qualify\s+published", seeded)

    with running(args, {}, port) as process, httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
        login = client.get("/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        signed_in = client.post(
            "/admin/login",
            data={"email": "admin@example.com", "password": password.group(1), "csrf_token": token.group(1)},
        )
        assert signed_in.status_code == 303, "the first run's password still works"
        second = output_of(process)
    assert password.group(1) not in second, "the password is printed only once"
    assert "Data kept from an earlier run" in second

    with running([*args, "--reset"], {}, port) as process:
        third = output_of(process)
    new_password = re.search(r"with the password (\S+)", third)
    assert new_password and new_password.group(1) != password.group(1)


def test_serve_runs_the_production_server_on_a_migrated_database(tmp_path: Path) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path / "data"), "OVERTURE_LOG_FORMAT": "json"}
    assert run("migrate", env=env).exit_code == 0
    port = free_port()
    with running(["serve", "--port", str(port)], env, port):
        assert httpx2.get(f"http://127.0.0.1:{port}/admin/login").status_code == 200
        assert httpx2.get(f"http://127.0.0.1:{port}/demo").status_code == 404, "no demo pages in production"
