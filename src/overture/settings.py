"""Every setting of Overture, read from OVERTURE_* variables and an optional overture.toml, validated at start.

Order of precedence: values passed in code, then environment variables, then `NAME_FILE` variables (for secrets
kept in files), then the TOML file (`OVERTURE_CONFIG`, else `./overture.toml` when it exists), then defaults.
A bad value raises `SettingsError` whose message is one line naming the setting and what is wrong.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "OVERTURE_"
CONFIG_FILE_VARIABLE = "OVERTURE_CONFIG"
DEFAULT_CONFIG_FILE = Path("overture.toml")
SECRET_KEY_FILE_NAME = "secret_key"

SECRET_KEY_MIN_LENGTH = 32

# Settings whose value may be read from the file named by OVERTURE_<NAME>_FILE (Docker and systemd secrets).
FILE_BACKED = ("secret_key", "database_url", "smtp_password", "google_client_secret", "microsoft_client_secret")

# OVERTURE_* variables read by Overture's own test suite and benchmarks, not by Overture: never called unknown.
TOOLING_VARIABLES = frozenset({"OVERTURE_TEST_DATABASE_URL", "OVERTURE_BENCH_DATABASE_URL", "OVERTURE_SCREENSHOTS"})


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line a person can act on."""


class _FileBackedSecrets(PydanticBaseSettingsSource):
    """Reads OVERTURE_<NAME>_FILE for the settings in FILE_BACKED."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in FILE_BACKED:
            variable = f"{ENV_PREFIX}{name.upper()}_FILE"
            path = os.environ.get(variable)
            if not path:
                continue
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror}") from exc
        return values


class Settings(BaseSettings):
    """Overture's configuration. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    data_dir: Path = Field(default=Path("overture-data"), description="Folder for the SQLite file, keys, jobs.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in the data folder.")
    secret_key: SecretStr | None = Field(default=None, description="Signs cookies and tokens; generated if empty.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of this Overture.")
    smtp_host: str = Field(default="", description="SMTP server; empty keeps mail in the outbox only.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(default="starttls", description="SMTP encryption.")
    smtp_username: str = Field(default="", description="SMTP user name; empty for no authentication.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_timeout: float = Field(default=20.0, gt=0, le=300, description="Seconds before an SMTP call gives up.")
    mail_from: str = Field(default="Overture <overture@localhost>", description="Sender of every message.")
    redis_url: str = Field(default="", description="Redis URL for the job queue and shared limits; optional.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    log_format: Literal["console", "json"] = Field(default="console", description="Log lines for people or JSON.")
    forwarded_allow_ips: str = Field(
        default="", description="Proxies (addresses or networks) whose X-Forwarded-For is trusted; empty: none."
    )
    session_max_age: int = Field(
        default=12 * 3600, ge=300, le=30 * 24 * 3600, description="Seconds an admin session lasts, used or not."
    )
    session_idle_timeout: int = Field(
        default=2 * 3600, ge=0, le=30 * 24 * 3600, description="Seconds unused before a session ends; 0: never."
    )
    jobs_in_process: bool | None = Field(
        default=None, description="Run background jobs inside the web process; default: yes without Redis."
    )
    demo: bool = Field(default=False, description="Serve the demo website pages at /demo.")
    country_header: str = Field(
        default="",
        max_length=100,
        pattern=r"^[A-Za-z0-9-]*$",
        description="Header a trusted proxy sets to the visitor's country (e.g. CF-IPCountry): visit.country.",
    )
    busy_cache_seconds: int = Field(
        default=60, ge=0, le=3600, description="Seconds an agent's busy times read from their calendar are reused."
    )
    meeting_reminders: Annotated[list[int], NoDecode] = Field(
        default=[1440, 60],
        max_length=5,
        description="Minutes before a meeting that the visitor gets a reminder (comma list; empty: none).",
    )
    outbound_concurrency: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="Outbound calls (calendars, feeds) web requests may wait on at once; more answer 503 at once.",
    )
    calendar_private_addresses: bool = Field(
        default=False, description="Let CalDAV and ICS feed URLs reach private addresses (a server on your LAN)."
    )
    integrations_private_addresses: bool = Field(
        default=False,
        description="Let an integration's API URL reach a private address (a fake Marketo on this machine, a proxy "
        "on your LAN).",
    )
    raw_data_retention_days: int = Field(
        default=90,
        ge=0,
        le=3650,
        description="Days raw events, page views and anonymous transcripts are kept; 0: kept for ever.",
    )
    outcome_retention_months: int = Field(
        default=24,
        ge=0,
        le=240,
        description="Months goal, meeting and acquisition activities and daily rollups are kept; 0: kept for ever.",
    )
    full_ip_addresses: bool = Field(
        default=False, description="Store whole IP addresses; by default IPv4 is cut to /24 and IPv6 to /48."
    )
    google_client_id: str = Field(default="", description="OAuth client id for Google Calendar; empty: not offered.")
    google_client_secret: SecretStr = Field(default=SecretStr(""), description="OAuth client secret for Google.")
    google_oauth_url: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth", description="Google's consent page."
    )
    google_token_url: str = Field(default="https://oauth2.googleapis.com/token", description="Google's token URL.")
    google_api_url: str = Field(
        default="https://www.googleapis.com/calendar/v3", description="Google Calendar API base URL."
    )
    microsoft_client_id: str = Field(default="", description="Entra app id for Outlook calendars; empty: not offered.")
    microsoft_client_secret: SecretStr = Field(default=SecretStr(""), description="Entra app client secret.")
    microsoft_tenant: str = Field(default="common", description="Entra tenant: common, organizations or a tenant id.")
    microsoft_login_url: str = Field(
        default="https://login.microsoftonline.com", description="Microsoft identity platform base URL."
    )
    microsoft_graph_url: str = Field(default="https://graph.microsoft.com/v1.0", description="Microsoft Graph URL.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file and not Path(config_file).is_file():
            raise SettingsError(f"{CONFIG_FILE_VARIABLE}: no such file: {config_file}")
        toml_path = Path(config_file) if config_file else DEFAULT_CONFIG_FILE
        return (
            init_settings,
            env_settings,
            _FileBackedSecrets(settings_cls),
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value:
            return value
        scheme = value.split("://", 1)[0]
        if scheme in ("postgres", "postgresql"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if scheme not in ("sqlite", "postgresql+psycopg"):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(f"must be at least {SECRET_KEY_MIN_LENGTH} characters long")
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http:// or https:// URL, such as https://chat.example.com")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        # Checked here because uvicorn's middleware silently takes a mistyped entry as a name no peer ever has.
        entries = []
        for entry in (part.strip() for part in value.split(",")):
            if entry == "*":
                raise ValueError(
                    "'*' would let any client choose the address it is counted under; list your proxies' "
                    "addresses or networks, such as 10.0.0.5,172.16.0.0/12"
                )
            try:
                # Written as uvicorn's middleware reads them (it takes 10.0.0.1/8 for a name, not a network).
                if entry:
                    entries.append(
                        str(ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry))
                    )
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network; use a comma list such as 127.0.0.1,10.0.0.0/8"
                ) from None
        return ",".join(entries)

    @field_validator("meeting_reminders", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # OVERTURE_MEETING_REMINDERS="1440,60" as well as a JSON list or a TOML array.
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part]
        return value

    @field_validator("meeting_reminders")
    @classmethod
    def _reminder_leads(cls, value: list[int]) -> list[int]:
        if any(not 5 <= minutes <= 14 * 24 * 60 for minutes in value):
            raise ValueError("each reminder is a number of minutes from 5 to 20160 (14 days) before the meeting")
        return sorted(set(value), reverse=True)

    @field_validator("outcome_retention_months")
    @classmethod
    def _outcomes_outlive_raw_data(cls, value: int, info: ValidationInfo) -> int:
        # A goal or a meeting must not go before the page views and clicks that led to it.
        raw = info.data.get("raw_data_retention_days")
        if value and raw is not None and (not raw or value * 31 < raw):
            kept = "for ever" if not raw else f"{raw} days"
            raise ValueError(
                f"{value} month{'s' if value > 1 else ''} is shorter than OVERTURE_RAW_DATA_RETENTION_DAYS keeps raw "
                f"data ({kept}); keep outcomes at least as long, or set 0 to keep them for ever"
            )
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'overture.db').resolve()}"
        if self.jobs_in_process is None:
            self.jobs_in_process = not self.redis_url
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


def load_settings(**overrides: Any) -> Settings:
    """Reads the settings; raises SettingsError naming the first bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line: the variable's name, the value given and what is allowed."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "settings"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{name}: unknown setting (see docs/configuration.md for the list)"
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float) and "secret" not in name else ""
    return f"{ENV_PREFIX}{name.upper()}: {message}{shown}"


def known_variables() -> frozenset[str]:
    """Every OVERTURE_* variable Overture reads: one per setting, NAME_FILE for file-backed secrets, OVERTURE_CONFIG."""
    names = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    names |= {f"{ENV_PREFIX}{name.upper()}_FILE" for name in FILE_BACKED}
    return frozenset(names | {CONFIG_FILE_VARIABLE})


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per OVERTURE_* variable of `environ` that no setting reads (a misspelling is otherwise silently
    ignored), with the closest known name when there is one."""
    known = known_variables()
    lines = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or name in TOOLING_VARIABLES:
            continue
        # Compared without the prefix they all share, which would make any two names look alike.
        suffixes = sorted(known_name.removeprefix(ENV_PREFIX) for known_name in known)
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), suffixes, n=1, cutoff=0.75)
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else " (see docs/configuration.md for the list)"
        lines.append(f"{name} is not a setting of Overture and is ignored{hint}")
    return lines


def resolve_secret_key(settings: Settings) -> str:
    """Returns the secret key: the configured one, else the one stored in the data folder, made on first start."""
    if settings.secret_key is not None:  # its length was checked with the other settings
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / SECRET_KEY_FILE_NAME
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written whole to a temporary file, then linked into place: when two processes start at once, the loser
    # of the race reads the winner's complete key.
    temporary = path.with_name(f".{SECRET_KEY_FILE_NAME}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        temporary.unlink()
    return key


def ensure_data_dir(settings: Settings) -> None:
    """Creates the data folder, or raises SettingsError when it cannot be."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{ENV_PREFIX}DATA_DIR: cannot create {settings.data_dir}: {exc.strerror}") from None
