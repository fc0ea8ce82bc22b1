"""Settings: read once at the edge (CLI, MCP entry) from flags, the environment and files.

Library code receives a `Settings` object and never reads `os.environ` itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from afc.errors import ConfigError

_KEY_TOKEN = re.compile(r"[\x21-\x7e]+")  # one printable ASCII token: what an HTTP header can carry

MAX_KEY = 256
DEFAULT_BASE_URL = "https://v3.football.api-sports.io"

# requests per day, requests per minute (reference §3)
PLANS: dict[str, tuple[int, int]] = {
    "free": (100, 10),
    "pro": (7_500, 300),
    "ultra": (75_000, 450),
    "mega": (150_000, 900),
}

Priority = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW"]
PRIORITIES: tuple[Priority, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW")

ENV_VARS = {
    "API_FOOTBALL_KEY": "api_key",
    "AFC_API_BASE_URL": "api_base_url",
    "AFC_DATABASE_URL": "database_url",
    "AFC_DATA_DIR": "data_dir",
    "AFC_JOBS_DIR": "jobs_dir",
    "AFC_PLAN": "plan",
    "AFC_DAILY_LIMIT": "daily_limit",
    "AFC_MINUTE_LIMIT": "minute_limit",
    "AFC_MIDNIGHT_GRACE": "midnight_grace",
    "AFC_ACCOUNT": "account",
    "AFC_CLOCK": "clock",
    "AFC_HTTP_TIMEOUT": "http_timeout",
    "AFC_MAX_BODY_MB": "max_body_mb",
    "AFC_LOG_FORMAT": "log_format",
    "AFC_METRICS_DIR": "metrics_dir",
    "CREDENTIALS_DIRECTORY": "credentials_dir",
    "AFC_MCP_TOKEN": "mcp_token",
    "AFC_DISPLAY_TZ": "display_tz",
}
HIDDEN = {"api_key", "mcp_token"}


class Floors(BaseModel):
    """Daily calls each priority must leave for the ones above it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    CRITICAL: int = Field(0, ge=0)
    HIGH: int = Field(100, ge=0)
    MEDIUM: int = Field(1000, ge=0)
    LOW: int = Field(1000, ge=0)


class Settings(BaseModel):
    """Everything afc needs to know about its environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = None
    api_base_url: str = DEFAULT_BASE_URL
    database_url: str | None = None
    data_dir: Path = Field(default_factory=lambda: default_data_dir(os.environ))
    jobs_dir: Path | None = None
    plan: Literal["free", "pro", "ultra", "mega"] = "pro"
    daily_limit: int | None = Field(None, ge=1, le=2**31 - 1)  # the ledger's integer columns
    minute_limit: int | None = Field(None, ge=1, le=2**31 - 1)
    # Seconds after 00:00 UTC in which a "daily quota spent" answer is taken for the API's old day.
    midnight_grace: int = Field(900, ge=0, le=3600)
    account: str = "default"
    floors: Floors | None = None
    clock: str | None = None
    http_timeout: float = Field(20.0, gt=0, le=3600)
    max_body_mb: float = Field(64, gt=0, le=4096)  # an answer's body is not read past this
    log_format: Literal["auto", "json", "text"] = "auto"
    metrics_dir: Path | None = None
    credentials_dir: Path | None = None  # systemd's LoadCredential= directory (alerts' SMTP password)
    mcp_token: SecretStr | None = None  # the bearer token `afc mcp http` requires (else a credentials file)
    # Where a person reads a day: local match dates in mart.daily_fixtures, CLI tables. Storage stays UTC.
    display_tz: str = "UTC"

    @field_validator("account")
    @classmethod
    def _account_token(cls, value: str) -> str:
        if not _KEY_TOKEN.fullmatch(value) or len(value) > 100:  # a key column of the ledger
            raise ValueError("must be one token of printable ASCII, at most 100 characters (no spaces)")
        return value

    @field_validator("display_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to an SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'afc.db'}"

    @property
    def max_body(self) -> int:
        """The body size cap in bytes."""
        return int(self.max_body_mb * 2**20)

    @property
    def limits(self) -> tuple[int, int]:
        """(daily, per-minute) request limits: the plan's, unless overridden."""
        day, minute = PLANS[self.plan]
        return self.daily_limit or day, self.minute_limit or minute

    @property
    def priority_floors(self) -> Floors:
        """Floors scaled to small plans: on Free, 1000 calls left would block everything."""
        if self.floors is not None:
            return self.floors
        daily = self.limits[0]
        return Floors(HIGH=min(100, daily // 20), MEDIUM=min(1000, daily // 10), LOW=min(1000, daily // 10))

    def require_key(self) -> str:
        """The API key, or a one-line error saying how to set it."""
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            raise ConfigError(
                "no API key: set API_FOOTBALL_KEY, or put the key in $CREDENTIALS_DIRECTORY/api_key "
                "(systemd LoadCredential=); try `afc demo` to run against the built-in sandbox"
            )
        return self.api_key.get_secret_value().strip()


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or a ValueError saying what a valid one looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as UTC, Europe/London "
                         "or America/Sao_Paulo") from None


def default_data_dir(env: Mapping[str, str]) -> Path:
    """$STATE_DIRECTORY under systemd, else $XDG_DATA_HOME/afc or ~/.local/share/afc."""
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "afc"


def check_key(value: str, source: str) -> str:
    """The key without its trailing newline, or a ConfigError (never showing it) unless it is one token.

    A second line (a comment, an old key) or a control character would travel in the request header,
    and httpx would quote the whole value in its "illegal header value" error.
    """
    key = value.rstrip("\r\n").strip(" \t")
    if key and not _KEY_TOKEN.fullmatch(key):
        lines = len(key.splitlines())
        what = f"{lines} lines" if lines > 1 else "a space, a control or a non-ASCII character"
        raise ConfigError(f"{source}: the API key must be one token of printable ASCII characters, "
                          f"got {what} ({len(key)} characters, not shown)")
    if len(key) > MAX_KEY:  # a key is 32 characters: this is a file read by mistake, and the API would answer 431
        raise ConfigError(f"{source}: the API key must be at most {MAX_KEY} characters, got {len(key)} (not shown)")
    return key


def read_credentials_key(env: Mapping[str, str], *, check: bool = True) -> str | None:
    """The key from systemd's credentials directory, if one was passed with LoadCredential=."""
    directory = env.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / "api_key"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the API key ({reason})") from None
    return (check_key(text, str(path)) if check else text.strip()) or None


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from the environment (or `env`), with CLI flags in `overrides` winning."""
    env = os.environ if env is None else env
    values: dict[str, object] = {"data_dir": default_data_dir(env)}
    key = read_credentials_key(env)
    if key:
        values["api_key"] = key
    for var, name in ENV_VARS.items():
        if env.get(var):
            values[name] = env[var]
    if env.get("API_FOOTBALL_KEY"):
        values["api_key"] = check_key(env["API_FOOTBALL_KEY"], "API_FOOTBALL_KEY")
    if isinstance(overrides.get("api_key"), str):
        overrides = {**overrides, "api_key": check_key(str(overrides["api_key"]), "--key")}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "settings"
        source = next((v for v, n in ENV_VARS.items() if n == field), field)
        got = values.get(field)
        shown = "<hidden>" if field in HIDDEN else repr(got)
        if err["type"] == "value_error":  # our own validators' messages already name what was wrong
            raise ConfigError(f"{source}: {err['ctx']['error']}") from None
        raise ConfigError(f"{source}: {err['msg'].lower()}, got {shown}") from None
