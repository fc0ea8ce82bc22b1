"""The `coverage:` section of the jobs directory (jobs/coverage.yaml), validated by its own model.

Every field has a default, so an install without the section still gets a sensible report.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from afc.config.jobs import JobConfig, section

Endpoint = Literal["fixtures", "events", "lineups", "statistics", "fixture_players", "standings", "teams",
                   "players", "injuries", "odds", "top_scorers"]
ENDPOINTS: tuple[Endpoint, ...] = get_args(Endpoint)
DETAIL_PARTS = {"events": "events", "lineups": "lineups", "statistics": "statistics", "fixture_players": "players"}
# The league season's coverage flag (core.league_seasons) that says whether the API has the data.
FLAGS = {"events": "cov_events", "lineups": "cov_lineups", "statistics": "cov_statistics_fixtures",
         "fixture_players": "cov_statistics_players", "standings": "cov_standings", "players": "cov_players",
         "injuries": "cov_injuries", "odds": "cov_odds", "top_scorers": "cov_top_scorers"}
# The API's documented update cadence, with room for one missed run.
DEFAULT_MAX_LAG = {"fixtures": 1440, "events": 1440, "lineups": 1440, "statistics": 1440,
                   "fixture_players": 1440, "standings": 1440, "teams": 10080, "players": 10080,
                   "injuries": 1440, "odds": 360, "top_scorers": 1440}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Strict):
    """How much count, freshness and pipeline weigh in the overall score."""

    count: float = Field(0.6, ge=0)
    freshness: float = Field(0.25, ge=0)
    pipeline: float = Field(0.15, ge=0)

    @model_validator(mode="after")
    def _some(self) -> Weights:
        if self.count + self.freshness + self.pipeline <= 0:
            raise ValueError("at least one weight must be above 0")
        return self


class Thresholds(_Strict):
    """Overall scores below `warning` warn; below `critical` are critical."""

    warning: float = Field(90.0, ge=0, le=100)
    critical: float = Field(50.0, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.critical > self.warning:
            raise ValueError(f"critical ({self.critical:g}) must not be above warning ({self.warning:g})")
        return self


class Expectation(_Strict):
    """A user's expectation for one endpoint (optionally one league or league season)."""

    endpoint: Endpoint
    league: int | None = Field(None, gt=0)
    season: int | None = Field(None, ge=1900, le=2100)
    expected: int | None = Field(None, ge=0)
    percent: float | None = Field(None, ge=0, le=100)
    enabled: bool = True

    @model_validator(mode="after")
    def _one(self) -> Expectation:
        if self.season is not None and self.league is None:
            raise ValueError("season needs a league")
        if self.enabled and self.expected is None and self.percent is None:
            raise ValueError("give expected (a count), percent (the share wanted) or enabled: false")
        if self.expected is not None and self.percent is not None:
            raise ValueError("give expected or percent, not both")
        return self

    def matches(self, league: int, season: int, endpoint: str) -> bool:
        """Whether this target applies to one league season's endpoint."""
        return (self.endpoint == endpoint and self.league in (None, league)
                and self.season in (None, season))

    @property
    def rank(self) -> int:
        """More specific targets win: league season > league > everywhere."""
        return (self.league is not None) + (self.season is not None)


class CoverageConfig(_Strict):
    """The `coverage:` section: what to measure and how to score it."""

    endpoints: list[Endpoint] = Field(default_factory=lambda: list(ENDPOINTS))
    weights: Weights = Weights()
    thresholds: Thresholds = Thresholds()
    max_lag_minutes: dict[Endpoint, int] = Field(default_factory=dict)
    # Pre-match odds appear 1 to 14 days before kick-off: within a day of it every fixture has them.
    odds_window_days: int = Field(1, ge=1, le=14)
    targets: list[Expectation] = Field(default_factory=list)

    @field_validator("max_lag_minutes")
    @classmethod
    def _lags(cls, value: dict[str, int]) -> dict[str, int]:
        for endpoint, minutes in value.items():
            if minutes < 1:
                raise ValueError(f"{endpoint}: must be at least 1 minute, got {minutes}")
        return DEFAULT_MAX_LAG | value

    def max_lag(self, endpoint: str) -> int:
        """Minutes an endpoint may lag before its freshness drops."""
        lags: dict[str, int] = DEFAULT_MAX_LAG | dict(self.max_lag_minutes)
        return lags[endpoint]

    def target(self, league: int, season: int, endpoint: str) -> Expectation | None:
        """The most specific target for one league season's endpoint, if any."""
        found = [t for t in self.targets if t.matches(league, season, endpoint)]
        return max(found, key=lambda t: t.rank) if found else None


def coverage_config(config: JobConfig) -> CoverageConfig:
    """The validated `coverage:` section (defaults when there is none)."""
    return section(config, "coverage", CoverageConfig)
