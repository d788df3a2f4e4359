"""The `overture` command: migrate, serve's refusal of an old or missing database, one-line errors for bad
settings and a busy port, users, tokens, tables whole in a pipe and a narrow terminal, and every --help."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner, Result

from overture.cli import main
from overture.cli.demo import DEMO_DATA_DIR
from overture.db import Database
from processes import free_port, running

from support import TEST_DATABASE_VARIABLE, Personas

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


def test_serve_without_its_data_folder_names_the_setting_and_the_command_and_creates_nothing(tmp_path: Path) -> None:
    result = run("serve", env={"OVERTURE_DATA_DIR": str(tmp_path / "nowhere")})
    assert result.exit_code == 1
    assert result.output == (
        f"Error: there is no database at {tmp_path / 'nowhere' / 'overture.db'} (from OVERTURE_DATA_DIR). "
        "Run `overture migrate` first.\n"
    )
    assert not (tmp_path / "nowhere").exists()


def test_a_misspelt_variable_is_warned_about_with_the_setting_it_resembles(env: dict[str, str]) -> None:
    test_only = {TEST_DATABASE_VARIABLE: "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"}
    result = run("users", "list", env={**env, **test_only, "OVERTURE_SMPT_HOST": "mail.example.com"})
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: OVERTURE_SMPT_HOST is not a setting of Overture and is ignored; did you mean OVERTURE_SMTP_HOST?\n"
    )


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


def overture(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs the real command with its output piped, as a script would."""
    return subprocess.run(
        [sys.executable, "-m", "overture", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )


def in_a_terminal(*args: str, env: dict[str, str], columns: int) -> str:
    """Runs the real command in a terminal `columns` wide (a pseudo-terminal); returns what it showed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    terminal_env = {**os.environ, **env, "TERM": "xterm", "COLUMNS": str(columns)}
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"):
        terminal_env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "overture", *args], env=terminal_env, stdout=follower, stderr=follower
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command ends
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, shown
    return shown.decode()


LONG_EMAIL = "someone.with.a.long.address@subsidiary.example-corporation.com"


@pytest.fixture
def long_email(env: dict[str, str]) -> str:
    created = run("users", "create", LONG_EMAIL, "--role", "marketer", "--no-password", env=env)
    assert created.exit_code == 0, created.output
    return LONG_EMAIL


def test_users_list_piped_is_plain_and_keeps_every_email_whole(env: dict[str, str], long_email: str) -> None:
    listed = overture("users", "list", env={**env, "COLUMNS": "40"})
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["Email", "Name", "Role", "State", "Active", "tokens", "Last", "sign-in"]
    assert lines[1].split() == [long_email, "marketer", "active", "0", "never"]
    assert not re.search(r"[\u2500-\u257f\x1b…]", listed.stdout), "no box drawing, colour or ellipsis"


def test_users_list_in_a_narrow_terminal_keeps_every_email_whole(env: dict[str, str], long_email: str) -> None:
    shown = in_a_terminal("users", "list", env=env, columns=40)
    assert long_email in shown and "…" not in shown
    wide = in_a_terminal("users", "list", env=env, columns=160)
    assert "┃" in wide and long_email in wide, "a terminal wide enough gets the boxed table"


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

    # The second start names the same folder with OVERTURE_DATA_DIR instead of --data-dir.
    by_variable = ["demo", "--port", str(port)]
    with (
        running(by_variable, {"OVERTURE_DATA_DIR": str(data)}, port) as process,
        httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):
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
    assert f"Data kept from an earlier run in {data}." in second
    assert not (tmp_path / DEMO_DATA_DIR).exists(), "OVERTURE_DATA_DIR is honoured: no ./overture-demo"

    with running([*args, "--reset"], {}, port) as process:
        third = output_of(process)
    new_password = re.search(r"with the password (\S+)", third)
    assert new_password and new_password.group(1) != password.group(1)


def test_demo_reset_refuses_to_delete_a_folder_the_demo_did_not_make(tmp_path: Path) -> None:
    installed = tmp_path / "production"
    env = {"OVERTURE_DATA_DIR": str(installed)}
    assert run("migrate", env=env).exit_code == 0
    started = overture("demo", "--reset", "--port", str(free_port()), env=env)
    assert started.returncode == 1
    assert started.stdout + started.stderr == (
        f"Error: {installed} holds data `overture demo` did not make; not deleting it. Choose another --data-dir.\n"
    )
    assert (installed / "overture.db").exists()


def test_a_data_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = run("migrate", env={"OVERTURE_DATA_DIR": str(tmp_path / "a-file" / "data")})
    assert result.exit_code == 2
    assert result.output == f"Error: OVERTURE_DATA_DIR: cannot create {tmp_path / 'a-file' / 'data'}: Not a directory\n"


def test_a_short_secret_key_stops_serve_with_one_line_naming_it(tmp_path: Path) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path / "data")}
    assert run("migrate", env=env).exit_code == 0
    started = overture("serve", "--port", str(free_port()), env={**env, "OVERTURE_SECRET_KEY": "short"})
    assert started.returncode == 2
    assert started.stdout + started.stderr == "Error: OVERTURE_SECRET_KEY: must be at least 32 characters long\n"


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_the_demo_on_a_busy_port_says_so_in_one_line_before_anything_else(tmp_path: Path, busy_port: int) -> None:
    started = overture("demo", "--port", str(busy_port), "--data-dir", str(tmp_path / "demo"), env={})
    assert started.returncode == 1
    assert started.stdout + started.stderr == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use by another program: stop it or choose another "
        "--port.\n"
    )
    assert not (tmp_path / "demo").exists(), "nothing prepared for a server that cannot start"


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path, busy_port: int) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path / "data")}
    assert run("migrate", env=env).exit_code == 0
    started = overture("serve", "--port", str(busy_port), env=env)
    assert started.returncode == 1
    assert started.stdout + started.stderr == (
        f"Error: port {busy_port} on 127.0.0.1 is already in use by another program: stop it or choose another "
        "--port.\n"
    )


def test_the_demos_data_dir_option_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OVERTURE_DATA_DIR", str(tmp_path / "from-variable"))
    demo = main.commands["demo"]
    with demo.make_context("demo", ["--data-dir", str(tmp_path / "from-option")]) as chosen:
        assert chosen.params["data_dir"] == tmp_path / "from-option"
    with demo.make_context("demo", []) as chosen:
        assert chosen.params["data_dir"] == tmp_path / "from-variable"


def test_serve_runs_the_production_server_on_a_migrated_database(tmp_path: Path) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path / "data"), "OVERTURE_LOG_FORMAT": "json"}
    assert run("migrate", env=env).exit_code == 0
    port = free_port()
    with running(["serve", "--port", str(port)], env, port):
        assert httpx2.get(f"http://127.0.0.1:{port}/admin/login").status_code == 200
        assert httpx2.get(f"http://127.0.0.1:{port}/demo").status_code == 404, "no demo pages in production"
