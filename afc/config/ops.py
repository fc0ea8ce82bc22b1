"""The `ops:` and `alerts:` sections of the jobs directory, validated by their own models.

Both are optional; every field has a default, so an install without them behaves sensibly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afc.config.bounds import MAX_DAYS, duration_seconds, known_names
from afc.config.jobs import JobConfig, check_schedule, section

GROUPS = ("bootstrap", "daily", "backfill", "coverage", "maintenance")
# Timer schedules (UTC) of the groups whose command runs all their work; `ops.schedules` overrides
# each, and `off` renders no timer for that group. Bootstrap follows its jobs' own schedules.
DEFAULT_SCHEDULES = {"daily": "hourly", "backfill": "30 21 * * *", "coverage": "15 6 * * *",
                     "maintenance": "40 2 * * *"}


def parse_duration(value: object) -> int:
    """Seconds from an int or a string such as `90s`, `15m`, `6h`, `90d` (at most a century)."""
    return duration_seconds(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BreakerConfig(_Strict):
    """When an endpoint's circuit opens and for how long."""

    threshold: int = Field(5, ge=1)
    cooldown_seconds: int = Field(60, ge=1)

    @field_validator("cooldown_seconds", mode="before")
    @classmethod
    def _cooldown(cls, value: object) -> int:
        return parse_duration(value)


class HealthConfig(_Strict):
    """What `afc health` counts as needing a person."""

    stale_factor: float = Field(2.0, gt=1)
    quota_below_percent: float = Field(5.0, ge=0, le=100)
    live_stall_minutes: int = Field(5, ge=1)
    coverage_critical_percent: float = Field(50.0, ge=0, le=100)


class OpsConfig(_Strict):
    """The `ops:` section: breaker, timer schedules per group, health thresholds, retention, backups."""

    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    schedules: dict[str, str] = Field(default_factory=dict)  # over DEFAULT_SCHEDULES; see group_schedules
    random_delay_seconds: int = Field(300, ge=0, le=3600)
    health: HealthConfig = Field(default_factory=HealthConfig)
    raw_retention_days: int = Field(90, ge=1, le=MAX_DAYS)
    backup_keep: int = Field(7, ge=1)
    backup_dir: Path | None = None

    @field_validator("random_delay_seconds", mode="before")
    @classmethod
    def _delay(cls, value: object) -> int:
        return parse_duration(value)

    @field_validator("schedules")
    @classmethod
    def _schedules(cls, value: dict[str, str]) -> dict[str, str]:
        for group, schedule in value.items():
            if group not in GROUPS:
                raise ValueError(f"unknown group {group!r}; groups are {', '.join(GROUPS)}")
            if schedule == "off":
                continue
            try:
                check_schedule(schedule)
            except ValueError as exc:
                raise ValueError(f"{group}: {exc}") from None
        return value


class SmtpConfig(_Strict):
    """Where alert e-mails go."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = True
    username: str | None = None
    password_file: Path | None = None
    timeout: float = Field(10.0, gt=0)

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _password_in_clear(self) -> SmtpConfig:
        if self.username and not self.starttls and self.host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("username without starttls would send the password in clear to "
                             f"{self.host}; set starttls: true (or relay through localhost)")
        return self


ALERT_KINDS = ("job_failed", "breaker_open", "quota_low", "coverage_critical", "live_stalled")


class AlertsConfig(_Strict):
    """The `alerts:` section: channels, which problems alert, and the repeat window."""

    webhook_url: str | None = None
    smtp: SmtpConfig | None = None
    repeat_after: int = Field(6 * 3600, ge=0)
    kinds: list[str] = Field(default_factory=lambda: list(ALERT_KINDS))
    timeout: float = Field(10.0, gt=0)

    @field_validator("repeat_after", mode="before")
    @classmethod
    def _repeat(cls, value: object) -> int:
        return parse_duration(value)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return known_names(value, ALERT_KINDS, "alert")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (the value is not shown: it is a secret)")
        return value


def group_schedules(ops: OpsConfig) -> dict[str, str]:
    """Each group's timer schedule: the defaults, overridden by the ops section, `off` removed."""
    merged = DEFAULT_SCHEDULES | ops.schedules
    return {group: text for group, text in merged.items() if text != "off"}


def ops_config(config: JobConfig) -> OpsConfig:
    """The validated `ops:` section (defaults when there is none)."""
    return section(config, "ops", OpsConfig)


def alerts_config(config: JobConfig) -> AlertsConfig:
    """The validated `alerts:` section (defaults, no channels, when there is none)."""
    return section(config, "alerts", AlertsConfig)


def describe(value: Any) -> str:
    """A duration in seconds as the shortest exact unit (`3600` → `1h`)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}s"
