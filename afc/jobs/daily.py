"""`afc daily`: today's work, as configured in jobs/daily.yaml (every enabled job of type `daily`)."""

from __future__ import annotations

import logging

from afc.collect.collector import Collector
from afc.config.daily import daily_settings
from afc.config.jobs import Job
from afc.errors import ConfigError
from afc.jobs.dry_run import DryRun, dry_run
from afc.jobs.run import JobReport, run_jobs

log = logging.getLogger("afc.daily")


def select(collector: Collector) -> list[Job]:
    """The enabled daily jobs in dependency order (the `daily:` section validated first)."""
    daily_settings(collector.config)
    jobs = collector.config.of_type("daily")
    if not jobs:
        raise ConfigError(f"{collector.config.directory}: no enabled jobs of type daily; add some "
                          "(see the shipped jobs/daily.yaml)")
    return jobs


def daily(collector: Collector) -> list[JobReport]:
    """Run every daily job (each expands against the database as the earlier ones left it), then settle
    the live panel: no fixture stays shown in play past `afc.marts.live.SETTLE_AFTER`, even if no call
    could re-check it."""
    reports = run_jobs(collector, select(collector), "daily")
    settle_live(collector)
    return reports


def settle_live(collector: Collector) -> int:
    """Fixtures left "live" on the panel past the bound go, at any age; how many did."""
    from afc.marts.live import settle

    with collector.db.transaction():
        settled = settle(collector.db, collector.now())
    if settled:
        log.info("live panel: %d fixture(s) left in play past kick-off + 4 h taken off", settled)
    return settled


def plan(collector: Collector) -> list[DryRun]:
    """The requests each daily job would make now, without calling the API.

    Jobs that fan out over core (details, standings, odds, sweep) are planned from the database as it
    is now, before the fixtures-by-date calls would refresh it.
    """
    return [dry_run(collector, job.job_id) for job in select(collector)]
