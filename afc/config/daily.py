"""The `daily:` section of the jobs directory: how far the daily job's fan-outs over core look."""

from __future__ import annotations

from datetime import datetime, timedelta

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
    # Near kick-off: a league day whose next fixture kicks off within `odds_final_hours` is fetched every
    # `odds_final_every_hours` instead (0 = off), buying a sharper closing line with quota.
    odds_final_hours: float = Field(0, ge=0, le=14 * 24)
    odds_final_every_hours: float = Field(1, gt=0)
    batch_size: int = Field(MAX_IDS, ge=1, le=MAX_IDS)
    predictions_days_ahead: int = Field(2, ge=0, le=14)  # predictions for fixtures this far ahead (0: off)


def odds_cadence(conf: DailySettings, now: datetime, next_kickoff: datetime) -> timedelta:
    """How often a league day's odds are fetched: sharper within `odds_final_hours` of its next kick-off."""
    if conf.odds_final_hours and next_kickoff - now <= timedelta(hours=conf.odds_final_hours):
        return timedelta(hours=conf.odds_final_every_hours)
    return timedelta(hours=conf.odds_every_hours)


def daily_settings(config: JobConfig) -> DailySettings:
    """The validated `daily:` section (defaults when absent)."""
    return section(config, "daily", DailySettings)
