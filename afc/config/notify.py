"""The `notify:` section (jobs/notify.yaml): where match events are pushed and how delivery retries.

Secrets are never in the file: a webhook names its HMAC secret and an ntfy topic its token by the
name of a file in the credentials directory (systemd LoadCredential=), read only when sending.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afc.config.bounds import duration_seconds, known_names
from afc.config.jobs import JobConfig, section

# Every kind of event the outbox writes (docs/notify.md documents each one's fields).
EVENT_KINDS = ("kickoff", "goal", "goal_disallowed", "goal_cancelled", "red_card", "penalty_missed", "half_time",
               "full_time", "score_corrected", "postponed", "cancelled", "abandoned", "lineups_confirmed",
               "correction")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_CREDENTIAL = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _duration(value: object, maximum: int) -> int:
    return duration_seconds(value, minimum=0, maximum=maximum)


class Target(BaseModel):
    """One destination: a generic webhook or an ntfy topic, with what it wants to hear about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: Literal["webhook", "ntfy"]
    url: str
    topic: str | None = None  # ntfy only
    secret: str | None = None  # webhook: credential file holding the HMAC secret (required)
    token: str | None = None  # ntfy: credential file holding an access token (optional)
    leagues: list[int] = Field(default_factory=list)  # empty: every league
    teams: list[int] = Field(default_factory=list)  # empty: every team
    kinds: list[str] = Field(default_factory=list)  # empty: every kind

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"must be lowercase letters, digits, _ and -, got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip()) if value.isprintable() else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host (the value is not shown: "
                             "a webhook URL can hold a secret)")
        if parts.username or parts.password:
            raise ValueError("must not carry user:password; put a secret in the credentials directory")
        return value.strip()

    @field_validator("secret", "token")
    @classmethod
    def _credential(cls, value: str | None) -> str | None:
        if value is not None and not _CREDENTIAL.fullmatch(value):
            raise ValueError("must name a file in the credentials directory (letters, digits, _.-); the value is "
                             "not shown: it may be the secret itself")
        return value

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not _TOPIC.fullmatch(value):
            raise ValueError("must be letters, digits, _ and - (at most 64; the value is not shown: a topic is a "
                             "password on a public ntfy server)")
        return value

    @field_validator("leagues", "teams")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(not 1 <= i <= 2**31 - 1 for i in value):
            raise ValueError(f"ids are positive integers, got {value!r}")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        return known_names(value, EVENT_KINDS, "event kind")

    @model_validator(mode="after")
    def _by_type(self) -> Target:
        if self.type == "webhook" and self.secret is None:
            raise ValueError("secret: a webhook needs a secret (a file in the credentials directory)")
        if self.type == "ntfy" and self.topic is None:
            raise ValueError("topic: an ntfy target needs a topic")
        if self.type == "webhook" and (self.topic or self.token):
            raise ValueError("topic and token are for ntfy targets; a webhook signs with its secret")
        if self.type == "ntfy" and self.secret:
            raise ValueError("secret is for webhooks; an ntfy target authenticates with a token")
        parts = urlsplit(self.url)
        if self.token and parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("token: an http:// URL would send the token in clear; use https:// (or a server on "
                             "localhost)")
        return self

    def credentials(self) -> list[str]:
        """The credential file names this target reads."""
        return [name for name in (self.secret, self.token) if name]

    def wants(self, kind: str, league: int | None, teams: tuple[int | None, ...]) -> bool:
        """Whether an event of `kind` in `league` between `teams` passes this target's filters."""
        return ((not self.kinds or kind in self.kinds) and (not self.leagues or league in self.leagues)
                and (not self.teams or any(team in self.teams for team in teams)))


class NotifyConfig(BaseModel):
    """Targets and delivery policy; durations take `500ms`-free forms: seconds, `30s`, `5m`, `1h`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[Target] = Field(default_factory=list)
    poll_interval: float = Field(0.5, gt=0, le=60)  # seconds between looks at the outbox when idle
    timeout: float = Field(5.0, gt=0, le=120)  # per delivery attempt, connect to last byte
    max_attempts: int = Field(8, ge=1, le=100)  # then the delivery is dead-lettered
    backoff: int = Field(5, ge=1)  # first retry after this, doubling, capped at max_backoff
    max_backoff: int = Field(600, ge=1)
    lease: int = Field(60, ge=1)  # a claimed delivery is retried by another process after this
    batch: int = Field(50, ge=1, le=1000)  # deliveries claimed at once
    start_window: int = Field(3600, ge=0)  # a new target starts with the events of this last span
    backlog_minutes: int = Field(5, ge=1)  # `afc health` flags a pending event older than this
    keep: int = Field(30 * 86400, ge=86400)  # settled events are deleted after this (replay reaches back as far)

    @field_validator("backoff", "max_backoff", "lease", "start_window", "keep", mode="before")
    @classmethod
    def _durations(cls, value: object) -> int:
        return _duration(value, 3650 * 86400)

    @model_validator(mode="after")
    def _lease(self) -> NotifyConfig:
        if self.lease <= self.timeout:
            raise ValueError(f"lease: must be longer than timeout ({self.timeout:g}s), or a slow send is "
                             f"claimed twice; got {self.lease}s")
        return self

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: list[Target]) -> list[Target]:
        names = [t.name for t in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names must be unique; repeated: {', '.join(twice)}")
        return value


def notify_config(config: JobConfig) -> NotifyConfig:
    """The validated `notify:` section (no targets when there is none)."""
    return section(config, "notify", NotifyConfig)
