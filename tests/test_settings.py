"""Settings come from OVERTURE_* variables, *_FILE secrets and overture.toml; a bad one stops with one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from overture.settings import Settings, SettingsError, load_settings, resolve_secret_key, unknown_variables

from support import TEST_DATABASE_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "configuration.md"


def test_defaults_put_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == Path("overture-data")
    assert settings.database_url == f"sqlite:///{tmp_path / 'overture-data' / 'overture.db'}"
    assert settings.jobs_in_process is True
    assert settings.smtp_configured is False


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_BASE_URL", "https://chat.example.com/")
    monkeypatch.setenv("OVERTURE_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("OVERTURE_SMTP_PORT", "2525")
    monkeypatch.setenv("OVERTURE_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.base_url == "https://chat.example.com"
    assert settings.secure_cookies is True
    assert settings.smtp_port == 2525
    assert settings.jobs_in_process is False, "with Redis, jobs run in `overture worker`"


def test_a_postgres_url_selects_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_DATABASE_URL", "postgresql://u@db/overture")
    assert load_settings().database_url == "postgresql+psycopg://u@db/overture"
    assert load_settings().is_sqlite is False


def test_the_toml_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "overture.toml").write_text('log_level = "DEBUG"\nsmtp_host = "toml.example.com"\n')
    monkeypatch.setenv("OVERTURE_SMTP_HOST", "env.example.com")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.smtp_host == "env.example.com"


def test_overture_config_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text('base_url = "https://from-file.example.com"\n')
    monkeypatch.setenv("OVERTURE_CONFIG", str(config))
    assert load_settings().base_url == "https://from-file.example.com"


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_CONFIG", "/nowhere/overture.toml")
    with pytest.raises(SettingsError, match=r"^OVERTURE_CONFIG: no such file: /nowhere/overture.toml$"):
        load_settings()


def test_secrets_can_come_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "smtp").write_text("s3cret\n")
    monkeypatch.setenv("OVERTURE_SMTP_PASSWORD_FILE", str(tmp_path / "smtp"))
    assert load_settings().smtp_password.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("OVERTURE_SMTP_PORT", "abc", "OVERTURE_SMTP_PORT: Input should be a valid integer"),
        ("OVERTURE_SMTP_PORT", "70000", "OVERTURE_SMTP_PORT: Input should be less than or equal to 65535"),
        ("OVERTURE_DATABASE_URL", "mysql://x/y", "OVERTURE_DATABASE_URL: must start with sqlite:/// or postgresql"),
        ("OVERTURE_BASE_URL", "chat.example.com", "OVERTURE_BASE_URL: must be an absolute http:// or https:// URL"),
        ("OVERTURE_LOG_LEVEL", "LOUD", "OVERTURE_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("OVERTURE_SMTP_SECURITY", "tls", "OVERTURE_SMTP_SECURITY: Input should be 'starttls', 'ssl' or 'none'"),
        ("OVERTURE_REDIS_URL", "http://x", "OVERTURE_REDIS_URL: must start with redis://"),
        ("OVERTURE_JOBS_IN_PROCESS", "maybe", "OVERTURE_JOBS_IN_PROCESS: Input should be a valid boolean"),
        ("OVERTURE_SECRET_KEY", "short", "OVERTURE_SECRET_KEY: must be at least 32 characters long"),
        ("OVERTURE_FORWARDED_ALLOW_IPS", "*", "OVERTURE_FORWARDED_ALLOW_IPS: '*' would let any client choose"),
        ("OVERTURE_FORWARDED_ALLOW_IPS", "10.0.0.1, proxy", "OVERTURE_FORWARDED_ALLOW_IPS: 'proxy' is not an IP"),
        ("OVERTURE_SESSION_MAX_AGE", "60", "OVERTURE_SESSION_MAX_AGE: Input should be greater than or equal to 300"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_proxy_networks_are_written_as_the_proxy_middleware_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_FORWARDED_ALLOW_IPS", " 10.0.0.1/8, ::1 ,")
    assert load_settings().forwarded_allow_ips == "10.0.0.0/8,::1"
    assert load_settings(forwarded_allow_ips="").forwarded_allow_ips == "", "no proxy trusted"


def test_an_unknown_key_in_the_toml_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "overture.toml").write_text('smtp_hots = "typo"\n')
    with pytest.raises(SettingsError, match="smtp_hots: unknown setting"):
        load_settings()


def test_the_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = resolve_secret_key(settings)
    assert len(first) >= 32
    assert resolve_secret_key(settings) == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0, "readable by its owner only"


def test_a_short_secret_key_is_refused_with_the_settings_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_SECRET_KEY", "short")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "OVERTURE_SECRET_KEY: must be at least 32 characters long"


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles() -> None:
    assert unknown_variables({"OVERTURE_SMPT_HOST": "mail.example.com", "OVERTURE_COLOUR": "blue"}) == [
        "OVERTURE_COLOUR is not a setting of Overture and is ignored (see docs/configuration.md for the list)",
        "OVERTURE_SMPT_HOST is not a setting of Overture and is ignored; did you mean OVERTURE_SMTP_HOST?",
    ]


def test_every_setting_its_file_variant_the_config_file_and_the_test_suites_own_variables_are_known() -> None:
    environ = {f"OVERTURE_{name.upper()}": "x" for name in Settings.model_fields}
    environ |= {"OVERTURE_SMTP_PASSWORD_FILE": "/run/secrets/smtp", "OVERTURE_CONFIG": "overture.toml"}
    environ |= {TEST_DATABASE_VARIABLE: "postgresql+psycopg://postgres@127.0.0.1/postgres", "HOME": "/root"}
    assert unknown_variables(environ) == []


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(OVERTURE_[A-Z_]+)`", DOCS.read_text()))
    for name in Settings.model_fields:
        assert f"OVERTURE_{name.upper()}" in documented, f"OVERTURE_{name.upper()} is missing from {DOCS.name}"


def test_no_variable_the_tests_or_benchmarks_read_would_be_called_unknown() -> None:
    read = {TEST_DATABASE_VARIABLE}
    for folder in ("tests", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"environ(?:\.get\(|\[)\s*\"(OVERTURE_[A-Z_]+)\"", path.read_text()))
    assert "OVERTURE_SCREENSHOTS" in read, "the search finds what it looks for"
    assert unknown_variables(dict.fromkeys(read, "x")) == []
