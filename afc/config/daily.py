"""The `daily:` section of the jobs directory: how far the daily job's fan-outs over core look."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from afc.config.jobs import JobConfig, section

MAX_IDS = 20  # the API's limit of fixture ids per `ids=` call


class DailySettings(BaseModel):
    """The `daily:` section of the jobs directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    details_lookback_days: int = Field(3, ge=1, le=60)  # older finished fixtures are backfill's work
    sweep_days: int = Field(14, ge=1, le=120)  # re-check PST/TBD/stuck fixtures this far either side
    stuck_after_hours: float = Field(3, gt=0)  # in play (or NS) this long after kick-off = stuck
    odds_days_ahead: int = Field(2, ge=1, le=14)  # odds exist 1-14 days before a fixture
    odds_every_hours: float = Field(3, gt=0)  # the documented cadence: 1 call per 3 h
    batch_size: int = Field(MAX_IDS, ge=1, le=MAX_IDS)
    predictions_days_ahead: int = Field(2, ge=0, le=14)  # predictions for fixtures this far ahead (0: off)


def daily_settings(config: JobConfig) -> DailySettings:
    """The validated `daily:` section (defaults when absent)."""
    return section(config, "daily", DailySettings)
