"""Dry runs: what a job would request and what it would cost, without calling the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.api.client import PAGED, Request
from afc.collect.collector import Collector
from afc.config.daily import daily_settings, odds_cadence
from afc.config.jobs import JobConfig
from afc.config.ops import group_schedules, ops_config
from afc.config.schedule import parse
from afc.db import Database
from afc.jobs.expand import expand
from afc.jobs.targets import last_fetch, upcoming

LAST_PAGES = """
SELECT paging_total FROM raw.responses WHERE endpoint = %s AND params = %s AND paging_total IS NOT NULL
ORDER BY id DESC LIMIT 1"""


@dataclass(frozen=True)
class RequestCost:
    """One request and its estimated cost in calls."""

    request: str
    calls: int
    paged: bool


@dataclass(frozen=True)
class DryRun:
    """A job's dry run."""

    job_id: str
    priority: str
    requests: list[RequestCost]
    calls: int
    available: int
    note: str | None = None  # what the job's schedule costs beyond this run (the odds cadence)


@dataclass(frozen=True)
class OddsOutlook:
    """What the odds job's cadence costs over the next hours, as the daily timer would run it."""

    hours: int
    calls: int
    near_kickoff: int  # of those, calls made at the sharper near-kick-off cadence

    def __str__(self) -> str:
        return (f"odds cadence: ~{self.calls} calls over the next {self.hours} h"
                f" ({self.near_kickoff} at the near-kick-off cadence)")


def pages(db: Database, request: Request) -> int:
    """Calls a request costs: 1, or for paged endpoints the page count seen last time (else 1)."""
    if request.endpoint not in PAGED:
        return 1
    from afc.db import dump_json

    row = db.fetchone(LAST_PAGES, (request.endpoint, dump_json(request.query)))
    return max(1, int(row[0])) if row else 1


def dry_run(collector: Collector, job_id: str) -> DryRun:
    """The requests `job_id` would make now and their cost."""
    job = collector.config.job(job_id)
    requests = expand(job, collector.config, collector.db, collector.now())
    planned = [RequestCost(str(r), pages(collector.db, r), r.endpoint in PAGED) for r in requests]
    note = str(odds_outlook(collector.config, collector.db, collector.now())) \
        if job.for_each == "odds_upcoming" else None
    return DryRun(job.job_id, job.priority, planned, sum(p.calls for p in planned),
                  collector.ledger.available(job.priority), note)


def odds_outlook(config: JobConfig, db: Database, now: datetime, hours: int = 24) -> OddsOutlook:
    """Replay the odds cadence at each run of the daily timer over the next `hours` (fixtures as held now)."""
    conf = daily_settings(config)
    step = timedelta(seconds=parse(group_schedules(ops_config(config)).get("daily", "hourly")).period)
    end = now + timedelta(hours=hours)
    days = upcoming(config, db, now, end + timedelta(days=conf.odds_days_ahead))
    last = {day: last_fetch(db, Request.of("odds", dict(day))) for day in days}
    cost = {day: pages(db, Request.of("odds", dict(day))) for day in days}
    calls = near = 0
    at = now
    while at < end:
        for day, kickoffs in days.items():
            ahead = [k for k in kickoffs if at <= k < at + timedelta(days=conf.odds_days_ahead)]
            fetched = last[day]
            cadence = odds_cadence(conf, at, ahead[0]) if ahead else None
            if cadence is not None and (fetched is None or at - fetched >= cadence):
                last[day] = at
                calls += cost[day]
                near += cost[day] if cadence != timedelta(hours=conf.odds_every_hours) else 0
        at += step
    return OddsOutlook(hours, calls, near)
