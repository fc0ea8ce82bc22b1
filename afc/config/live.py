"""The `live:` section of the jobs directory: which leagues the loop follows and how often."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from afc.config.bounds import league_id
from afc.config.jobs import JobConfig, section
from afc.config.ops import parse_duration
from afc.errors import ConfigError

_DURATIONS = ("interval", "lead", "lag_window", "live_window", "recheck_delay", "retry_delay", "max_sleep",
              "match_length", "lineups_lead", "lineups_every", "statistics_every", "odds_live_every")
STATISTICS_REFRESH = 60  # the API refreshes in-play statistics once a minute: asking more often buys nothing


class LiveConfig(BaseModel):
    """How the live loop follows matches; durations in seconds (YAML takes `15s`, `10m`, `3h`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leagues: list[int] | Literal["all"] | None = None  # None: the tracked leagues
    interval: int = Field(15, ge=1)  # between two /fixtures?live= calls while matches are on
    lead: int = Field(300, ge=0)  # start polling this long before a kickoff
    lag_window: int = Field(3 * 3600, ge=0)  # a started fixture not yet final keeps polling this long
    live_window: int = Field(6 * 3600, ge=0)  # a fixture stuck "live" counts this long (at most SETTLE_AFTER)
    recheck_delay: int = Field(30 * 60, ge=0)  # details fetched again this long after full time
    retry_delay: int = Field(10 * 60, ge=0)  # a details fetch that found no final status tries again
    attempts: int = Field(3, ge=1)  # details fetches per fixture before the daily job takes over
    max_sleep: int = Field(60, ge=1)  # re-read the schedule (and beat) at least this often
    match_length: int = Field(2 * 3600, ge=60)  # a match's in-play time, for the quota budget
    max_batches: int = Field(5, ge=1)  # ids= calls per iteration, so ticks stay on time
    # The match day around the live list (afc.live.matchday); 0 turns a kind off.
    lineups_lead: int = Field(40 * 60, ge=0)  # look for confirmed lineups from this long before kickoff
    lineups_every: int = Field(5 * 60, ge=60)  # ... this often, until every fixture has both lineups
    statistics_every: int = Field(5 * 60, ge=0)  # in-play statistics (one ids= call per 20 live fixtures)
    odds_live: list[int] = Field(default_factory=list)  # leagues whose in-play odds are wanted (opt-in)
    odds_live_every: int = Field(60, ge=5)  # one /odds/live call per such league in play, this often

    @field_validator(*_DURATIONS, mode="before")
    @classmethod
    def _duration(cls, value: object) -> int:
        return parse_duration(value)

    @field_validator("statistics_every")
    @classmethod
    def _statistics_every(cls, value: int) -> int:
        if 0 < value < STATISTICS_REFRESH:
            raise ValueError(f"must be 0 (off) or at least {STATISTICS_REFRESH}s: the API refreshes in-play "
                             f"statistics once a minute, got {value}s")
        return value

    @field_validator("odds_live")
    @classmethod
    def _odds_live(cls, value: list[int]) -> list[int]:
        if any(league <= 0 for league in value):
            raise ValueError(f"league ids are positive integers, got {value!r}")
        return sorted(set(value))

    @field_validator("leagues")
    @classmethod
    def _leagues(cls, value: list[int] | str | None) -> list[int] | str | None:
        if isinstance(value, list) and any(league <= 0 for league in value):
            raise ValueError(f"league ids are positive integers, got {value!r}")
        return value


def live_config(config: JobConfig, **overrides: object) -> LiveConfig:
    """The validated `live:` section with command-line overrides on top (defaults when absent)."""
    return section(config, "live", LiveConfig, **overrides)


def leagues_of(live: LiveConfig, config: JobConfig) -> list[int] | None:
    """The league ids to follow (None: every league, `live=all`); a one-line error when there are none."""
    if live.leagues == "all":
        return None
    leagues = live.leagues if live.leagues is not None else list(dict.fromkeys(t.league for t in config.tracked))
    if not leagues:
        raise ConfigError(f"{config.directory}: no leagues to follow live; add a `tracked:` list or "
                          "set live.leagues (or pass --leagues)")
    return sorted(set(leagues))


def followed(config: JobConfig) -> list[int] | None:
    """The leagues `afc live-loop` follows without --leagues (None: every league; []: none, it cannot run)."""
    live = live_config(config)
    if live.leagues != "all" and not live.leagues and not config.tracked:
        return []
    return leagues_of(live, config)


def parse_leagues(text: str | None) -> list[int] | Literal["all"] | None:
    """`--leagues 39,140` or `39-140` or `all` → ids; a one-line error on anything else."""
    if text is None:
        return None
    if text.strip().lower() == "all":
        return "all"
    parts = [p for p in text.replace("-", ",").split(",") if p.strip()]
    if not parts or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise ConfigError(f"--leagues: expected league ids such as 39,140 or 'all', got {text!r}")
    return [league_id("--leagues", p.strip()) for p in parts]
